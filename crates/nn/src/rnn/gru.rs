//! `GRU`: a multi-layer gated recurrent unit network.

use nabla_autograd::Tensor;

use super::{rnn_module, RnnBase, RnnConfig};
use crate::functional;

/// A multi-layer GRU (`torch.nn.GRU`). For each step of each layer:
///
/// ```text
/// r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
/// z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
/// n =    tanh(W_in x + b_in + r * (W_hn h + b_hn))
/// h' = (1 - z) * n + z * h
/// ```
///
/// Each layer in each direction runs as one fused op with a hand-written backward.
///
/// # Args
/// - `input_size`, `hidden_size`, `config`: as for [`LSTM`](crate::LSTM)
///
/// # Shapes
/// - input: `[T, B, input_size]` (`[B, T, input_size]` with `batch_first`, or
///   `[T, input_size]` unbatched)
/// - `h_0` (optional, zeros by default): `[num_layers * num_directions, B, H]`
/// - output: `[T, B, num_directions * H]`; `h_n`: `[num_layers * num_directions, B, H]`
///
/// # Variables
/// As torch: `weight_ih_l{k}` `[3H, in]` (gates r, z, n stacked), `weight_hh_l{k}`
/// `[3H, H]`, `bias_ih_l{k}`, `bias_hh_l{k}` `[3H]`, and `_reverse` for the backward
/// direction; all from `U(-1/sqrt(H), 1/sqrt(H))`.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{RnnConfig, GRU};
/// let gru = GRU::with_config(10, 20, RnnConfig { bidirectional: true, batch_first: true, ..RnnConfig::default() });
/// let (output, hn) = gru.forward(&Tensor::randn(&[3, 5, 10]), None);
/// assert_eq!((output.shape(), hn.shape()), (vec![3, 5, 40], vec![2, 3, 20]));
/// let (_, hn) = gru.forward_with_lengths(&Tensor::randn(&[3, 5, 10]), &[5, 1, 3], None);
/// assert_eq!(hn.shape(), vec![2, 3, 20]);
/// ```
pub struct GRU {
    base: RnnBase,
}

impl GRU {
    /// One layer, with bias, time first (`nn.GRU(input_size, hidden_size)`).
    #[track_caller]
    pub fn new(input_size: usize, hidden_size: usize) -> Self {
        Self::with_config(input_size, hidden_size, RnnConfig::default())
    }

    /// A GRU with the given options.
    ///
    /// # Panics
    /// If `hidden_size` or `num_layers` is 0, or `dropout` is not a probability.
    #[track_caller]
    pub fn with_config(input_size: usize, hidden_size: usize, config: RnnConfig) -> Self {
        GRU { base: RnnBase::new("gru", 3, input_size, hidden_size, config) }
    }

    /// Runs the GRU over `x` from `h_0` (zeros if `None`), returning `(output, h_n)`.
    #[track_caller]
    pub fn forward(&self, x: &Tensor, h0: Option<&Tensor>) -> (Tensor, Tensor) {
        let b = &self.base;
        functional::gru(x, h0, &b.params, &b.config, b.is_training(), None)
    }

    /// [`forward`](Self::forward) on a padded batch with per-sample lengths, as
    /// [`LSTM::forward_with_lengths`](crate::LSTM::forward_with_lengths).
    #[track_caller]
    pub fn forward_with_lengths(&self, x: &Tensor, lengths: &[usize], h0: Option<&Tensor>) -> (Tensor, Tensor) {
        let b = &self.base;
        functional::gru(x, h0, &b.params, &b.config, b.is_training(), Some(lengths))
    }

    /// Features of the input.
    pub fn input_size(&self) -> usize {
        self.base.input_size
    }

    /// Features of the hidden state.
    pub fn hidden_size(&self) -> usize {
        self.base.hidden_size
    }

    /// The options it was built with.
    pub fn config(&self) -> &RnnConfig {
        &self.base.config
    }
}

rnn_module!(GRU);
