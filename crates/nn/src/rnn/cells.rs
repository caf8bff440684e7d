//! The three cells: LSTM (gates i, f, g, o), GRU (gates r, z, n) and the Elman RNN, with
//! torch.nn's equations. Each loop runs over one sample's `H` units; the rows are sliced
//! to exactly `H` first so the loops compile without bounds checks and vectorise.

use super::act::CellFloat;
use super::cell::Cell;

/// Splits `row` into `N` consecutive blocks of `h` values.
#[inline(always)]
fn blocks<T, const N: usize>(row: &[T], h: usize) -> [&[T]; N] {
    std::array::from_fn(|k| &row[k * h..(k + 1) * h])
}

/// Like [`blocks`], mutably.
#[inline(always)]
fn blocks_mut<T, const N: usize>(row: &mut [T], h: usize) -> [&mut [T]; N] {
    let mut rest = &mut row[..N * h];
    std::array::from_fn(|_| {
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(h);
        rest = tail;
        head
    })
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

    #[inline]
    fn forward<T: CellFloat>(&self, xg: &[T], hg: &[T], state: &mut [T], saved: &mut [T]) {
        let h = state.len() / 2;
        let [xi, xf, xgg, xo] = blocks(xg, h);
        let [hi, hf, hgg, ho] = blocks(hg, h);
        let [sh, sc] = blocks_mut(state, h);
        let [si, sf, sg, so, stc] = blocks_mut(saved, h);
        for j in 0..h {
            let i = T::sigmoid(xi[j] + hi[j]);
            let f = T::sigmoid(xf[j] + hf[j]);
            let g = T::tanh_(xgg[j] + hgg[j]);
            let o = T::sigmoid(xo[j] + ho[j]);
            let c = f * sc[j] + i * g;
            let tc = T::tanh_(c);
            sc[j] = c;
            sh[j] = o * tc;
            (si[j], sf[j], sg[j], so[j], stc[j]) = (i, f, g, o, tc);
        }
    }

    #[inline]
    fn backward<T: CellFloat>(&self, saved: &[T], prev: &[T], dstate: &mut [T], dgx: &mut [T], dgh: &mut [T]) {
        let h = prev.len() / 2;
        let [si, sf, sg, so, stc] = blocks(saved, h);
        let [_, pc] = blocks(prev, h);
        let [dh, dc] = blocks_mut(dstate, h);
        let [di, df, dg, d_o] = blocks_mut(dgx, h);
        let one = T::one();
        for j in 0..h {
            let (i, f, g, o, tc) = (si[j], sf[j], sg[j], so[j], stc[j]);
            let c_grad = dc[j] + dh[j] * o * (one - tc * tc);
            d_o[j] = dh[j] * tc * o * (one - o);
            di[j] = c_grad * g * i * (one - i);
            df[j] = c_grad * pc[j] * f * (one - f);
            dg[j] = c_grad * i * (one - g * g);
            dc[j] = c_grad * f;
            dh[j] = T::zero();
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

    #[inline]
    fn forward<T: CellFloat>(&self, xg: &[T], hg: &[T], state: &mut [T], saved: &mut [T]) {
        let h = state.len();
        let [xr, xz, xn] = blocks(xg, h);
        let [hr, hz, hn] = blocks(hg, h);
        let [sr, sz, sn, shn] = blocks_mut(saved, h);
        let sh = &mut state[..h];
        for j in 0..h {
            let r = T::sigmoid(xr[j] + hr[j]);
            let z = T::sigmoid(xz[j] + hz[j]);
            let n = T::tanh_(xn[j] + r * hn[j]);
            sh[j] = n + z * (sh[j] - n);
            (sr[j], sz[j], sn[j], shn[j]) = (r, z, n, hn[j]);
        }
    }

    #[inline]
    fn backward<T: CellFloat>(&self, saved: &[T], prev: &[T], dstate: &mut [T], dgx: &mut [T], dgh: &mut [T]) {
        let h = prev.len();
        let [sr, sz, sn, shn] = blocks(saved, h);
        let [dxr, dxz, dxn] = blocks_mut(dgx, h);
        let [dhr, dhz, dhn] = blocks_mut(dgh, h);
        let (ph, dh) = (&prev[..h], &mut dstate[..h]);
        let one = T::one();
        for j in 0..h {
            let (r, z, n) = (sr[j], sz[j], sn[j]);
            let dn = dh[j] * (one - z) * (one - n * n);
            let dz = dh[j] * (ph[j] - n) * z * (one - z);
            let dr = dn * shn[j] * r * (one - r);
            (dxr[j], dxz[j], dxn[j]) = (dr, dz, dn);
            (dhr[j], dhz[j], dhn[j]) = (dr, dz, dn * r);
            dh[j] = dh[j] * z;
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

    #[inline]
    fn forward<T: CellFloat>(&self, xg: &[T], hg: &[T], state: &mut [T], saved: &mut [T]) {
        let h = state.len();
        let (xg, hg, sh, saved) = (&xg[..h], &hg[..h], &mut state[..h], &mut saved[..h]);
        match self.0 {
            RnnNonlinearity::Tanh => (0..h).for_each(|j| sh[j] = T::tanh_(xg[j] + hg[j])),
            RnnNonlinearity::Relu => (0..h).for_each(|j| sh[j] = (xg[j] + hg[j]).max(T::zero())),
        }
        saved.copy_from_slice(sh);
    }

    #[inline]
    fn backward<T: CellFloat>(&self, saved: &[T], prev: &[T], dstate: &mut [T], dgx: &mut [T], dgh: &mut [T]) {
        let h = prev.len();
        let (out, dh, dgx) = (&saved[..h], &mut dstate[..h], &mut dgx[..h]);
        let one = T::one();
        match self.0 {
            RnnNonlinearity::Tanh => (0..h).for_each(|j| dgx[j] = dh[j] * (one - out[j] * out[j])),
            RnnNonlinearity::Relu => (0..h).for_each(|j| dgx[j] = if out[j] > T::zero() { dh[j] } else { T::zero() }),
        }
        dh.fill(T::zero());
        dgh.copy_from_slice(dgx);
    }
}
