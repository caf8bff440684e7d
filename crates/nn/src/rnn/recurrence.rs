//! One layer in one direction over a whole sequence, recorded as ONE autograd node with
//! a hand-written backward through time.
//!
//! Recording every step's ops instead would put ~10 nodes per step on the tape, and at
//! batch 32 and hidden 64 the per-op overhead, not the arithmetic, would set the speed.
//! Here the forward is one GEMM projecting every step's input, then per step one GEMM
//! for the hidden state and one fused pass over the gates (`Cell::forward`) into
//! buffers allocated once. Backward mirrors it: per step one fused pass and one GEMM
//! for `dh`, then the weight gradients as single GEMMs over all steps
//! (`dW_hh = dG^T H_prev` over the `[T*B, G*H]` gate-gradient matrix).
//!
//! Samples recur independently, so a large batch is split into parts that the pool's
//! threads take, and each part runs its whole loop (forward and backward) on its own;
//! only the weight gradients are summed at the end, in part order. The split depends on
//! the shapes alone, never on the thread count, so neither do the results. Splitting
//! each step instead would cost a hand-off to the pool per step, as much as a step's
//! work at these sizes.
//!
//! Rows of the saved buffers are indexed by time (`t * B + b`), not by step: with
//! `lengths`, the reverse direction processes sample `b` at time `len_b - 1 - s` in step
//! `s`, and time indexing lets the big GEMMs pair each gate gradient with its input row.
//! Rows of padded positions stay zero and so add nothing to the weight gradients.

use nabla_autograd::{is_grad_enabled, AutogradError, DType, NdArray, Tensor};
use nabla_tensor::parallel_map;

use super::act::CellFloat;
use super::cell::Cell;
use super::step_gemm::{step_gemm, Start};
use crate::functional::Saved;
use nabla_tensor::simd::with_simd;

/// The parameters of one layer in one direction, with torch's shapes.
pub(crate) struct Weights {
    /// `[G*H, input]`.
    pub w_ih: Tensor,
    /// `[G*H, H]`.
    pub w_hh: Tensor,
    /// `[G*H]` each, or none without bias.
    pub bias: Option<(Tensor, Tensor)>,
}

/// Sizes of one recurrence.
#[derive(Clone, Copy)]
struct Dims {
    steps: usize,
    batch: usize,
    hidden: usize,
}

/// Which sample is at which time in each step.
struct Schedule {
    lengths: Vec<usize>,
    reverse: bool,
}

impl Schedule {
    /// The time sample `b` is at in step `s`, if its sequence is that long.
    #[inline]
    fn time(&self, s: usize, b: usize) -> Option<usize> {
        let len = self.lengths[b];
        (s < len).then(|| if self.reverse { len - 1 - s } else { s })
    }
}

/// Runs `cell` over `x` (`[T, B, F]`, contiguous) from `state0` (`STATES` tensors of
/// `[B, H]`). Returns one array `[T + STATES, B, H]`: the output of every time step
/// (zero past a sequence's length), then the final states (at each sequence's last
/// valid step). `lengths` are per sample, each in `1..=T`, already checked.
pub(crate) fn recurrence<C: Cell>(
    cell: C,
    x: &Tensor,
    state0: &[Tensor],
    w: &Weights,
    lengths: Vec<usize>,
    reverse: bool,
) -> Tensor {
    let xa = x.data();
    let [steps, batch, _] = *xa.shape() else { unreachable!("the driver passes [T, B, F]") };
    let dims = Dims { steps, batch, hidden: w.w_hh.size(1) };
    let schedule = Schedule { lengths, reverse };
    let mut inputs = vec![x, &w.w_ih, &w.w_hh];
    if let Some((b_ih, b_hh)) = &w.bias {
        inputs.extend([b_ih, b_hh]);
    }
    inputs.extend(state0);
    match xa.dtype() {
        DType::F32 => run::<C, f32>(cell, dims, schedule, &inputs, w.bias.is_some()),
        DType::F64 => run::<C, f64>(cell, dims, schedule, &inputs, w.bias.is_some()),
        DType::I64 => unreachable!("the driver checks for a float input"),
    }
}

/// The fewest gate values per step (`B * G * H`) a part of a split batch gets: a part
/// must be big enough that its work outweighs the pool's hand-off.
const SPLIT_MIN_GATES: usize = 4096;

/// The fewest samples a part gets: every part streams all of `W_hh` each step and
/// holds a full copy of the weight gradients, which a few samples would not repay.
const MIN_PART_BATCH: usize = 8;

