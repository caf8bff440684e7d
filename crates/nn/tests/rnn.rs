//! Embedding, LSTM, GRU and RNN: finite-difference gradient checks in f64 (2 layers,
//! bidirectional, batch first, variable lengths), padding invariance, and PyTorch's
//! golden values (`fixtures/rnn.json`, written by `tools/fixtures/gen_rnn.py`).

mod common;

use common::Array;
use nabla_autograd::{gradcheck, gradcheck_with, manual_seed, DType, GradcheckOptions, Tensor};
use nabla_nn::functional::{embedding, gru, lstm, rnn};
use nabla_nn::{Embedding, Forward, ModuleExt, RnnConfig, RnnNonlinearity, StateDict, GRU, LSTM, RNN};
use serde::Deserialize;
use std::sync::{Mutex, MutexGuard};

const KINDS: [&str; 4] = ["lstm", "gru", "rnn_tanh", "rnn_relu"];

/// Seeds the global generator and holds it until the guard drops. Tests run on parallel
/// threads and the generator is global (as torch's), so without the lock another test's
/// draws interleave with this one's and its inputs change from run to run: a ReLU
/// gradcheck then sometimes lands an input on the kink and fails.
fn seeded(seed: u64) -> MutexGuard<'static, ()> {
    static GENERATOR: Mutex<()> = Mutex::new(());
    let guard = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    manual_seed(seed);
    guard
}

fn gates(kind: &str) -> usize {
    match kind {
        "lstm" => 4,
        "gru" => 3,
        _ => 1,
    }
}

/// Random f64 parameters in torch's order and shapes, requiring grad.
fn params(kind: &str, input: usize, hidden: usize, config: &RnnConfig) -> Vec<Tensor> {
    let model = LSTM::with_config(input, hidden, *config); // only for the names' order
    let gh = gates(kind) * hidden;
    model
        .named_parameters()
        .iter()
        .map(|(name, p)| {
            let mut shape = p.shape();
            shape[0] = gh;
            assert!(name.contains("weight") || name.contains("bias"));
            (Tensor::randn(&shape).double() * 0.5).detach().requires_grad_(true)
        })
        .collect()
}

/// Runs `kind` over `x` from the given states; returns output and final states.
fn run(
    kind: &str,
    x: &Tensor,
    states: &[Tensor],
    params: &[Tensor],
    config: &RnnConfig,
    lengths: Option<&[usize]>,
) -> Vec<Tensor> {
    match kind {
        "lstm" => {
            let state = if states.is_empty() { None } else { Some((&states[0], &states[1])) };
            let (out, (h, c)) = lstm(x, state, params, config, false, lengths);
            vec![out, h, c]
        }
        "gru" => {
            let (out, h) = gru(x, states.first(), params, config, false, lengths);
            vec![out, h]
        }
        _ => {
            let act = if kind == "rnn_tanh" { RnnNonlinearity::Tanh } else { RnnNonlinearity::Relu };
            let (out, h) = rnn(x, states.first(), params, act, config, false, lengths);
            vec![out, h]
        }
    }
}

fn flat(ts: &[Tensor]) -> Tensor {
    Tensor::cat(&ts.iter().map(|t| t.reshape(&[-1])).collect::<Vec<_>>(), 0)
}

fn n_states(kind: &str) -> usize {
    if kind == "lstm" {
        2
    } else {
        1
    }
}

fn gradcheck_case(kind: &str, config: RnnConfig, lengths: Option<&[usize]>) {
    let (steps, batch, features, hidden) = (4, 3, 3, 4);
    let slots = config.num_layers * config.num_directions();
    let x_shape = if config.batch_first { [batch, steps, features] } else { [steps, batch, features] };
    let x = Tensor::randn(&x_shape).double().requires_grad_(true);
    let states: Vec<Tensor> =
        (0..n_states(kind)).map(|_| Tensor::randn(&[slots, batch, hidden]).double().requires_grad_(true)).collect();
    let ps = params(kind, features, hidden, &config);
    let mut inputs = vec![x];
    inputs.extend(states);
    inputs.extend(ps);
    let ns = n_states(kind);
    // ReLU's kink: with seed 1, one pre-activation of the two-layer bidirectional case
    // lies within 1e-6 of zero, so steps of 1e-4 to 1e-6 straddle it and the difference
    // averages two slopes; 1e-7 does not (f64 differences are still good to ~1e-9).
    let eps = if kind == "rnn_relu" { 1e-7 } else { GradcheckOptions::default().eps };
    let opts = GradcheckOptions { eps, ..GradcheckOptions::default() };
    gradcheck_with(|t| flat(&run(kind, &t[0], &t[1..1 + ns], &t[1 + ns..], &config, lengths)), &inputs, opts)
        .unwrap_or_else(|e| panic!("{kind} {config:?} lengths {lengths:?}: {e}"));
}

