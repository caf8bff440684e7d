//! `RNN`: a multi-layer Elman network with `tanh` or `relu`.

use nabla_autograd::Tensor;

use super::{rnn_module, RnnBase, RnnConfig, RnnNonlinearity};
use crate::functional;

/// A multi-layer Elman RNN (`torch.nn.RNN`). For each step of each layer:
///
/// ```text
/// h' = act(W_ih x + b_ih + W_hh h + b_hh),   act = tanh (default) or relu
/// ```
///
/// # Args
/// - `input_size`, `hidden_size`, `config`: as for [`LSTM`](crate::LSTM)
/// - `nonlinearity`: [`RnnNonlinearity::Tanh`] (the default of [`RNN::new`]) or `Relu`
///
/// # Shapes
/// As [`GRU`](crate::GRU): output `[T, B, num_directions * H]`, `h_n`
/// `[num_layers * num_directions, B, H]`.
///
/// # Variables
/// As torch: `weight_ih_l{k}` `[H, in]`, `weight_hh_l{k}` `[H, H]`, `bias_ih_l{k}`,
/// `bias_hh_l{k}` `[H]`, and `_reverse`; all from `U(-1/sqrt(H), 1/sqrt(H))`.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{RnnConfig, RnnNonlinearity, RNN};
/// let rnn = RNN::with_config(10, 20, RnnNonlinearity::Relu, RnnConfig { num_layers: 2, ..RnnConfig::default() });
/// let (output, hn) = rnn.forward(&Tensor::randn(&[5, 3, 10]), None);
/// assert_eq!((output.shape(), hn.shape()), (vec![5, 3, 20], vec![2, 3, 20]));
/// ```
pub struct RNN {
    base: RnnBase,
    nonlinearity: RnnNonlinearity,
}

impl RNN {
    /// One `tanh` layer, with bias, time first (`nn.RNN(input_size, hidden_size)`).
    #[track_caller]
    pub fn new(input_size: usize, hidden_size: usize) -> Self {
        Self::with_config(input_size, hidden_size, RnnNonlinearity::Tanh, RnnConfig::default())
    }

    /// An RNN with the given nonlinearity and options.
    ///
    /// # Panics
    /// If `hidden_size` or `num_layers` is 0, or `dropout` is not a probability.
    #[track_caller]
    pub fn with_config(
        input_size: usize,
        hidden_size: usize,
        nonlinearity: RnnNonlinearity,
        config: RnnConfig,
    ) -> Self {
        RNN { base: RnnBase::new("rnn", 1, input_size, hidden_size, config), nonlinearity }
    }

    /// Runs the RNN over `x` from `h_0` (zeros if `None`), returning `(output, h_n)`.
    #[track_caller]
    pub fn forward(&self, x: &Tensor, h0: Option<&Tensor>) -> (Tensor, Tensor) {
        let b = &self.base;
        functional::rnn(x, h0, &b.params, self.nonlinearity, &b.config, b.is_training(), None)
    }

    /// [`forward`](Self::forward) on a padded batch with per-sample lengths, as
    /// [`LSTM::forward_with_lengths`](crate::LSTM::forward_with_lengths).
    #[track_caller]
    pub fn forward_with_lengths(&self, x: &Tensor, lengths: &[usize], h0: Option<&Tensor>) -> (Tensor, Tensor) {
        let b = &self.base;
        functional::rnn(x, h0, &b.params, self.nonlinearity, &b.config, b.is_training(), Some(lengths))
    }

    /// The nonlinearity.
    pub fn nonlinearity(&self) -> RnnNonlinearity {
        self.nonlinearity
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

rnn_module!(RNN);
