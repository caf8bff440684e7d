//! The functional forms of the recurrent layers (torch's `_VF.lstm`/`_VF.gru`/
//! `_VF.rnn_tanh`): parameters passed as one flat list in torch's order, so a layer
//! can be run (and gradient-checked) with parameters it does not own.

use nabla_autograd::Tensor;

use crate::rnn::{run_layers, ElmanCell, GruCell, LstmCell, RnnConfig, RnnNonlinearity};

/// Applies a multi-layer LSTM (see [`LSTM`](crate::LSTM) for the equations).
///
/// # Args
/// - `input`: `[T, B, input_size]` (`[B, T, input_size]` if `config.batch_first`), or
///   `[T, input_size]` unbatched
/// - `state`: `(h_0, c_0)`, each `[num_layers * num_directions, B, H]` (without the
///   `B` dim for unbatched input); zeros if `None`
/// - `params`: in [`RnnConfig::param_names`] order, with torch's shapes
/// - `training`: enables the dropout between layers
/// - `lengths`: each sample's valid length (in `1..=T`); steps past it leave the state
///   unchanged and output zeros, and the reverse direction starts at the last valid
///   step, as with a `PackedSequence` in torch
///
/// # Outputs
/// `(output, (h_n, c_n))`: `output` is `[T, B, num_directions * H]` (batch first if
/// configured), `h_n` and `c_n` are `[num_layers * num_directions, B, H]`.
///
/// # Panics
/// If shapes, dtypes or lengths do not fit, naming them.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{functional, ModuleExt, RnnConfig, LSTM};
/// let lstm = LSTM::new(3, 4);
/// let x = Tensor::randn(&[5, 2, 3]);
/// let (out, (h, c)) = functional::lstm(&x, None, &lstm.parameters(), &RnnConfig::default(), false, None);
/// assert_eq!((out.shape(), h.shape(), c.shape()), (vec![5, 2, 4], vec![1, 2, 4], vec![1, 2, 4]));
/// ```
#[track_caller]
pub fn lstm(
    input: &Tensor,
    state: Option<(&Tensor, &Tensor)>,
    params: &[Tensor],
    config: &RnnConfig,
    training: bool,
    lengths: Option<&[usize]>,
) -> (Tensor, (Tensor, Tensor)) {
    let state0: Vec<&Tensor> = state.map(|(h, c)| vec![h, c]).unwrap_or_default();
    let (out, mut finals) = run_layers(LstmCell, input, &state0, params, config, training, lengths);
    let c = finals.pop().expect("two final states");
    let h = finals.pop().expect("two final states");
    (out, (h, c))
}

/// Applies a multi-layer GRU (see [`GRU`](crate::GRU) for the equations).
///
/// Args and outputs as [`lstm`], with one state `h` instead of `(h, c)`.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{functional, ModuleExt, RnnConfig, GRU};
/// let gru = GRU::new(3, 4);
/// let (out, h) = functional::gru(&Tensor::randn(&[5, 2, 3]), None, &gru.parameters(), &RnnConfig::default(), false, None);
/// assert_eq!((out.shape(), h.shape()), (vec![5, 2, 4], vec![1, 2, 4]));
/// ```
#[track_caller]
pub fn gru(
    input: &Tensor,
    h0: Option<&Tensor>,
    params: &[Tensor],
    config: &RnnConfig,
    training: bool,
    lengths: Option<&[usize]>,
) -> (Tensor, Tensor) {
    one_state(run_layers(GruCell, input, h0.as_slice(), params, config, training, lengths))
}

/// Applies a multi-layer Elman RNN with `tanh` or `relu` (see [`RNN`](crate::RNN)).
///
/// Args and outputs as [`gru`].
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{functional, ModuleExt, RnnConfig, RnnNonlinearity, RNN};
/// let rnn = RNN::new(3, 4);
/// let x = Tensor::randn(&[5, 2, 3]);
/// let (out, h) = functional::rnn(&x, None, &rnn.parameters(), RnnNonlinearity::Tanh, &RnnConfig::default(), false, None);
/// assert_eq!((out.shape(), h.shape()), (vec![5, 2, 4], vec![1, 2, 4]));
/// ```
#[track_caller]
pub fn rnn(
    input: &Tensor,
    h0: Option<&Tensor>,
    params: &[Tensor],
    nonlinearity: RnnNonlinearity,
    config: &RnnConfig,
    training: bool,
    lengths: Option<&[usize]>,
) -> (Tensor, Tensor) {
    one_state(run_layers(ElmanCell(nonlinearity), input, h0.as_slice(), params, config, training, lengths))
}

fn one_state((out, mut finals): (Tensor, Vec<Tensor>)) -> (Tensor, Tensor) {
    (out, finals.pop().expect("one final state"))
}
