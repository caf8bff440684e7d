//! `nn::init`: sample statistics on large tensors, PyTorch's gains and fans, and
//! orthogonality.

use nabla_autograd::{manual_seed, DType, Tensor};
use nabla_nn::init::{self, FanMode, Nonlinearity};

/// Mean and (population) standard deviation.
fn stats(t: &Tensor) -> (f64, f64) {
    let v = t.to_vec::<f64>();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    (mean, (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt())
}

fn assert_stats(t: &Tensor, mean: f64, std: f64) {
    let (m, s) = stats(t);
    assert!((m - mean).abs() < 0.05 * std, "mean {m}, expected {mean}");
    assert!((s - std).abs() < 0.02 * std, "std {s}, expected {std}");
}

fn param(shape: &[usize]) -> Tensor {
    Tensor::zeros(shape).requires_grad_(true)
}

#[test]
fn uniform_and_normal_have_the_requested_moments() {
    manual_seed(0);
    let t = param(&[200, 500]);
    init::uniform_(&t, -1.0, 3.0);
    let v = t.to_vec::<f32>();
    assert!(v.iter().all(|&x| (-1.0..=3.0).contains(&x)));
    assert_stats(&t, 1.0, 4.0 / 12f64.sqrt());
    init::normal_(&t, -2.0, 0.5);
    assert_stats(&t, -2.0, 0.5);
    assert!(t.requires_grad() && t.is_leaf(), "init keeps the tensor a trainable leaf");
}

#[test]
fn constants() {
    let t = param(&[3, 2]);
    init::constant_(&t, 0.25);
    assert_eq!(t.to_vec::<f32>(), vec![0.25; 6]);
    init::ones_(&t);
    assert_eq!(t.to_vec::<f32>(), vec![1.0; 6]);
    init::zeros_(&t);
    assert_eq!(t.to_vec::<f32>(), vec![0.0; 6]);
    let t64 = Tensor::zeros(&[2]).double();
    init::ones_(&t64);
    assert_eq!(t64.dtype(), DType::F64, "the dtype is kept");
}

#[test]
fn gains_match_pytorch() {
    use Nonlinearity::*;
    for nl in [Linear, Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, Sigmoid] {
        assert_eq!(init::calculate_gain(nl, None), 1.0);
    }
    assert_eq!(init::calculate_gain(Tanh, None), 5.0 / 3.0);
    assert_eq!(init::calculate_gain(Relu, Some(0.3)), 2f64.sqrt());
    assert_eq!(init::calculate_gain(Selu, None), 0.75);
    assert!((init::calculate_gain(LeakyRelu, None) - (2.0 / 1.0001f64).sqrt()).abs() < 1e-12);
    assert!((init::calculate_gain(LeakyRelu, Some(5f64.sqrt())) - (1.0 / 3f64).sqrt()).abs() < 1e-12);
}

#[test]
fn fans_include_the_receptive_field() {
    assert_eq!(init::calculate_fan_in_and_fan_out(&Tensor::zeros(&[10, 20])), (20, 10));
    assert_eq!(init::calculate_fan_in_and_fan_out(&Tensor::zeros(&[16, 3, 5, 5])), (75, 400));
}

#[test]
fn xavier_scales_by_fan_in_plus_fan_out() {
    manual_seed(1);
    let t = param(&[300, 500]);
    let gain = 2.0;
    init::xavier_uniform_(&t, gain);
    let std = gain * (2.0 / 800.0f64).sqrt();
    let bound = 3f64.sqrt() * std;
    assert!(t.to_vec::<f64>().iter().all(|x| x.abs() <= bound + 1e-6));
    assert_stats(&t, 0.0, std);
    init::xavier_normal_(&t, gain);
    assert_stats(&t, 0.0, std);
}

#[test]
fn kaiming_scales_by_the_chosen_fan() {
    manual_seed(2);
    let t = param(&[200, 100, 3]); // fan_in 300, fan_out 600
    init::kaiming_normal_(&t, 0.0, FanMode::FanIn, Nonlinearity::Relu);
    assert_stats(&t, 0.0, (2.0 / 300.0f64).sqrt());
    init::kaiming_normal_(&t, 0.0, FanMode::FanOut, Nonlinearity::Relu);
    assert_stats(&t, 0.0, (2.0 / 600.0f64).sqrt());
    init::kaiming_uniform_(&t, 0.0, FanMode::FanIn, Nonlinearity::LeakyRelu);
    let bound = (6.0 / 300.0f64).sqrt();
    assert!(t.to_vec::<f64>().iter().all(|x| x.abs() <= bound + 1e-6));
    assert_stats(&t, 0.0, bound / 3f64.sqrt());
}

/// Max |(A A^T)_ij - I_ij| for `a` viewed as `[rows, cols]`.
fn gram_error(a: &Tensor, rows: usize) -> f64 {
    let a = a.double().reshape(&[rows as isize, -1]);
    let g = a.matmul(&a.t()).to_vec::<f64>();
    (0..rows * rows).map(|k| (g[k] - if k / rows == k % rows { 1.0 } else { 0.0 }).abs()).fold(0.0, f64::max)
}

#[test]
fn orthogonal_gives_orthonormal_rows_or_columns() {
    manual_seed(3);
    let wide = Tensor::zeros(&[20, 50]).double();
    init::orthogonal_(&wide, 1.0);
    assert!(gram_error(&wide, 20) < 1e-10, "W W^T = I for a wide matrix");

    let tall = Tensor::zeros(&[50, 20]);
    init::orthogonal_(&tall, 1.0);
    assert!(gram_error(&tall.t(), 20) < 1e-5, "W^T W = I for a tall matrix");

    let conv = Tensor::zeros(&[8, 2, 3, 3]).double();
    init::orthogonal_(&conv, 1.0);
    assert!(gram_error(&conv, 8) < 1e-10, "rows of the [out, in*k*k] view");

    let scaled = Tensor::zeros(&[10, 10]).double();
    init::orthogonal_(&scaled, 2.0);
    let g = scaled.matmul(&scaled.t()).to_vec::<f64>();
    assert!((g[0] - 4.0).abs() < 1e-10 && g[1].abs() < 1e-10, "gain scales W W^T to gain^2 I");
}

#[test]
fn empty_tensors_are_left_alone() {
    let t = Tensor::zeros(&[0, 5]);
    init::kaiming_uniform_(&t, 0.0, FanMode::FanIn, Nonlinearity::Relu);
    init::orthogonal_(&t, 1.0);
    assert_eq!(t.numel(), 0);
}

#[test]
#[should_panic(expected = "fan in and fan out can not be computed for a tensor with fewer than 2 dims")]
fn fans_need_two_dims() {
    init::xavier_uniform_(&Tensor::zeros(&[5]), 1.0);
}

#[test]
#[should_panic(expected = "orthogonal_: only tensors with 2 or more dims are supported")]
fn orthogonal_needs_two_dims() {
    init::orthogonal_(&Tensor::zeros(&[5]), 1.0);
}

#[test]
#[should_panic(expected = "normal_: expected a float tensor (f32 or f64), got i64")]
fn integer_tensors_are_refused() {
    init::normal_(&Tensor::zeros(&[2]).long(), 0.0, 1.0);
}
