//! End to end against PyTorch: the tutorial CNN of `examples/mnist_cnn.rs` (without
//! `--batchnorm`) trained for 8 steps of Adam(lr 1e-3) on cross-entropy, one batch of 32
//! MNIST training images each, from PyTorch's initial weights, must follow PyTorch's
//! trajectory: the loss of every step and the final weights. The fixture
//! (`fixtures/cnn_trajectory.json.gz`, written by `tools/fixtures/gen_cnn_trajectory.py`;
//! no Python or data set needed here) holds the images as pixel bytes, the labels, the
//! initial and final state dicts under PyTorch's names, and the losses of a float64 and
//! a float32 run.

mod common;

use std::collections::BTreeMap;
use std::io::Read;

use common::Array;
use nabla_autograd::{DType, Tensor};
use nabla_nn::functional::cross_entropy;
use nabla_nn::{Conv2d, ConvOptions, Flatten, Forward, Linear, MaxPool2d, Module, ModuleExt, StateDict};
use nabla_optim::{Adam, Optimizer};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    torch_version: String,
    lr: f64,
    batch_size: usize,
    /// Pixel bytes 0..255, `[N, 1, 28, 28]`.
    images: Array,
    labels: Vec<i64>,
    initial_state: BTreeMap<String, Array>,
    losses: Vec<f64>,
    final_state: BTreeMap<String, Array>,
    losses_f32: Vec<f64>,
}

