//! The three cells: LSTM (gates i, f, g, o), GRU (gates r, z, n) and the Elman RNN, with
//! torch.nn's equations. Each loop runs over one sample's `H` units; the rows are sliced
//! to exactly `H` first so the loops compile without bounds checks and vectorise.

use super::act::CellFloat;
use super::cell::Cell;

/// Units processed together. Each cell loads `LANES` units of every row it reads into
/// local arrays, computes on them, then stores: the compiler turns the lane loops into
/// SIMD code. A plain loop over the rows would not vectorise, as the rows are sub-slices
/// of a few buffers that the compiler cannot prove disjoint (too many runtime checks).
/// Sixteen `f32` lanes are two AVX2 registers: each gate's long chain of dependent
/// steps (the `exp` polynomial, a division) then has a twin to overlap with, which
/// made the no-grad LSTM forward 8% faster than eight lanes did.
const LANES: usize = 16;

/// Units `j0..j0 + LANES` of block `k` (of `h` units) of `row`; zeros past the block.
/// Whole lanes move as one array (a vector load), not through a variable-length copy.
#[inline(always)]
fn load<T: CellFloat>(row: &[T], k: usize, h: usize, j0: usize) -> [T; LANES] {
    let start = k * h + j0;
    if j0 + LANES <= h {
        return row[start..start + LANES].try_into().expect("LANES long");
    }
    let mut a = [T::zero(); LANES];
    a.iter_mut().zip(&row[start..k * h + h]).for_each(|(a, &v)| *a = v);
    a
}

/// Stores what [`load`] loaded.
#[inline(always)]
fn store<T: CellFloat>(row: &mut [T], k: usize, h: usize, j0: usize, a: &[T; LANES]) {
    let start = k * h + j0;
    if j0 + LANES <= h {
        let dst: &mut [T; LANES] = (&mut row[start..start + LANES]).try_into().expect("LANES long");
        *dst = *a;
        return;
    }
    row[start..k * h + h].iter_mut().zip(a).for_each(|(d, &v)| *d = v);
}

/// The lanes of [`load`] from two rows, added.
#[inline(always)]
fn sum_rows<T: CellFloat>(a: &[T], b: &[T], k: usize, h: usize, j0: usize) -> [T; LANES] {
    let (a, b) = (load(a, k, h, j0), load(b, k, h, j0));
    lanes(|l| a[l] + b[l])
}

/// Applies `f` to every lane.
#[inline(always)]
fn lanes<T: Copy>(f: impl Fn(usize) -> T) -> [T; LANES] {
    std::array::from_fn(f)
}

/// `torch.nn.LSTM`'s cell:
/// `i, f, o = sigmoid(.)`, `g = tanh(.)`, `c' = f c + i g`, `h' = o tanh(c')`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LstmCell;

impl Cell for LstmCell {
    const NAME: &'static str = "lstm";
    const GATES: usize = 4;
    const STATES: usize = 2;
    /// i, f, g, o and tanh(c').
    const SAVED: usize = 5;
    const HIDDEN_GRAD_DIFFERS: bool = false;

    #[inline(always)]
    fn forward<T: CellFloat>(&self, xg: &[T], hg: &[T], state: &mut [T], saved: &mut [T]) {
        let h = state.len() / 2;
        for j0 in (0..h).step_by(LANES) {
            let pre = |k| sum_rows(xg, hg, k, h, j0);
            let (pi, pf, pg, po) = (pre(0), pre(1), pre(2), pre(3));
            let i = lanes(|l| T::sigmoid(pi[l]));
            let f = lanes(|l| T::sigmoid(pf[l]));
            let g = lanes(|l| T::tanh_(pg[l]));
            let o = lanes(|l| T::sigmoid(po[l]));
            let c0 = load(state, 1, h, j0);
            let c = lanes(|l| f[l] * c0[l] + i[l] * g[l]);
            let tc = lanes(|l| T::tanh_(c[l]));
            store(state, 0, h, j0, &lanes(|l| o[l] * tc[l]));
            store(state, 1, h, j0, &c);
            for (k, a) in [i, f, g, o, tc].iter().enumerate() {
                store(saved, k, h, j0, a);
            }
        }
    }

    #[inline(always)]
    fn backward<T: CellFloat>(&self, saved: &[T], prev: &[T], dstate: &mut [T], dgx: &mut [T], dgh: &mut [T]) {
        let h = prev.len() / 2;
        let one = T::one();
        for j0 in (0..h).step_by(LANES) {
            let load_saved = |k| load(saved, k, h, j0);
            let (i, f, g, o, tc) = (load_saved(0), load_saved(1), load_saved(2), load_saved(3), load_saved(4));
            let (pc, dh, dc) = (load(prev, 1, h, j0), load(dstate, 0, h, j0), load(dstate, 1, h, j0));
            let c_grad = lanes(|l| dc[l] + dh[l] * o[l] * (one - tc[l] * tc[l]));
            store(dgx, 0, h, j0, &lanes(|l| c_grad[l] * g[l] * i[l] * (one - i[l])));
            store(dgx, 1, h, j0, &lanes(|l| c_grad[l] * pc[l] * f[l] * (one - f[l])));
            store(dgx, 2, h, j0, &lanes(|l| c_grad[l] * i[l] * (one - g[l] * g[l])));
            store(dgx, 3, h, j0, &lanes(|l| dh[l] * tc[l] * o[l] * (one - o[l])));
            store(dstate, 0, h, j0, &[T::zero(); LANES]);
            store(dstate, 1, h, j0, &lanes(|l| c_grad[l] * f[l]));
        }
        dgh.copy_from_slice(dgx);
    }
}

