//! What distinguishes LSTM, GRU and the Elman RNN: the pointwise part of one step, for
//! one sample, forward and backward. Everything else (the projections, the loop over
//! time, lengths, directions and layers) is shared in `recurrence.rs` and `mod.rs`.

use super::act::CellFloat;

/// The pointwise step of a recurrent cell with `GATES` gate blocks of `H` units.
///
/// Rows passed in are one sample's: `xg` and `hg` are its input and hidden projections
/// (`W_ih x + b_ih` and `W_hh h + b_hh`, `GATES * H` each); `state` is `STATES * H`
/// values, the hidden state first (then the LSTM cell state).
pub(crate) trait Cell: Copy + Send + Sync + 'static {
    /// The op's name on the tape.
    const NAME: &'static str;
    /// Gate blocks in the weight rows: `weight_ih` is `[GATES * H, input_size]`.
    const GATES: usize;
    /// State vectors carried between steps: 2 for LSTM (`h`, `c`), else 1.
    const STATES: usize;
    /// Blocks of `H` values saved per step for backward.
    const SAVED: usize;
    /// True when the gradient of the hidden projection differs from that of the input
    /// projection (GRU, where `r` multiplies `W_hn h + b_hn`); otherwise the backward
    /// writes `dgh == dgx` and the driver keeps one of them.
    const HIDDEN_GRAD_DIFFERS: bool;

    /// Advances `state` by one step and writes what backward needs into `saved`.
    fn forward<T: CellFloat>(&self, xg: &[T], hg: &[T], state: &mut [T], saved: &mut [T]);

    /// One step backward. On entry `dstate` is the gradient of the state after the
    /// step; on exit, that of the state before it, except for the path through
    /// `W_hh h`, which the driver adds with one GEMM for the whole batch. `prev` is the
    /// state before the step. Writes the gradients of the input and hidden projections.
    fn backward<T: CellFloat>(&self, saved: &[T], prev: &[T], dstate: &mut [T], dgx: &mut [T], dgh: &mut [T]);
}
