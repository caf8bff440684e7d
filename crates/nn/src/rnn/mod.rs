//! Recurrent layers: [`LSTM`](crate::LSTM), [`GRU`](crate::GRU) and [`RNN`](crate::RNN).
//!
//! They share everything but the cell: the configuration, the parameters and their
//! torch names, and the driver over layers and directions here; the recurrence of one
//! layer in one direction (`recurrence.rs`, one tape node each); the cells' pointwise
//! kernels (`cells.rs`).

mod act;
mod cell;
mod cells;
mod elman;
mod gru;
mod lstm;
mod recurrence;
mod step_gemm;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use nabla_autograd::Tensor;

use crate::functional;
use crate::init;
use crate::module::Visitor;
use cell::Cell;
pub use cells::RnnNonlinearity;
pub(crate) use cells::{ElmanCell, GruCell, LstmCell};
pub use elman::RNN;
pub use gru::GRU;
pub use lstm::LSTM;
use recurrence::{recurrence, Weights};

/// The options shared by [`LSTM`], [`GRU`] and [`RNN`], with torch.nn's defaults.
///
/// ```
/// use nabla_nn::RnnConfig;
/// let config = RnnConfig { num_layers: 2, bidirectional: true, ..RnnConfig::default() };
/// assert!(config.bias && !config.batch_first && config.dropout == 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RnnConfig {
    /// Number of stacked layers; layer `k > 0` reads layer `k - 1`'s output. Default 1.
    pub num_layers: usize,
    /// Whether the layers learn `bias_ih` and `bias_hh`. Default true.
    pub bias: bool,
    /// Input and output as `[B, T, F]` instead of `[T, B, F]` (the states stay
    /// `[layers * directions, B, H]`, as in torch). Default false.
    pub batch_first: bool,
    /// Dropout probability on the outputs of every layer but the last, in training
    /// mode only. Default 0.
    pub dropout: f64,
    /// Adds a second direction per layer that reads the sequence backwards; outputs
    /// are concatenated along features (`2 * H`). Default false.
    pub bidirectional: bool,
}

impl Default for RnnConfig {
    fn default() -> Self {
        RnnConfig { num_layers: 1, bias: true, batch_first: false, dropout: 0.0, bidirectional: false }
    }
}

impl RnnConfig {
    /// 2 when bidirectional, else 1.
    pub fn num_directions(&self) -> usize {
        1 + self.bidirectional as usize
    }

    /// The parameter names in torch's order (`weight_ih_l0`, `weight_hh_l0`,
    /// `bias_ih_l0`, `bias_hh_l0`, then `..._l0_reverse`, then layer 1, ...): the order
    /// of the `params` slice the functional forms take.
    pub fn param_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for layer in 0..self.num_layers {
            for dir in 0..self.num_directions() {
                let suffix = if dir == 1 { "_reverse" } else { "" };
                let kinds: &[&str] = if self.bias {
                    &["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
                } else {
                    &["weight_ih", "weight_hh"]
                };
                names.extend(kinds.iter().map(|k| format!("{k}_l{layer}{suffix}")));
            }
        }
        names
    }

    /// The shapes of the parameters, in [`param_names`](Self::param_names) order, for
    /// a cell with `gates` gate blocks (4 for LSTM, 3 for GRU, 1 for RNN).
    fn param_shapes(&self, gates: usize, input_size: usize, hidden_size: usize) -> Vec<Vec<usize>> {
        let gh = gates * hidden_size;
        let mut shapes = Vec::new();
        for layer in 0..self.num_layers {
            let layer_in = if layer == 0 { input_size } else { hidden_size * self.num_directions() };
            for _ in 0..self.num_directions() {
                shapes.extend([vec![gh, layer_in], vec![gh, hidden_size]]);
                if self.bias {
                    shapes.extend([vec![gh], vec![gh]]);
                }
            }
        }
        shapes
    }
}