#[test]
fn gradcheck_one_layer() {
    let _seed = seeded(0);
    for kind in KINDS {
        gradcheck_case(kind, RnnConfig::default(), None);
    }
}

#[test]
fn gradcheck_two_layers_bidirectional_batch_first_with_lengths() {
    let _seed = seeded(1);
    let config = RnnConfig { num_layers: 2, bidirectional: true, batch_first: true, ..RnnConfig::default() };
    for kind in KINDS {
        gradcheck_case(kind, config, None);
        gradcheck_case(kind, config, Some(&[2, 4, 1]));
    }
}

#[test]
fn gradcheck_without_bias_and_unbatched() {
    let _seed = seeded(2);
    let config = RnnConfig { bias: false, bidirectional: true, ..RnnConfig::default() };
    for kind in KINDS {
        gradcheck_case(kind, config, Some(&[3, 4, 2]));
        let x = Tensor::randn(&[3, 3]).double().requires_grad_(true);
        let ps = params(kind, 3, 4, &RnnConfig::default());
        let mut inputs = vec![x];
        inputs.extend(ps);
        gradcheck(|t| flat(&run(kind, &t[0], &[], &t[1..], &RnnConfig::default(), None)), &inputs).unwrap();
    }
}

#[test]
fn gradcheck_embedding() {
    let _seed = seeded(3);
    let w = Tensor::randn(&[5, 3]).double().requires_grad_(true);
    let ids = Tensor::from_vec(vec![1i64, 4, 1, 0, 2, 1], &[2, 3]);
    gradcheck(|t| embedding(&ids, &t[0], None), std::slice::from_ref(&w)).unwrap();
    // The padding row gets no gradient, even though it is looked up.
    let out = embedding(&ids, &w, Some(1));
    out.sum().backward();
    let g = w.grad().unwrap().to_vec::<f64>();
    assert_eq!(&g[3..6], &[0.0; 3]);
    assert_eq!(&g[12..15], &[1.0; 3]);
}

/// Each sample of a padded batch, run alone at its own length, gives the same outputs
/// (zeros past its length), final states and gradients.
#[test]
fn padding_does_not_change_the_result() {
    let _seed = seeded(4);
    let config = RnnConfig { num_layers: 2, bidirectional: true, ..RnnConfig::default() };
    let lengths = [5usize, 2, 4];
    for kind in KINDS {
        let ps = params(kind, 3, 4, &config);
        let x = Tensor::randn(&[5, 3, 3]).double();
        let batched = run(kind, &x, &[], &ps, &config, Some(&lengths));
        let loss = batched.iter().map(|t| t.square().sum()).reduce(|a, b| a + b).unwrap();
        loss.backward();
        let batched_grads: Vec<Vec<f64>> = ps.iter().map(|p| p.grad().unwrap().to_vec::<f64>()).collect();
        let mut alone_grads = vec![vec![0.0; 0]; ps.len()];
        for (b, &len) in lengths.iter().enumerate() {
            ps.iter().for_each(Tensor::zero_grad);
            let xb = x.narrow(1, b, 1).narrow(0, 0, len);
            let alone = run(kind, &xb, &[], &ps, &config, None);
            let out_b = batched[0].narrow(1, b, 1);
            close(&out_b.narrow(0, 0, len).to_vec::<f64>(), &alone[0].to_vec::<f64>(), 1e-12, kind);
            if len < 5 {
                assert!(
                    out_b.narrow(0, len, 5 - len).to_vec::<f64>().iter().all(|&v| v == 0.0),
                    "{kind}: padded outputs"
                );
            }
            for k in 1..batched.len() {
                close(&batched[k].narrow(1, b, 1).to_vec::<f64>(), &alone[k].to_vec::<f64>(), 1e-12, kind);
            }
            alone.iter().map(|t| t.square().sum()).reduce(|a, b| a + b).unwrap().backward();
            for (acc, p) in alone_grads.iter_mut().zip(&ps) {
                let g = p.grad().unwrap().to_vec::<f64>();
                if acc.is_empty() {
                    *acc = g;
                } else {
                    acc.iter_mut().zip(g).for_each(|(a, v)| *a += v);
                }
            }
        }
        for (a, b) in batched_grads.iter().zip(&alone_grads) {
            close(a, b, 1e-10, kind);
        }
    }
}

