//! `LSTM`: a multi-layer long short-term memory network.

use nabla_autograd::Tensor;

use super::{rnn_module, RnnBase, RnnConfig};
use crate::functional;

/// A multi-layer LSTM (`torch.nn.LSTM`). For each step of each layer:
///
/// ```text
/// i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)
/// f = sigmoid(W_if x + b_if + W_hf h + b_hf)
/// g =    tanh(W_ig x + b_ig + W_hg h + b_hg)
/// o = sigmoid(W_io x + b_io + W_ho h + b_ho)
/// c' = f * c + i * g
/// h' = o * tanh(c')
/// ```
///
/// Each layer in each direction runs as one fused op (one GEMM for the inputs of all
/// steps, one per step for `h`, the gates in one pass) with a hand-written backward.
///
/// # Args
/// - `input_size`: features of the input `x`
/// - `hidden_size`: features of the state `h` (and `c`)
/// - `config`: `num_layers`, `bias`, `batch_first`, `dropout`, `bidirectional` (see
///   [`RnnConfig`]; [`LSTM::new`] takes the defaults)
///
/// # Shapes
/// - input: `[T, B, input_size]`, or `[B, T, input_size]` with `batch_first`, or
///   `[T, input_size]` unbatched
/// - `h_0`, `c_0` (optional, zeros by default): `[num_layers * num_directions, B, H]`
/// - output: `[T, B, num_directions * H]` (`[B, T, ...]` with `batch_first`): the last
///   layer's `h` at every step, both directions concatenated
/// - `h_n`, `c_n`: `[num_layers * num_directions, B, H]`, the final states (for the
///   reverse direction, the state after reading the whole sequence backwards)
///
/// # Variables
/// Named as in torch, so a torch `state_dict` loads one to one: `weight_ih_l{k}`
/// `[4H, in]` (gates i, f, g, o stacked; `in` is `input_size` for layer 0, else
/// `num_directions * H`), `weight_hh_l{k}` `[4H, H]`, `bias_ih_l{k}` and `bias_hh_l{k}`
/// `[4H]`, and the same with suffix `_reverse` for the backward direction. All are drawn
/// from `U(-1/sqrt(H), 1/sqrt(H))`.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{ModuleExt, RnnConfig, LSTM};
/// let lstm = LSTM::with_config(10, 20, RnnConfig { num_layers: 2, ..RnnConfig::default() });
/// let x = Tensor::randn(&[5, 3, 10]);
/// let (h0, c0) = (Tensor::randn(&[2, 3, 20]), Tensor::randn(&[2, 3, 20]));
/// let (output, (hn, cn)) = lstm.forward(&x, Some((&h0, &c0)));
/// assert_eq!(output.shape(), vec![5, 3, 20]);
/// assert_eq!((hn.shape(), cn.shape()), (vec![2, 3, 20], vec![2, 3, 20]));
/// assert_eq!(lstm.named_parameters()[0].0, "weight_ih_l0");
///
/// // A padded batch: sample 1 is 2 steps long; padding never changes its result.
/// let (output, (hn, _)) = lstm.forward_with_lengths(&x, &[5, 2, 4], None);
/// assert_eq!(output.select(1, 1).select(0, 3).abs().sum().item(), 0.0);
/// ```
pub struct LSTM {
    base: RnnBase,
}

impl LSTM {
    /// One layer, with bias, time first (`nn.LSTM(input_size, hidden_size)`).
    #[track_caller]
    pub fn new(input_size: usize, hidden_size: usize) -> Self {
        Self::with_config(input_size, hidden_size, RnnConfig::default())
    }

    /// An LSTM with the given options (`nn.LSTM(input_size, hidden_size, num_layers, ...)`).
    ///
    /// # Panics
    /// If `hidden_size` or `num_layers` is 0, or `dropout` is not a probability.
    #[track_caller]
    pub fn with_config(input_size: usize, hidden_size: usize, config: RnnConfig) -> Self {
        LSTM { base: RnnBase::new("lstm", 4, input_size, hidden_size, config) }
    }

    /// Runs the LSTM over `x` from `state = (h_0, c_0)` (zeros if `None`), returning
    /// `(output, (h_n, c_n))`; see the type's docs for the shapes.
    #[track_caller]
    pub fn forward(&self, x: &Tensor, state: Option<(&Tensor, &Tensor)>) -> (Tensor, (Tensor, Tensor)) {
        self.run(x, state, None)
    }

    /// [`forward`](Self::forward) on a padded batch whose sample `b` is `lengths[b]`
    /// steps long (each in `1..=T`, any order), as torch on a `PackedSequence`: steps
    /// past a sample's length leave its state unchanged and output zeros, `h_n`/`c_n`
    /// are its state at its last valid step, and the reverse direction starts there.
    #[track_caller]
    pub fn forward_with_lengths(
        &self,
        x: &Tensor,
        lengths: &[usize],
        state: Option<(&Tensor, &Tensor)>,
    ) -> (Tensor, (Tensor, Tensor)) {
        self.run(x, state, Some(lengths))
    }

    #[track_caller]
    fn run(
        &self,
        x: &Tensor,
        state: Option<(&Tensor, &Tensor)>,
        lengths: Option<&[usize]>,
    ) -> (Tensor, (Tensor, Tensor)) {
        let b = &self.base;
        functional::lstm(x, state, &b.params, &b.config, b.is_training(), lengths)
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

rnn_module!(LSTM);
