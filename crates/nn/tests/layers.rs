//! Parameterless layers, Sequential and the functional activations.

use nabla_autograd::{manual_seed, Tensor};
use nabla_nn::functional as F;
use nabla_nn::{
    Dropout, Flatten, Forward, Identity, Layer, Linear, LogSoftmax, ModuleExt, ReLU, Sequential, Sigmoid, Softmax, Tanh,
};

fn close(a: &Tensor, b: &Tensor) {
    assert_eq!(a.shape(), b.shape());
    for (x, y) in a.to_vec::<f32>().iter().zip(b.to_vec::<f32>()) {
        assert!((x - y).abs() < 1e-6, "{x} vs {y}");
    }
}

#[test]
fn activations_match_their_tensor_methods_and_functions() {
    manual_seed(0);
    let x = Tensor::randn(&[3, 4]);
    close(&ReLU::new().forward(&x), &x.relu());
    close(&F::relu(&x), &x.relu());
    close(&Sigmoid::new().forward(&x), &x.sigmoid());
    close(&F::sigmoid(&x), &x.sigmoid());
    close(&Tanh::new().forward(&x), &x.tanh());
    close(&F::tanh(&x), &x.tanh());
    close(&Softmax::new(-1).forward(&x), &x.softmax(1));
    close(&F::softmax(&x, 0), &x.softmax(0));
    close(&LogSoftmax::new(1).forward(&x), &x.log_softmax(1));
    close(&F::log_softmax(&x, 1), &x.log_softmax(-1));
    assert!(Identity::new().forward(&x).same_as(&x));
    for layer in
        [&ReLU as &dyn Layer, &Sigmoid, &Tanh, &Softmax::new(0), &LogSoftmax::new(0), &Flatten::new(), &Identity]
    {
        assert!(layer.parameters().is_empty());
    }
}

#[test]
fn flatten_defaults_to_all_but_the_batch_dim() {
    let x = Tensor::zeros(&[2, 3, 4, 5]);
    assert_eq!(Flatten::new().forward(&x).shape(), vec![2, 60]);
    assert_eq!(Flatten::default().forward(&x).shape(), vec![2, 60]);
    assert_eq!(Flatten::with_dims(1, 2).forward(&x).shape(), vec![2, 12, 5]);
    assert_eq!(Flatten::with_dims(0, -1).forward(&x).shape(), vec![120]);
}

#[test]
fn sequential_names_layers_by_index_and_chains_them() {
    manual_seed(1);
    let inner = Sequential::new().add(Linear::new(3, 3)).add(Tanh::new());
    let model = Sequential::new().add(Flatten::new()).add(Linear::new(6, 3)).add(ReLU::new()).add(inner);
    let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["1.weight", "1.bias", "3.0.weight", "3.0.bias"]);
    assert_eq!((model.len(), model.is_empty()), (4, false));
    assert_eq!(format!("{model:?}"), "Sequential(4 layers)");

    let x = Tensor::randn(&[5, 2, 3]);
    let y = model.forward(&x);
    let by_hand = (0..4).fold(x.clone(), |h, i| model.get(i).unwrap().forward(&h));
    close(&y, &by_hand);
    assert_eq!(y.shape(), vec![5, 3]);
    assert!(model.get(4).is_none());
}

#[test]
fn sequential_accepts_boxed_layers_and_starts_empty() {
    let empty = Sequential::new();
    let x = Tensor::ones(&[2]);
    assert!(empty.forward(&x).same_as(&x));
    let boxed: Vec<Box<dyn Layer>> = vec![Box::new(Linear::new(2, 2)), Box::new(Dropout::new(0.5))];
    let mut model = Sequential::from(boxed);
    model.push(Box::new(ReLU::new()) as Box<dyn Layer>);
    assert_eq!(model.len(), 3);
    assert_eq!(model.parameters().len(), 2);
}