fn fixture() -> Fixture {
    let gz: &[u8] = include_bytes!("fixtures/cnn_trajectory.json.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz).read_to_string(&mut text).expect("fixtures/cnn_trajectory.json.gz is gzip");
    let fixture: Fixture = serde_json::from_str(&text).expect("fixtures/cnn_trajectory.json.gz is valid");
    assert!(fixture.torch_version.starts_with('2'), "fixture from torch {}", fixture.torch_version);
    fixture
}

/// The network of `examples/mnist_cnn.rs` without batch norm (there each conv sits in a
/// `ConvBlock` with an absent norm, which is the conv alone), with the fields named as in
/// `Cnn` of `tools/torch_net.py`, so PyTorch's state dict loads by name.
#[derive(Module)]
#[module(crate = "nabla_nn")]
struct Cnn {
    conv1: Conv2d,
    conv2: Conv2d,
    conv3: Conv2d,
    pool: MaxPool2d,
    flatten: Flatten,
    fc1: Linear,
    fc2: Linear,
}

impl Cnn {
    /// As `Cnn::new(false)` in the example: float32, PyTorch's default initialisation.
    fn new() -> Self {
        Cnn::from_layers(
            Conv2d::new(1, 32, 3),
            Conv2d::new(32, 64, 3),
            Conv2d::new(64, 64, 3),
            Linear::new(64 * 3 * 3, 64),
            Linear::new(64, 10),
        )
    }

    fn from_layers(conv1: Conv2d, conv2: Conv2d, conv3: Conv2d, fc1: Linear, fc2: Linear) -> Self {
        Cnn { conv1, conv2, conv3, pool: MaxPool2d::new(2), flatten: Flatten::new(), fc1, fc2 }
    }

    /// The network with the initial parameters of the fixture (by PyTorch's names) in
    /// `dtype`. They are float32 values, written with 9 digits: read as f32, they are
    /// exactly PyTorch's.
    fn with_initial_state(state: &BTreeMap<String, Array>, dtype: DType) -> Self {
        let param = |name: &str| state[name].tensor(DType::F32).to_dtype(dtype).requires_grad_(true);
        let conv = |name: &str| Conv2d {
            weight: param(&format!("{name}.weight")),
            bias: Some(param(&format!("{name}.bias"))),
            options: ConvOptions::new(),
        };
        let linear = |name: &str| Linear {
            weight: param(&format!("{name}.weight")),
            bias: Some(param(&format!("{name}.bias"))),
        };
        Cnn::from_layers(conv("conv1"), conv("conv2"), conv("conv3"), linear("fc1"), linear("fc2"))
    }
}

impl Forward for Cnn {
    /// Class logits `[N, 10]` of images `[N, 1, 28, 28]`, as the example computes them.
    fn forward(&self, x: &Tensor) -> Tensor {
        let x = self.pool.forward(&self.conv1.forward(x).relu()); // [N, 32, 13, 13]
        let x = self.pool.forward(&self.conv2.forward(&x).relu()); // [N, 64, 5, 5]
        let x = self.flatten.forward(&self.conv3.forward(&x).relu()); // [N, 576]
        self.fc2.forward(&self.fc1.forward(&x).relu())
    }
}

/// Batch `step` in `dtype`: images normalised as the generator does, in f64, then cast.
fn batch(fixture: &Fixture, step: usize, dtype: DType) -> (Tensor, Tensor) {
    let (n, pixels) = (fixture.batch_size, 28 * 28);
    let rows = step * n..(step + 1) * n;
    let x: Vec<f64> = fixture.images.data[rows.start * pixels..rows.end * pixels]
        .iter()
        .map(|p| (p / 255.0 - 0.1307) / 0.3081)
        .collect();
    let x = Tensor::from_vec(x, &[n, 1, 28, 28]).to_dtype(dtype);
    (x, Tensor::from_vec(fixture.labels[rows].to_vec(), &[n]))
}

/// Trains `net` as the generator does; the loss of every step.
fn train(net: &Cnn, fixture: &Fixture, dtype: DType) -> Vec<f64> {
    let mut opt = Adam::new(net.parameters(), fixture.lr);
    (0..fixture.losses.len())
        .map(|step| {
            let (x, y) = batch(fixture, step, dtype);
            opt.zero_grad();
            let loss = cross_entropy(&net.forward(&x), &y);
            assert_eq!(loss.dtype(), dtype);
            loss.backward();
            opt.step();
            loss.item()
        })
        .collect()
}

/// The largest `|got - want| / |want|` of the losses, asserting each is within `rtol`.
#[track_caller]
fn check_losses(what: &str, got: &[f64], want: &[f64], rtol: f64) -> f64 {
    assert_eq!(got.len(), want.len());
    let mut worst = 0f64;
    for (step, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs() / w.abs();
        assert!(err <= rtol, "{what}: the loss of step {step} is {g}, PyTorch's {w} (relative error {err:.2e})");
        worst = worst.max(err);
    }
    worst
}

/// The largest error of `net`'s parameters against `want`, relative to each tensor's
/// largest magnitude (elements near zero have no meaningful relative error of their own),
/// asserting each is within `rtol`.
#[track_caller]
fn check_weights(what: &str, net: &Cnn, want: &BTreeMap<String, Array>, rtol: f64) -> f64 {
    let params = net.named_parameters();
    assert_eq!(params.len(), want.len(), "{what}: parameter count");
    let mut worst = 0f64;
    for (name, p) in &params {
        let want = want.get(name).unwrap_or_else(|| panic!("{what}: no torch parameter {name}"));
        assert_eq!(p.shape(), want.shape, "{what}: {name} shape");
        let scale = want.data.iter().fold(0f64, |m, v| m.max(v.abs()));
        for (i, (g, w)) in p.to_vec::<f64>().iter().zip(&want.data).enumerate() {
            let err = (g - w).abs() / scale;
            assert!(err <= rtol, "{what}: {name}[{i}] is {g}, PyTorch's {w} (error {err:.2e} of max |{name}| {scale})");
            worst = worst.max(err);
        }
    }
    worst
}

#[test]
fn eight_adam_steps_follow_pytorch_in_f64() {
    let fixture = fixture();
    let net = Cnn::with_initial_state(&fixture.initial_state, DType::F64);
    check_weights("initial f64", &net, &fixture.initial_state, 1e-8);
    let losses = train(&net, &fixture, DType::F64);
    let loss_err = check_losses("f64", &losses, &fixture.losses, 1e-12);
    let weight_err = check_weights("final f64", &net, &fixture.final_state, 1e-9);
    println!("f64: max relative error of the losses {loss_err:.2e}, of the final weights {weight_err:.2e}");
}

#[test]
fn eight_adam_steps_follow_pytorch_in_f32() {
    let fixture = fixture();
    // The example's network, its default weights replaced through a torch state dict.
    let net = Cnn::new();
    let state: StateDict = fixture.initial_state.iter().map(|(k, v)| (k.clone(), v.array(DType::F32))).collect();
    net.load_state_dict(&state, true).expect("PyTorch's state dict fits the example's network");
    check_weights("initial f32", &net, &fixture.initial_state, 1e-8);
    let losses = train(&net, &fixture, DType::F32);
    let loss_err = check_losses("f32", &losses, &fixture.losses_f32, 1e-5);
    // Against the f64 run: an Adam step divides the gradient by its own running size, so
    // a weight whose gradient is near zero (below eps = 1e-8, computed by cancellation)
    // moves by up to lr per step on f32 rounding alone; about 4e-4 is seen.
    let weight_err = check_weights("final f32", &net, &fixture.final_state, 5e-3);
    println!("f32: max relative error of the losses {loss_err:.2e}, of the final weights (vs f64) {weight_err:.2e}");
}