/// The most parts a batch is split into. Parts beyond the thread count run one after
/// another, each paying for its own buffers and its share of the weight gradients.
const MAX_PARTS: usize = 16;

/// What the forward of one part of the batch keeps for backward.
struct Tape<T> {
    /// The part's samples, `b0..b0 + schedule.lengths.len()`.
    b0: usize,
    schedule: Schedule,
    /// `[T*Bp, F]`: the part's input.
    x2: NdArray,
    /// `[T*Bp, SAVED*H]`: the cell's saved values per time row.
    saved: Vec<T>,
    /// `[T*Bp, STATES*H]`: the state before each time row's step.
    prev: NdArray,
}

/// The parameters as the kernels read them.
struct Params {
    w_ih: NdArray,
    /// `[G*H, H]`, contiguous: the per-step weights of backward.
    w_hh: NdArray,
    /// `[H, G*H]`, contiguous: the per-step weights of forward.
    w_hh_t: NdArray,
    bias: Option<(NdArray, NdArray)>,
}

/// Runs the recurrence, splitting the batch into parts (samples recur independently, so
/// each part runs its whole loop over time with no synchronisation), and records it as
/// one node.
fn run<C: Cell, T: CellFloat>(cell: C, dims: Dims, schedule: Schedule, inputs: &[&Tensor], bias: bool) -> Tensor {
    let Dims { steps, batch, hidden: h } = dims;
    let x = inputs[0].data();
    let params = Params {
        w_ih: inputs[1].data(),
        w_hh: inputs[2].data().contiguous(),
        w_hh_t: inputs[2].data().t().contiguous(),
        bias: bias.then(|| (inputs[3].data().contiguous(), inputs[4].data().contiguous())),
    };
    let state0: Vec<NdArray> = inputs[if bias { 5 } else { 3 }..].iter().map(|s| s.data()).collect();
    let n_parts = (batch * C::GATES * h / SPLIT_MIN_GATES).min(batch / MIN_PART_BATCH).clamp(1, MAX_PARTS);
    // Without a backward to come (inference, `no_grad`), nothing is saved.
    let record = is_grad_enabled() && inputs.iter().any(|t| t.requires_grad());
    let bounds: Vec<(usize, usize)> =
        (0..n_parts).map(|p| (p * batch / n_parts, (p + 1) * batch / n_parts - p * batch / n_parts)).collect();
    let parts = parallel_map(n_parts, |p| {
        let (b0, bp) = bounds[p];
        let part_schedule = Schedule { lengths: schedule.lengths[b0..b0 + bp].to_vec(), reverse: schedule.reverse };
        let x2 = x.narrow(1, b0, bp).contiguous().reshape(&[(steps * bp) as isize, -1]);
        let s0: Vec<NdArray> = state0.iter().map(|s| s.narrow(0, b0, bp).contiguous()).collect();
        forward::<C, T>(cell, Dims { batch: bp, ..dims }, part_schedule, b0, x2, &params, &s0, record)
    });
    let mut out = vec![T::zero(); (steps + C::STATES) * batch * h];
    for (part, tape) in &parts {
        let bp = tape.schedule.lengths.len();
        for (dst, src) in out.chunks_exact_mut(batch * h).zip(part.chunks_exact(bp * h)) {
            dst[tape.b0 * h..(tape.b0 + bp) * h].copy_from_slice(src);
        }
    }
    let out = NdArray::from_vec(out, &[steps + C::STATES, batch, h]);
    let tapes: Vec<Tape<T>> = parts.into_iter().map(|(_, tape)| tape).collect();

    let saved_x = Saved::new(C::NAME, inputs[0], x);
    let saved_w_ih = Saved::new(C::NAME, inputs[1], params.w_ih.clone());
    let saved_w_hh = Saved::new(C::NAME, inputs[2], params.w_hh.clone());
    let backward = move |g: &NdArray, needs: &[bool]| -> Result<Vec<Option<NdArray>>, AutogradError> {
        let (_, w_ih, w_hh) = (saved_x.get()?, saved_w_ih.get()?, saved_w_hh.get()?);
        let g = g.cast(T::DTYPE);
        let grads = parallel_map(tapes.len(), |p| {
            let tape = &tapes[p];
            let bp = tape.schedule.lengths.len();
            let g = g.narrow(1, tape.b0, bp).contiguous();
            let g = g.as_slice::<T>().expect("made contiguous");
            let w_hh = w_hh.as_slice().expect("contiguous");
            part_grads::<C, T>(cell, Dims { batch: bp, ..dims }, tape, w_ih, w_hh, g, needs, bias)
        });
        // Inputs and states: concatenated along the batch; parameters: summed over parts.
        let n_params = if bias { 4 } else { 2 };
        let out = needs
            .iter()
            .enumerate()
            .map(|(k, &need)| {
                need.then(|| match k {
                    0 => cat_parts(&grads, 0, 1),
                    k if k <= n_params => {
                        grads.iter().map(|g| g[k].clone().expect("needed")).reduce(|a, b| a.add(&b)).expect("a part")
                    }
                    k => cat_parts(&grads, k, 0),
                })
            })
            .collect();
        Ok(out)
    };
    Tensor::from_op(C::NAME, out, inputs, backward)
}

