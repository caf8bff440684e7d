//! BatchNorm1d/2d: outputs, gradients, running statistics and evaluation outputs
//! against PyTorch (`fixtures/batch_norm.json`, written by
//! `tools/fixtures/gen_batchnorm.py`) with the state loaded under PyTorch's names;
//! finite-difference gradient checks; and the errors.

mod common;

use std::collections::BTreeMap;

use common::Array;
use nabla_autograd::{gradcheck, DType, Tensor};
use nabla_nn::functional::{batch_norm, RunningStats};
use nabla_nn::{BatchNorm, BatchNorm1d, BatchNorm2d, BatchNormOptions, Forward, ModuleExt};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    torch_version: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    layer: String,
    num_features: usize,
    eps: f64,
    momentum: Option<f64>,
    affine: bool,
    track_running_stats: bool,
    initial_state: BTreeMap<String, Array>,
    x1: Array,
    x2: Array,
    x3: Array,
    y2: Array,
    grad_output: Array,
    grad_x2: Array,
    grad_weight: Option<Array>,
    grad_bias: Option<Array>,
    state_after: BTreeMap<String, Array>,
    y3_eval: Array,
}

fn assert_close(what: &str, got: &Tensor, expected: &Array) {
    assert_eq!(got.shape(), expected.shape, "{what}: shape");
    let got = got.to_dtype(DType::F64).to_vec::<f64>();
    for (i, (g, e)) in got.iter().zip(&expected.data).enumerate() {
        assert!((g - e).abs() <= 1e-5 * (1.0 + e.abs()), "{what}[{i}]: {g} vs torch {e}");
    }
}

/// The fixture's layer (f32) with its initial state loaded under PyTorch's names.
fn layer<const D: usize>(case: &Case) -> BatchNorm<D> {
    let options = BatchNormOptions {
        eps: case.eps,
        momentum: case.momentum,
        affine: case.affine,
        track_running_stats: case.track_running_stats,
    };
    let bn = BatchNorm::<D>::with_options(case.num_features, options);
    let state = case.initial_state.iter().map(|(k, v)| (k.clone(), v.array(dtype_of(k)))).collect();
    let missing = bn.load_state_dict(&state, true).unwrap();
    assert!(missing.is_empty(), "{}: {missing:?}", case.name);
    bn
}

fn dtype_of(name: &str) -> DType {
    if name == "num_batches_tracked" {
        DType::I64
    } else {
        DType::F32
    }
}

fn check_case<const D: usize>(case: &Case) {
    let bn = layer::<D>(case);
    bn.train();
    bn.forward(&case.x1.tensor(DType::F32));
    let x2 = case.x2.tensor(DType::F32).requires_grad_(true);
    let y2 = bn.forward(&x2);
    assert_close(&format!("{} y2", case.name), &y2, &case.y2);
    y2.mul(&case.grad_output.tensor(DType::F32)).sum().backward();
    assert_close(&format!("{} grad x2", case.name), &x2.grad().unwrap(), &case.grad_x2);
    for (what, param, expected) in [("weight", &bn.weight, &case.grad_weight), ("bias", &bn.bias, &case.grad_bias)] {
        assert_eq!(param.is_some(), expected.is_some(), "{}: {what} presence", case.name);
        if let (Some(p), Some(e)) = (param, expected) {
            assert_close(&format!("{} grad {what}", case.name), &p.grad().unwrap(), e);
        }
    }
    let state = bn.state_dict();
    assert_eq!(state.keys().collect::<Vec<_>>(), case.state_after.keys().collect::<Vec<_>>(), "{}", case.name);
    for (name, expected) in &case.state_after {
        assert_close(&format!("{} state {name}", case.name), &Tensor::new(state[name].clone()), expected);
    }
    bn.eval();
    assert_close(&format!("{} eval output", case.name), &bn.forward(&case.x3.tensor(DType::F32)), &case.y3_eval);
}