/// `torch.nn.GRU`'s cell: `r, z = sigmoid(.)`,
/// `n = tanh(W_in x + b_in + r (W_hn h + b_hn))`, `h' = (1 - z) n + z h`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GruCell;

impl Cell for GruCell {
    const NAME: &'static str = "gru";
    const GATES: usize = 3;
    const STATES: usize = 1;
    /// r, z, n and `W_hn h + b_hn`.
    const SAVED: usize = 4;
    const HIDDEN_GRAD_DIFFERS: bool = true;

    #[inline(always)]
    fn forward<T: CellFloat>(&self, xg: &[T], hg: &[T], state: &mut [T], saved: &mut [T]) {
        let h = state.len();
        for j0 in (0..h).step_by(LANES) {
            let (xr, xz, xn) = (load(xg, 0, h, j0), load(xg, 1, h, j0), load(xg, 2, h, j0));
            let (hr, hz, hn) = (load(hg, 0, h, j0), load(hg, 1, h, j0), load(hg, 2, h, j0));
            let hp = load(state, 0, h, j0);
            let r = lanes(|l| T::sigmoid(xr[l] + hr[l]));
            let z = lanes(|l| T::sigmoid(xz[l] + hz[l]));
            let n = lanes(|l| T::tanh_(xn[l] + r[l] * hn[l]));
            store(state, 0, h, j0, &lanes(|l| n[l] + z[l] * (hp[l] - n[l])));
            for (k, a) in [r, z, n, hn].iter().enumerate() {
                store(saved, k, h, j0, a);
            }
        }
    }

    #[inline(always)]
    fn backward<T: CellFloat>(&self, saved: &[T], prev: &[T], dstate: &mut [T], dgx: &mut [T], dgh: &mut [T]) {
        let h = prev.len();
        let one = T::one();
        for j0 in (0..h).step_by(LANES) {
            let load_saved = |k| load(saved, k, h, j0);
            let (r, z, n, hn) = (load_saved(0), load_saved(1), load_saved(2), load_saved(3));
            let (hp, dh) = (load(prev, 0, h, j0), load(dstate, 0, h, j0));
            let dn = lanes(|l| dh[l] * (one - z[l]) * (one - n[l] * n[l]));
            let dz = lanes(|l| dh[l] * (hp[l] - n[l]) * z[l] * (one - z[l]));
            let dr = lanes(|l| dn[l] * hn[l] * r[l] * (one - r[l]));
            for row in [&mut *dgx, &mut *dgh] {
                store(row, 0, h, j0, &dr);
                store(row, 1, h, j0, &dz);
            }
            store(dgx, 2, h, j0, &dn);
            store(dgh, 2, h, j0, &lanes(|l| dn[l] * r[l]));
            store(dstate, 0, h, j0, &lanes(|l| dh[l] * z[l]));
        }
    }
}

/// The nonlinearity of an Elman [`RNN`](crate::RNN) (`nonlinearity='tanh'` or `'relu'`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RnnNonlinearity {
    /// `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`, torch's default.
    #[default]
    Tanh,
    /// `h' = relu(W_ih x + b_ih + W_hh h + b_hh)`.
    Relu,
}

/// `torch.nn.RNN`'s cell: `h' = act(W_ih x + b_ih + W_hh h + b_hh)`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ElmanCell(pub RnnNonlinearity);

impl Cell for ElmanCell {
    const NAME: &'static str = "rnn";
    const GATES: usize = 1;
    const STATES: usize = 1;
    /// h'.
    const SAVED: usize = 1;
    const HIDDEN_GRAD_DIFFERS: bool = false;

    #[inline(always)]
    fn forward<T: CellFloat>(&self, xg: &[T], hg: &[T], state: &mut [T], saved: &mut [T]) {
        let h = state.len();
        let (xg, hg, sh, saved) = (&xg[..h], &hg[..h], &mut state[..h], &mut saved[..h]);
        match self.0 {
            RnnNonlinearity::Tanh => (0..h).for_each(|j| sh[j] = T::tanh_(xg[j] + hg[j])),
            RnnNonlinearity::Relu => (0..h).for_each(|j| {
                // Not `max`, which drops NaN; PyTorch's relu passes NaN and -0.0 on.
                let v = xg[j] + hg[j];
                sh[j] = if T::zero() > v { T::zero() } else { v };
            }),
        }
        saved.copy_from_slice(sh);
    }

    #[inline(always)]
    fn backward<T: CellFloat>(&self, saved: &[T], prev: &[T], dstate: &mut [T], dgx: &mut [T], dgh: &mut [T]) {
        let h = prev.len();
        let (out, dh, dgx) = (&saved[..h], &mut dstate[..h], &mut dgx[..h]);
        let one = T::one();
        match self.0 {
            RnnNonlinearity::Tanh => (0..h).for_each(|j| dgx[j] = dh[j] * (one - out[j] * out[j])),
            RnnNonlinearity::Relu => (0..h).for_each(|j| dgx[j] = if out[j] <= T::zero() { T::zero() } else { dh[j] }),
        }
        dh.fill(T::zero());
        dgh.copy_from_slice(dgx);
    }
}