/// Input `k`'s gradient from every part, concatenated along `dim`.
fn cat_parts(grads: &[Vec<Option<NdArray>>], k: usize, dim: isize) -> NdArray {
    let parts: Vec<NdArray> = grads.iter().map(|g| g[k].clone().expect("needed")).collect();
    if parts.len() == 1 {
        return parts.into_iter().next().expect("one part");
    }
    NdArray::cat(&parts, dim)
}

/// One part's gradients of all inputs (in `recurrence`'s input order), `None` where not
/// needed: backward through time, then one GEMM each for the input and weights.
#[allow(clippy::too_many_arguments)]
fn part_grads<C: Cell, T: CellFloat>(
    cell: C,
    dims: Dims,
    tape: &Tape<T>,
    w_ih: &NdArray,
    w_hh: &[T],
    g: &[T],
    needs: &[bool],
    bias: bool,
) -> Vec<Option<NdArray>> {
    let Dims { steps, batch, hidden: h } = dims;
    let gh = C::GATES * h;
    let (dgx, dgh, dstate) = backward::<C, T>(cell, dims, tape, w_hh, g);
    let dgx = NdArray::from_vec(dgx, &[steps * batch, gh]);
    let dgh = dgh.map_or_else(|| dgx.clone(), |v| NdArray::from_vec(v, &[steps * batch, gh]));
    let mut grads: Vec<Option<NdArray>> = vec![
        needs[0].then(|| dgx.matmul(w_ih).reshape(&[steps as isize, batch as isize, -1])),
        needs[1].then(|| dgx.t().matmul(&tape.x2)),
        needs[2].then(|| dgh.t().matmul(&tape.prev.narrow(1, 0, h))),
    ];
    if bias {
        grads.push(needs[3].then(|| dgx.sum(&[0], false)));
        grads.push(needs[4].then(|| dgh.sum(&[0], false)));
    }
    let dstate = NdArray::from_vec(dstate, &[batch, C::STATES * h]);
    let first_state = grads.len();
    grads.extend((0..C::STATES).map(|k| needs[first_state + k].then(|| dstate.narrow(1, k * h, h).contiguous())));
    grads
}

/// Adds `bias` to every row of `m`.
fn add_rows<T: CellFloat>(m: &mut [T], bias: &NdArray) {
    let bias = bias.as_slice::<T>().expect("bias has the input's dtype and is contiguous");
    for row in m.chunks_exact_mut(bias.len()) {
        row.iter_mut().zip(bias).for_each(|(v, &b)| *v += b);
    }
}