/// A batch big enough to be split into parts gives what its halves give when run
/// alone (each half split into fewer parts).
#[test]
fn a_batch_split_into_parts_matches_its_halves() {
    let _seed = seeded(7);
    let config = RnnConfig { bidirectional: true, ..RnnConfig::default() };
    let (batch, hidden) = (128, 64);
    let lengths: Vec<usize> = (0..batch).map(|b| 1 + b % 5).collect();
    for kind in KINDS {
        let ps = params(kind, 3, hidden, &config);
        let x = Tensor::randn(&[5, batch, 3]).double().requires_grad_(true);
        let loss = |outs: &[Tensor]| outs.iter().map(|t| t.sum()).reduce(|a, b| a + b).unwrap();
        let whole = run(kind, &x, &[], &ps, &config, Some(&lengths));
        loss(&whole).backward();
        let whole_grads: Vec<Vec<f64>> = ps.iter().map(|p| p.grad().unwrap().to_vec::<f64>()).collect();
        let gx = x.grad().unwrap();
        ps.iter().for_each(Tensor::zero_grad);
        let half = batch / 2;
        let xs: Vec<Tensor> = (0..2).map(|i| x.detach().narrow(1, i * half, half).requires_grad_(true)).collect();
        for (i, xh) in xs.iter().enumerate() {
            let part = run(kind, xh, &[], &ps, &config, Some(&lengths[i * half..(i + 1) * half]));
            for (w, p) in whole.iter().zip(&part) {
                close(&w.narrow(w.dim() as isize - 2, i * half, half).to_vec::<f64>(), &p.to_vec::<f64>(), 1e-12, kind);
            }
            loss(&part).backward();
            close(&gx.narrow(1, i * half, half).to_vec::<f64>(), &xh.grad().unwrap().to_vec::<f64>(), 1e-12, kind);
        }
        for (w, p) in whole_grads.iter().zip(&ps) {
            close(w, &p.grad().unwrap().to_vec::<f64>(), 1e-10, kind);
        }
    }
}

fn close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{what}: element {i}: {x} vs {y}");
    }
}

