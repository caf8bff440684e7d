//! `#[derive(Module)]` and `ModuleExt` on structs of every supported field kind.

use nabla_autograd::Tensor;
use nabla_nn::{Dropout, Forward, Layer, Linear, Module, ModuleExt, ReLU, Sequential, Visitor};

#[derive(Module)]
#[module(crate = "nabla_nn")]
struct Block {
    fc: Linear,
    dropout: Dropout,
}

#[derive(Module)]
#[module(crate = "nabla_nn")]
struct Net {
    embed: Linear,
    layers: Vec<Block>,
    head: Option<Linear>,
    missing: Option<Linear>,
    scale: Tensor,
    maybe_shift: Option<Tensor>,
    gates: Vec<Tensor>,
    #[module(buffer)]
    running_mean: Tensor,
    #[module(skip)]
    hidden: usize,
    seq: Sequential,
    boxed: Box<dyn Layer>,
}

fn net() -> Net {
    let p = |shape: &[usize]| Tensor::zeros(shape).requires_grad_(true);
    Net {
        embed: Linear::new(3, 4),
        layers: (0..2).map(|_| Block { fc: Linear::new(4, 4), dropout: Dropout::new(0.5) }).collect(),
        head: Some(Linear::new_no_bias(4, 2)),
        missing: None,
        scale: p(&[1]),
        maybe_shift: None,
        gates: vec![p(&[2]), p(&[3])],
        running_mean: Tensor::zeros(&[4]),
        hidden: 4,
        seq: Sequential::new().add(Linear::new(2, 2)).add(ReLU::new()).add(Dropout::new(0.1)),
        boxed: Box::new(Dropout::new(0.3)),
    }
}

#[test]
fn names_are_dotted_in_field_order() {
    let model = net();
    let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "embed.weight",
            "embed.bias",
            "layers.0.fc.weight",
            "layers.0.fc.bias",
            "layers.1.fc.weight",
            "layers.1.fc.bias",
            "head.weight",
            "scale",
            "gates.0",
            "gates.1",
            "seq.0.weight",
            "seq.0.bias",
        ]
    );
    assert_eq!(model.parameters().len(), 12);
    assert_eq!(model.num_params(), 12 + 4 + 2 * (16 + 4) + 8 + 1 + 5 + 6);
    let buffers: Vec<String> = model.named_buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(buffers, ["running_mean"]);
    let state = model.state_dict();
    let keys: Vec<&String> = state.keys().collect();
    assert_eq!(keys.len(), 13, "parameters and buffers: {keys:?}");
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "state dict keys are sorted");
    assert_eq!(model.hidden, 4);
}

#[test]
fn parameters_are_handles_to_the_model_tensors() {
    let model = net();
    let params = model.parameters();
    assert!(params[0].same_as(&model.embed.weight));
    assert!(params.iter().all(Tensor::requires_grad));
}

#[test]
fn train_and_eval_reach_every_dropout() {
    let model = net();
    let flags = |m: &Net| {
        let seq_dropout = m.seq.get(2).unwrap();
        // A dropout in eval mode is the identity; in training it zeroes some of 4096
        // elements (all kept with p = 0.1 has probability 0.9^4096).
        let x = Tensor::ones(&[4096]);
        let identity = |l: &dyn Layer| l.forward(&x).to_vec::<f32>() == x.to_vec::<f32>();
        vec![
            m.layers[0].dropout.is_training(),
            m.layers[1].dropout.is_training(),
            !identity(seq_dropout),
            !identity(&*m.boxed),
        ]
    };
    assert_eq!(flags(&model), [true; 4]);
    model.eval();
    assert_eq!(flags(&model), [false; 4]);
    model.train();
    assert_eq!(flags(&model), [true; 4]);
}

#[test]
fn zero_grad_clears_every_gradient() {
    let model = net();
    let loss = model.embed.forward(&Tensor::ones(&[2, 3])).sum() + model.scale.sum();
    loss.backward();
    assert!(model.embed.weight.grad().is_some() && model.scale.grad().is_some());
    model.zero_grad();
    assert!(model.parameters().iter().all(|p| p.grad().is_none()));
}

#[derive(Module)]
#[module(crate = "nabla_nn")]
struct Pair(Linear, #[module(skip)] f64, Tensor);

#[derive(Module)]
#[module(crate = "nabla_nn")]
struct Wrapper<M: Module> {
    inner: M,
}

#[derive(Module)]
#[module(crate = "nabla_nn")]
struct Empty;

#[test]
fn tuple_generic_and_unit_structs() {
    let pair = Pair(Linear::new(1, 1), 0.5, Tensor::ones(&[1]).requires_grad_(true));
    let names: Vec<String> = pair.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["0.weight", "0.bias", "2"]);
    assert_eq!(pair.1, 0.5);

    let w = Wrapper { inner: Linear::new(2, 1) };
    assert_eq!(w.named_parameters()[1].0, "inner.bias");
    assert!(Empty.parameters().is_empty());
    assert!(Empty.state_dict().is_empty());
}

/// Two names for one tensor (weight tying), written by hand.
struct Tied {
    shared: Tensor,
}

impl Module for Tied {
    fn visit(&self, v: &mut dyn Visitor) {
        v.param("encoder", &self.shared);
        v.param("decoder", &self.shared);
    }
}

#[test]
fn tied_parameters_are_listed_once_but_saved_under_both_names() {
    let m = Tied { shared: Tensor::ones(&[2]).requires_grad_(true) };
    let names: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["encoder"]);
    assert_eq!(m.state_dict().len(), 2);
}

/// A hand-written visit that repeats a name for two different tensors.
struct Clash {
    a: Tensor,
    b: Tensor,
}

impl Module for Clash {
    fn visit(&self, v: &mut dyn Visitor) {
        v.param("w", &self.a);
        v.buffer("w", &self.b);
    }
}

#[test]
#[should_panic(expected = "the module has two tensors named \"w\"")]
fn duplicate_names_are_a_programming_error() {
    Clash { a: Tensor::ones(&[1]), b: Tensor::ones(&[1]) }.state_dict();
}

#[test]
fn methods_work_on_trait_objects() {
    let boxed: Box<dyn Module> = Box::new(Linear::new(2, 3));
    assert_eq!(boxed.parameters().len(), 2);
    let by_ref: &dyn Module = &*boxed;
    assert_eq!(by_ref.named_parameters()[0].0, "weight");
}
