//! `functional::linear` (one fused op, gradchecked) and the `Linear` layer.

use nabla_autograd::{gradcheck, manual_seed, no_grad, AutogradError, Tensor};
use nabla_nn::functional::linear;
use nabla_nn::{Forward, Linear, ModuleExt};

fn param(shape: &[usize]) -> Tensor {
    Tensor::randn(shape).double().requires_grad_(true)
}

#[test]
fn gradcheck_with_and_without_bias_for_1d_2d_and_3d_input() {
    manual_seed(0);
    for x_shape in [&[3][..], &[4, 3], &[2, 5, 3]] {
        let (x, w, b) = (param(x_shape), param(&[2, 3]), param(&[2]));
        gradcheck(|t| linear(&t[0], &t[1], Some(&t[2])), &[x.clone(), w.clone(), b]).unwrap();
        gradcheck(|t| linear(&t[0], &t[1], None), &[x, w]).unwrap();
    }
}

#[test]
fn gradcheck_when_only_some_inputs_need_grad() {
    manual_seed(1);
    let x = Tensor::randn(&[4, 3]).double();
    gradcheck(|t| linear(&t[0], &t[1], Some(&t[2])), &[x.clone(), param(&[2, 3]), param(&[2])]).unwrap();
    let w = Tensor::randn(&[2, 3]).double();
    gradcheck(|t| linear(&t[0], &t[1], None), &[param(&[4, 3]), w]).unwrap();
}

#[test]
fn matches_matmul_plus_bias_and_records_one_node() {
    manual_seed(2);
    let x = Tensor::randn(&[2, 3, 4]);
    let fc = Linear::new(4, 5);
    let y = fc.forward(&x);
    let reference = x.matmul(&fc.weight.t()) + fc.bias.as_ref().unwrap();
    assert_eq!(y.shape(), vec![2, 3, 5]);
    for (a, b) in y.to_vec::<f32>().iter().zip(reference.to_vec::<f32>()) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    assert_eq!(y.grad_fn_name(), Some("linear"));
}

#[test]
fn works_on_a_strided_input() {
    manual_seed(3);
    let x = Tensor::randn(&[4, 3]).t(); // [3, 4], not contiguous
    let fc = Linear::new(4, 2);
    let reference = x.contiguous().matmul(&fc.weight.t()) + fc.bias.as_ref().unwrap();
    // The two layouts may take different product kernels, which sum in different orders.
    for (a, b) in fc.forward(&x).to_vec::<f32>().iter().zip(reference.to_vec::<f32>()) {
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn default_init_is_uniform_within_one_over_sqrt_in_features() {
    manual_seed(4);
    let fc = Linear::new(100, 300);
    let bound = 0.1f32;
    for p in fc.parameters() {
        let v = p.to_vec::<f32>();
        assert!(v.iter().all(|x| x.abs() <= bound), "values within +-1/sqrt(in)");
        // U(-b, b) has mean 0 and std b / sqrt(3).
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / v.len() as f32).sqrt();
        assert!(mean.abs() < 0.2 * bound, "mean {mean}");
        assert!((std - bound / 3f32.sqrt()).abs() < 0.1 * bound, "std {std}");
        assert!(v.iter().any(|x| x.abs() > 0.9 * bound), "the range is used");
    }
    assert_eq!((fc.in_features(), fc.out_features()), (100, 300));
    assert_eq!(fc.weight.shape(), vec![300, 100]);
    assert!(fc.weight.requires_grad() && fc.bias.as_ref().unwrap().requires_grad());
}

#[test]
fn no_bias_layer_has_only_a_weight() {
    let fc = Linear::new_no_bias(3, 2);
    assert!(fc.bias.is_none());
    assert_eq!(fc.named_parameters().len(), 1);
    assert_eq!(format!("{fc:?}"), "Linear(in_features=3, out_features=2, bias=false)");
    assert_eq!(Linear::with_bias(3, 2, true).parameters().len(), 2);
    let empty = Linear::new(0, 2);
    assert_eq!(empty.forward(&Tensor::zeros(&[5, 0])).to_vec::<f32>(), vec![0.0; 10]);
}

#[test]
fn backward_after_an_in_place_weight_update_fails_like_pytorch() {
    let fc = Linear::new(3, 2);
    let loss = fc.forward(&Tensor::ones(&[1, 3]).requires_grad_(true)).sum();
    {
        let _g = no_grad();
        fc.weight.fill_(0.0);
    }
    let err = loss.try_backward(None, false).unwrap_err();
    assert!(matches!(err, AutogradError::ModifiedInPlace { op: "linear", .. }), "{err:?}");
}

#[test]
#[should_panic(expected = "linear: input [2, 4] must have 3 features in its last dim to match weight [2, 3]")]
fn wrong_input_features_panic_with_the_shapes() {
    Linear::new(3, 2).forward(&Tensor::zeros(&[2, 4]));
}

#[test]
#[should_panic(expected = "linear: bias [3] must have shape [2]")]
fn wrong_bias_shape_panics() {
    linear(&Tensor::zeros(&[1, 3]), &Tensor::zeros(&[2, 3]), Some(&Tensor::zeros(&[3])));
}

#[test]
#[should_panic(expected = "linear: weight must be 2-D")]
fn non_matrix_weight_panics() {
    linear(&Tensor::zeros(&[1, 3]), &Tensor::zeros(&[3]), None);
}