#[test]
fn modules_have_torch_names_shapes_and_init() {
    let _seed = seeded(5);
    let lstm = LSTM::with_config(6, 8, RnnConfig { num_layers: 2, bidirectional: true, ..RnnConfig::default() });
    let named = lstm.named_parameters();
    let names: Vec<&str> = named.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(&names[..5], ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l0_reverse"]);
    assert_eq!(names.len(), 16);
    assert_eq!(named[8].1.shape(), vec![32, 16]); // weight_ih_l1: input is both directions
    let bound = 1.0 / 8f32.sqrt();
    assert!(lstm.parameters().iter().all(|p| p.to_vec::<f32>().iter().all(|v| v.abs() <= bound)));
    assert_eq!(GRU::new(3, 5).named_parameters()[1].1.shape(), vec![15, 5]);
    let rnn = RNN::with_config(3, 5, RnnNonlinearity::Relu, RnnConfig { bias: false, ..RnnConfig::default() });
    assert_eq!(rnn.named_parameters().len(), 2);
    assert_eq!(format!("{lstm:?}"), "LSTM(6, 8, num_layers=2, bidirectional=true)");
    let emb = Embedding::with_padding_idx(100, 4, 3);
    let w = emb.weight.to_vec::<f32>();
    assert_eq!(&w[12..16], &[0.0; 4]);
    let std = (w.iter().map(|v| v * v).sum::<f32>() / 396.0).sqrt();
    assert!((std - 1.0).abs() < 0.15, "N(0, 1) init, got std {std}");
}

#[test]
fn dropout_between_layers_only_in_training() {
    let _seed = seeded(6);
    let config = RnnConfig { num_layers: 2, dropout: 0.5, ..RnnConfig::default() };
    let lstm = LSTM::with_config(3, 4, config);
    let x = Tensor::randn(&[5, 2, 3]);
    lstm.eval();
    let (a, _) = lstm.forward(&x, None);
    let (b, _) = lstm.forward(&x, None);
    assert_eq!(a.to_vec::<f32>(), b.to_vec::<f32>());
    lstm.train();
    let (c, _) = lstm.forward(&x, None);
    assert_ne!(a.to_vec::<f32>(), c.to_vec::<f32>());
}

#[test]
fn embedding_from_pretrained_and_freeze() {
    let w = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
    let frozen = Embedding::from_pretrained(&w, true);
    assert!(!frozen.weight.requires_grad());
    let ids = Tensor::from_vec(vec![1i64, 0], &[2]);
    assert_eq!(frozen.forward(&ids).to_vec::<f32>(), vec![3.0, 4.0, 1.0, 2.0]);
    assert!(Embedding::from_pretrained(&w, false).weight.requires_grad());
}

#[test]
#[should_panic(
    expected = "embedding: index 7 at position [1, 0] of the input [2, 2] is out of range: valid indices are 0..5"
)]
fn embedding_out_of_range_names_index_position_and_range() {
    let _seed = seeded(9);
    let emb = Embedding::new(5, 2);
    emb.forward(&Tensor::from_vec(vec![1i64, 2, 7, 0], &[2, 2]));
}

#[test]
#[should_panic(expected = "lstm: length 6 of sample 1 is outside 1..=5")]
fn lengths_beyond_the_padded_length_panic() {
    let _seed = seeded(9);
    LSTM::new(3, 4).forward_with_lengths(&Tensor::randn(&[5, 2, 3]), &[5, 6], None);
}

#[test]
#[should_panic(expected = "lstm: input [5, 2, 4] must have input_size=3 features, got 4")]
fn wrong_input_size_panics() {
    let _seed = seeded(9);
    LSTM::new(3, 4).forward(&Tensor::randn(&[5, 2, 4]), None);
}

// ---------------------------------------------------------------------------------------
// Golden values from PyTorch
// ---------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct Fixture {
    torch_version: String,
    cases: Vec<Case>,
    embedding: EmbeddingCase,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    kind: String,
    num_layers: usize,
    bias: bool,
    batch_first: bool,
    bidirectional: bool,
    lengths: Option<Vec<usize>>,
    params: std::collections::BTreeMap<String, Array>,
    input: Array,
    initial_states: Vec<Array>,
    output: Array,
    finals: Vec<Array>,
    loss_weights: Vec<Array>,
    grad_input: Array,
    grad_initial_states: Vec<Array>,
    grad_params: std::collections::BTreeMap<String, Array>,
}

#[derive(Deserialize)]
struct EmbeddingCase {
    weight: Array,
    padding_idx: usize,
    ids: Array,
    output: Array,
    loss_weights: Array,
    grad_weight: Array,
}

fn fixture() -> Fixture {
    serde_json::from_str(include_str!("fixtures/rnn.json")).expect("fixtures/rnn.json is valid")
}

/// `got` within `rtol` (relative, with an absolute floor of `rtol / 10`) of torch's.
fn assert_close(got: &Tensor, want: &Array, rtol: f64, what: &str) {
    assert_eq!(got.shape(), want.shape, "{what}: shape");
    for (i, (g, w)) in got.to_vec::<f64>().iter().zip(&want.data).enumerate() {
        assert!((g - w).abs() <= rtol * (0.1 + w.abs()), "{what}: element {i}: got {g}, torch {w}");
    }
}