/// What an LSTM, GRU or RNN module holds: sizes, options, the flat parameters in
/// torch's order, and the training flag (for dropout between layers).
pub(crate) struct RnnBase {
    input_size: usize,
    hidden_size: usize,
    config: RnnConfig,
    params: Vec<Tensor>,
    training: AtomicBool,
}

impl RnnBase {
    /// Parameters drawn from `U(-1/sqrt(H), 1/sqrt(H))`, torch's default for all of them.
    #[track_caller]
    fn new(name: &str, gates: usize, input_size: usize, hidden_size: usize, config: RnnConfig) -> Self {
        if hidden_size == 0 || config.num_layers == 0 {
            panic!("{name}: hidden_size and num_layers must be positive, got {hidden_size} and {}", config.num_layers);
        }
        functional::check_probability(config.dropout);
        let bound = 1.0 / (hidden_size as f64).sqrt();
        let params = config
            .param_shapes(gates, input_size, hidden_size)
            .iter()
            .map(|shape| {
                let p = Tensor::zeros(shape);
                init::uniform_(&p, -bound, bound);
                p.requires_grad_(true)
            })
            .collect();
        RnnBase { input_size, hidden_size, config, params, training: AtomicBool::new(true) }
    }

    fn visit(&self, v: &mut dyn Visitor) {
        for (name, p) in self.config.param_names().iter().zip(&self.params) {
            v.param(name, p);
        }
    }

    fn set_training(&self, on: bool) {
        self.training.store(on, Ordering::Relaxed);
    }

    fn is_training(&self) -> bool {
        self.training.load(Ordering::Relaxed)
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
        let c = &self.config;
        write!(f, "{name}({}, {}", self.input_size, self.hidden_size)?;
        if c.num_layers != 1 {
            write!(f, ", num_layers={}", c.num_layers)?;
        }
        if !c.bias {
            write!(f, ", bias=false")?;
        }
        if c.batch_first {
            write!(f, ", batch_first=true")?;
        }
        if c.dropout != 0.0 {
            write!(f, ", dropout={}", c.dropout)?;
        }
        if c.bidirectional {
            write!(f, ", bidirectional=true")?;
        }
        write!(f, ")")
    }
}

/// Implements `Module` and `Debug` for a recurrent layer by delegating to its `base`.
macro_rules! rnn_module {
    ($($layer:ident),*) => {$(
        impl $crate::Module for $layer {
            fn visit(&self, v: &mut dyn $crate::Visitor) {
                self.base.visit(v)
            }
            fn set_training(&self, on: bool) {
                self.base.set_training(on)
            }
        }

        impl std::fmt::Debug for $layer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.base.fmt(f, stringify!($layer))
            }
        }
    )*};
}
use rnn_module;