/// The loop over time for one part of the batch (samples `b0..b0 + B`). Returns the
/// part's packed output (see [`recurrence`]) and its tape, whose buffers are filled
/// only if `record`.
#[allow(clippy::too_many_arguments)]
fn forward<C: Cell, T: CellFloat>(
    cell: C,
    dims: Dims,
    schedule: Schedule,
    b0: usize,
    x2: NdArray,
    params: &Params,
    state0: &[NdArray],
    record: bool,
) -> (Vec<T>, Tape<T>) {
    let Dims { steps, batch, hidden: h } = dims;
    let (gh, sh, sv) = (C::GATES * h, C::STATES * h, C::SAVED * h);
    let mut xproj = x2.matmul(&params.w_ih.t());
    if let Some((b_ih, _)) = &params.bias {
        add_rows::<T>(xproj.data_mut(), b_ih);
    }
    let xproj = xproj.as_slice::<T>().expect("a fresh product is contiguous");
    let w_hh_t = params.w_hh_t.as_slice::<T>().expect("made contiguous");
    let b_hh = params.bias.as_ref().map(|(_, b)| b.as_slice::<T>().expect("made contiguous"));
    // The running state, one row of `[h, c]` per sample.
    let mut state = vec![T::zero(); batch * sh];
    for (k, s0) in state0.iter().enumerate() {
        let s0 = s0.as_slice::<T>().expect("initial states are contiguous and of the input's dtype");
        for (row, src) in state.chunks_exact_mut(sh).zip(s0.chunks_exact(h)) {
            row[k * h..(k + 1) * h].copy_from_slice(src);
        }
    }
    let mut hproj = vec![T::zero(); batch * gh];
    let mut out = vec![T::zero(); (steps + C::STATES) * batch * h];
    // Unrecorded, every step writes its saved values into one scratch row.
    let rows = if record { steps * batch } else { 1 };
    let mut saved = vec![T::zero(); rows * sv];
    let mut prev = vec![T::zero(); if record { rows * sh } else { 0 }];
    with_simd(
        #[inline(always)]
        || {
            for s in 0..steps {
                let start = b_hh.map_or(Start::Zero, Start::Row);
                step_gemm(batch, h, gh, &state, sh, w_hh_t, &mut hproj, gh, start);
                for b in 0..batch {
                    let Some(t) = schedule.time(s, b) else { continue };
                    let r = t * batch + b;
                    let st = &mut state[b * sh..(b + 1) * sh];
                    let rs = if record { r } else { 0 };
                    if record {
                        prev[r * sh..(r + 1) * sh].copy_from_slice(st);
                    }
                    cell.forward(
                        &xproj[r * gh..(r + 1) * gh],
                        &hproj[b * gh..(b + 1) * gh],
                        st,
                        &mut saved[rs * sv..(rs + 1) * sv],
                    );
                    out[r * h..(r + 1) * h].copy_from_slice(&st[..h]);
                }
            }
        },
    );
    let finals = &mut out[steps * batch * h..];
    for (b, row) in state.chunks_exact(sh).enumerate() {
        for k in 0..C::STATES {
            finals[(k * batch + b) * h..(k * batch + b + 1) * h].copy_from_slice(&row[k * h..(k + 1) * h]);
        }
    }
    let prev = NdArray::from_vec(prev, &[if record { steps * batch } else { 0 }, sh]);
    (out, Tape { b0, schedule, x2, saved, prev })
}

/// Backward through time from `g`, the gradient of the packed output. Returns the
/// gradients of the input projections (`[T*B, G*H]`, time rows), of the hidden
/// projections when they differ, and of the initial state (`[B, STATES*H]`).
#[allow(clippy::type_complexity)]
fn backward<C: Cell, T: CellFloat>(
    cell: C,
    dims: Dims,
    tape: &Tape<T>,
    w_hh: &[T],
    g: &[T],
) -> (Vec<T>, Option<Vec<T>>, Vec<T>) {
    let Dims { steps, batch, hidden: h } = dims;
    let (gh, sh, sv) = (C::GATES * h, C::STATES * h, C::SAVED * h);
    let prev = tape.prev.as_slice::<T>().expect("saved contiguous");
    // The gradient of the running state, seeded with that of the final states.
    let mut dstate = vec![T::zero(); batch * sh];
    let finals = &g[steps * batch * h..];
    for (b, row) in dstate.chunks_exact_mut(sh).enumerate() {
        for k in 0..C::STATES {
            row[k * h..(k + 1) * h].copy_from_slice(&finals[(k * batch + b) * h..(k * batch + b + 1) * h]);
        }
    }
    let mut dgx = vec![T::zero(); steps * batch * gh];
    let mut dgh_all = C::HIDDEN_GRAD_DIFFERS.then(|| vec![T::zero(); steps * batch * gh]);
    let mut dgh = vec![T::zero(); batch * gh];
    with_simd(
        #[inline(always)]
        || {
            for s in (0..steps).rev() {
                for b in 0..batch {
                    let dgh_row = &mut dgh[b * gh..(b + 1) * gh];
                    let Some(t) = tape.schedule.time(s, b) else {
                        dgh_row.fill(T::zero());
                        continue;
                    };
                    let r = t * batch + b;
                    let ds = &mut dstate[b * sh..(b + 1) * sh];
                    ds[..h].iter_mut().zip(&g[r * h..(r + 1) * h]).for_each(|(d, &go)| *d += go);
                    cell.backward(
                        &tape.saved[r * sv..(r + 1) * sv],
                        &prev[r * sh..(r + 1) * sh],
                        ds,
                        &mut dgx[r * gh..(r + 1) * gh],
                        dgh_row,
                    );
                    if let Some(all) = dgh_all.as_mut() {
                        all[r * gh..(r + 1) * gh].copy_from_slice(dgh_row);
                    }
                }
                // dh_prev += dG_h W_hh, into the `h` block of each state row.
                step_gemm(batch, gh, h, &dgh, gh, w_hh, &mut dstate, sh, Start::Current);
            }
        },
    );
    (dgx, dgh_all, dstate)
}