/// Builds the module of `case` in f32, loads torch's state dict into it, and checks the
/// forward values and every gradient; in f64 through the functional form.
#[test]
fn matches_pytorch_rnn_layers() {
    let fx = fixture();
    assert!(!fx.torch_version.is_empty());
    for case in &fx.cases {
        let config = RnnConfig {
            num_layers: case.num_layers,
            bias: case.bias,
            batch_first: case.batch_first,
            bidirectional: case.bidirectional,
            ..RnnConfig::default()
        };
        let (input, hidden) = (case.input.shape[2], case.params["weight_hh_l0"].shape[1]);
        let state: StateDict = case.params.iter().map(|(k, v)| (k.clone(), v.array(DType::F32))).collect();
        let params: Vec<Tensor> = match case.kind.as_str() {
            "lstm" => {
                let m = LSTM::with_config(input, hidden, config);
                m.load_state_dict(&state, true).unwrap();
                m.parameters()
            }
            "gru" => {
                let m = GRU::with_config(input, hidden, config);
                m.load_state_dict(&state, true).unwrap();
                m.parameters()
            }
            kind => {
                let act = if kind == "rnn_tanh" { RnnNonlinearity::Tanh } else { RnnNonlinearity::Relu };
                let m = RNN::with_config(input, hidden, act, config);
                m.load_state_dict(&state, true).unwrap();
                m.parameters()
            }
        };
        check_case(case, &config, &params, DType::F32, 1e-5);
        let params64: Vec<Tensor> =
            config.param_names().iter().map(|n| case.params[n].tensor(DType::F64).requires_grad_(true)).collect();
        check_case(case, &config, &params64, DType::F64, 1e-10);
    }
}

fn check_case(case: &Case, config: &RnnConfig, params: &[Tensor], dtype: DType, rtol: f64) {
    let name = format!("{} ({dtype})", case.name);
    let x = case.input.tensor(dtype).requires_grad_(true);
    let states: Vec<Tensor> = case.initial_states.iter().map(|s| s.tensor(dtype).requires_grad_(true)).collect();
    let outs = run(&case.kind, &x, &states, params, config, case.lengths.as_deref());
    assert_close(&outs[0], &case.output, rtol, &format!("{name} output"));
    for (k, (got, want)) in outs[1..].iter().zip(&case.finals).enumerate() {
        assert_close(got, want, rtol, &format!("{name} final state {k}"));
    }
    let loss = outs.iter().zip(&case.loss_weights).map(|(o, w)| (o * &w.tensor(dtype)).sum()).reduce(|a, b| a + b);
    loss.unwrap().backward();
    assert_close(&x.grad().unwrap(), &case.grad_input, rtol, &format!("{name} grad input"));
    for (k, (s, want)) in states.iter().zip(&case.grad_initial_states).enumerate() {
        assert_close(&s.grad().unwrap(), want, rtol, &format!("{name} grad initial state {k}"));
    }
    for (pname, p) in config.param_names().iter().zip(params) {
        assert_close(&p.grad().unwrap(), &case.grad_params[pname], rtol, &format!("{name} grad {pname}"));
    }
}

#[test]
fn matches_pytorch_embedding_with_padding_idx() {
    let case = fixture().embedding;
    let weight = case.weight.tensor(DType::F32);
    let emb = Embedding::with_padding_idx(weight.size(0), weight.size(1), case.padding_idx);
    let state: StateDict = [("weight".to_string(), weight.data())].into_iter().collect();
    emb.load_state_dict(&state, true).unwrap();
    let ids = Tensor::new(case.ids.array(DType::I64));
    let out = emb.forward(&ids);
    assert_close(&out, &case.output, 1e-6, "embedding output");
    (out * case.loss_weights.tensor(DType::F32)).sum().backward();
    assert_close(&emb.weight.grad().unwrap(), &case.grad_weight, 1e-5, "embedding grad weight");
}

#[test]
fn no_grad_forward_saves_nothing_and_gives_the_same_values() {
    let _seed = seeded(8);
    let gru = GRU::with_config(3, 4, RnnConfig { bidirectional: true, ..RnnConfig::default() });
    let x = Tensor::randn(&[5, 2, 3]);
    let (out, h) = gru.forward_with_lengths(&x, &[3, 5], None);
    assert!(out.requires_grad());
    let _guard = nabla_autograd::no_grad();
    let (out2, h2) = gru.forward_with_lengths(&x, &[3, 5], None);
    assert!(!out2.requires_grad());
    assert_eq!((out.to_vec::<f32>(), h.to_vec::<f32>()), (out2.to_vec::<f32>(), h2.to_vec::<f32>()));
}