#[test]
fn batch_norm_matches_pytorch_in_training_and_evaluation() {
    let fixture: Fixture = serde_json::from_str(include_str!("fixtures/batch_norm.json")).unwrap();
    assert!(fixture.torch_version.starts_with('2'), "fixture from torch {}", fixture.torch_version);
    assert_eq!(fixture.cases.len(), 8);
    for case in &fixture.cases {
        match case.layer.as_str() {
            "BatchNorm1d" => check_case::<1>(case),
            "BatchNorm2d" => check_case::<2>(case),
            other => panic!("unknown layer {other}"),
        }
    }
}

#[test]
fn batch_norm_gradients_match_finite_differences() {
    let x = Tensor::randn(&[3, 2, 3, 2]).double().requires_grad_(true);
    let w = Tensor::randn(&[2]).double().requires_grad_(true);
    let b = Tensor::randn(&[2]).double().requires_grad_(true);
    let (mean, var) = (Tensor::zeros(&[2]).double(), Tensor::ones(&[2]).double());
    for training in [true, false] {
        gradcheck(
            |t| {
                let running = RunningStats { mean: &mean, var: &var };
                batch_norm(&t[0], Some(running), Some(&t[1]), Some(&t[2]), training, 0.1, 1e-5)
            },
            &[x.clone(), w.clone(), b.clone()],
        )
        .unwrap();
    }
    let x1d = Tensor::randn(&[4, 3]).double().requires_grad_(true);
    gradcheck(|t| batch_norm(&t[0], None, None, None, true, 0.1, 1e-5), &[x1d]).unwrap();
}

#[test]
fn num_batches_tracked_counts_training_passes_only() {
    let bn = BatchNorm1d::new(2);
    let x = Tensor::randn(&[4, 2]);
    bn.forward(&x);
    bn.forward(&x);
    bn.eval();
    bn.forward(&x);
    let count = bn.num_batches_tracked.as_ref().unwrap();
    assert_eq!((count.dtype(), count.to_vec::<i64>()), (DType::I64, vec![2]));
    assert_eq!(bn.parameters().len(), 2);
    assert_eq!(
        format!("{bn:?}"),
        "BatchNorm1d(2, eps=0.00001, momentum=Some(0.1), affine=true, track_running_stats=true)"
    );
}

fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let err = std::panic::catch_unwind(f).expect_err("expected a panic");
    err.downcast_ref::<String>().cloned().or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string())).unwrap()
}

#[test]
fn bad_inputs_are_rejected_with_the_shapes() {
    let message = panic_message(|| {
        BatchNorm2d::new(3).forward(&Tensor::zeros(&[1, 3, 1, 1]));
    });
    assert!(message.contains("more than 1 value per channel when training, got input size [1, 3, 1, 1]"), "{message}");
    let message = panic_message(|| {
        BatchNorm2d::new(3).forward(&Tensor::zeros(&[2, 4, 2, 2]));
    });
    assert!(message.contains("BatchNorm2d: input [2, 4, 2, 2] has 4 channels (dim 1), expected 3"), "{message}");
    let message = panic_message(|| {
        BatchNorm2d::new(3).forward(&Tensor::zeros(&[2, 3, 2]));
    });
    assert!(message.contains("BatchNorm2d: expected a [4]-D input, got shape [2, 3, 2]"), "{message}");
    let message = panic_message(|| {
        BatchNorm1d::new(3).forward(&Tensor::zeros(&[2, 3, 2, 2]));
    });
    assert!(message.contains("BatchNorm1d: expected a [2, 3]-D input"), "{message}");
    let message = panic_message(|| {
        batch_norm(&Tensor::zeros(&[2, 3]), None, Some(&Tensor::ones(&[2])), None, true, 0.1, 1e-5);
    });
    assert!(message.contains("batch_norm: weight [2] must be [3] for input [2, 3]"), "{message}");
    // One value per channel is fine in evaluation, with running statistics.
    let bn = BatchNorm2d::new(3);
    bn.eval();
    assert_eq!(bn.forward(&Tensor::ones(&[1, 3, 1, 1])).shape(), vec![1, 3, 1, 1]);
}