/// Runs a stack of recurrent layers (the common part of `functional::{lstm, gru, rnn}`).
///
/// `state0` holds `C::STATES` tensors of `[layers * directions, B, H]` (or
/// `[layers * directions, H]` for unbatched input), or is empty for zeros. Returns the
/// output and the final states in the same layout.
#[track_caller]
pub(crate) fn run_layers<C: Cell>(
    cell: C,
    input: &Tensor,
    state0: &[&Tensor],
    params: &[Tensor],
    config: &RnnConfig,
    training: bool,
    lengths: Option<&[usize]>,
) -> (Tensor, Vec<Tensor>) {
    let name = C::NAME;
    let dtype = input.dtype();
    if !dtype.is_float() {
        panic!("{name}: expected a float input (f32 or f64), got {dtype}");
    }
    let expected = config.param_names().len();
    if params.len() != expected {
        panic!("{name}: expected {expected} parameters ({:?}), got {}", config.param_names(), params.len());
    }
    let hidden = params[1].size(1);
    let shapes = config.param_shapes(C::GATES, params[0].size(1), hidden);
    for ((p, shape), pname) in params.iter().zip(&shapes).zip(config.param_names()) {
        if p.shape() != *shape || p.dtype() != dtype {
            panic!(
                "{name}: parameter {pname} must be {shape:?} of the input's dtype {dtype}, got {:?} ({})",
                p.shape(),
                p.dtype()
            );
        }
    }
    let unbatched = input.dim() == 2;
    let x = match input.dim() {
        2 => input.unsqueeze(1),
        3 if config.batch_first => input.transpose(0, 1),
        3 => input.clone(),
        _ => panic!("{name}: expected a 2-D (unbatched) or 3-D input, got shape {:?}", input.shape()),
    };
    let (steps, batch, features) = (x.size(0), x.size(1), x.size(2));
    if features != params[0].size(1) {
        panic!("{name}: input {:?} must have input_size={} features, got {features}", input.shape(), params[0].size(1));
    }
    let lengths = check_lengths(name, lengths, steps, batch);
    let slots = config.num_layers * config.num_directions();
    let states: Vec<Tensor> = match state0 {
        [] => (0..C::STATES).map(|_| Tensor::zeros(&[slots, batch, hidden]).to_dtype(dtype)).collect(),
        given => given
            .iter()
            .map(|s| {
                let s = if unbatched { s.unsqueeze(1) } else { (*s).clone() };
                if s.shape() != [slots, batch, hidden] || s.dtype() != dtype {
                    panic!(
                        "{name}: initial state must be [{slots}, {batch}, {hidden}] ({dtype}) for this input and config, got {:?} ({})",
                        s.shape(),
                        s.dtype()
                    );
                }
                s
            })
            .collect(),
    };

    let per_slot = params.len() / slots;
    let mut layer_in = x.contiguous();
    let mut finals: Vec<Vec<Tensor>> = vec![Vec::with_capacity(slots); C::STATES];
    for layer in 0..config.num_layers {
        let mut outs = Vec::with_capacity(config.num_directions());
        for dir in 0..config.num_directions() {
            let slot = layer * config.num_directions() + dir;
            let p = &params[slot * per_slot..(slot + 1) * per_slot];
            let weights = Weights {
                w_ih: p[0].clone(),
                w_hh: p[1].clone(),
                bias: config.bias.then(|| (p[2].clone(), p[3].clone())),
            };
            let s0: Vec<Tensor> = states.iter().map(|s| s.select(0, slot)).collect();
            let packed = recurrence(cell, &layer_in, &s0, &weights, lengths.clone(), dir == 1);
            outs.push(packed.narrow(0, 0, steps));
            for (k, f) in finals.iter_mut().enumerate() {
                f.push(packed.select(0, steps + k));
            }
        }
        layer_in = if outs.len() == 1 { outs.pop().expect("one direction") } else { Tensor::cat(&outs, 2) };
        if layer + 1 < config.num_layers && training && config.dropout > 0.0 {
            layer_in = functional::dropout(&layer_in, config.dropout, true);
        }
    }
    let finals: Vec<Tensor> = finals.iter().map(|f| Tensor::stack(f, 0)).collect();
    if unbatched {
        return (layer_in.squeeze_dim(1), finals.iter().map(|f| f.squeeze_dim(1)).collect());
    }
    let output = if config.batch_first { layer_in.transpose(0, 1) } else { layer_in };
    (output, finals)
}

/// Every sample's length (`steps` when not given), each checked to be in `1..=steps`.
#[track_caller]
fn check_lengths(name: &str, lengths: Option<&[usize]>, steps: usize, batch: usize) -> Vec<usize> {
    let Some(lengths) = lengths else { return vec![steps; batch] };
    if lengths.len() != batch {
        panic!("{name}: got {} lengths for a batch of {batch}", lengths.len());
    }
    if let Some((b, &len)) = lengths.iter().enumerate().find(|(_, &l)| l == 0 || l > steps) {
        panic!("{name}: length {len} of sample {b} is outside 1..={steps} (the padded sequence length)");
    }
    lengths.to_vec()
}
