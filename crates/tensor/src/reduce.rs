//! Reductions over one, several or all dims: sum, mean, prod, max/min (and their
//! indices), logsumexp, var, std, and `sum_to` (the inverse of broadcasting).

use num_traits::{One, Zero};

use crate::array::NdArray;
use crate::dtype::{DType, Element};
use crate::layout::{normalize_dim, Layout, Walk};
use crate::storage::Storage;
use crate::threads::fill_chunks;
use crate::{dispatch, dispatch_float};

/// A reduction that yields one value per reduced group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    /// Sum of the group.
    Sum,
    /// Arithmetic mean of the group (integers give `f32`).
    Mean,
    /// Product of the group.
    Prod,
    /// Largest element; NaN wins, as in PyTorch.
    Max,
    /// Smallest element; NaN wins, as in PyTorch.
    Min,
}

impl Reduce {
    fn name(self) -> &'static str {
        match self {
            Reduce::Sum => "sum",
            Reduce::Mean => "mean",
            Reduce::Prod => "prod",
            Reduce::Max => "amax",
            Reduce::Min => "amin",
        }
    }
}

/// Sums a slice with eight independent accumulators: the compiler vectorises this (a
/// single accumulator is a serial dependency chain) and the rounding error grows more
/// slowly than with one running sum.
pub(crate) fn lane_sum<T: Element>(xs: &[T]) -> T {
    let mut lanes = [T::zero(); 8];
    let chunks = xs.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            lanes[i] += c[i];
        }
    }
    let mut s = T::zero();
    for &x in tail {
        s += x;
    }
    ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7])) + s
}

#[allow(clippy::eq_op)]
pub(crate) fn is_nan<T: Element>(x: T) -> bool {
    x != x
}

/// Index of the first largest (`want_max`) or smallest element; the first NaN wins.
fn arg_extreme<T: Element>(xs: &[T], want_max: bool) -> usize {
    let mut best = 0;
    for (i, &x) in xs.iter().enumerate().skip(1) {
        let b = xs[best];
        if is_nan(b) {
            break;
        }
        if is_nan(x) || (want_max && x > b) || (!want_max && x < b) {
            best = i;
        }
    }
    best
}

/// Which dims a reduction removes, from the caller's (possibly negative) dim list;
/// an empty list means every dim.
fn reduced_mask(op: &str, dims: &[isize], ndim: usize) -> Vec<bool> {
    let mut mask = vec![dims.is_empty(); ndim];
    for &d in dims {
        let d = normalize_dim(op, d, ndim);
        if ndim > 0 {
            if mask[d] {
                panic!("{op}: dim {d} appears multiple times in the list of dims {dims:?}");
            }
            mask[d] = true;
        }
    }
    mask
}

impl NdArray {
    /// Applies `f` to each group of elements that share the kept coordinates.
    fn fold_groups<T: Element, U: Element>(
        &self,
        src: &[T],
        mask: &[bool],
        keepdim: bool,
        f: impl Fn(&[T]) -> U + Sync,
    ) -> NdArray {
        let nd = self.ndim();
        let (shape, strides) = (self.shape(), self.strides());
        let kept: Vec<usize> = (0..nd).filter(|&d| !mask[d]).collect();
        let red: Vec<usize> = (0..nd).filter(|&d| mask[d]).collect();
        let pick = |ds: &[usize], v: &[usize]| ds.iter().map(|&d| v[d]).collect::<Vec<_>>();
        let kept_layout = Layout::from_parts(pick(&kept, shape), pick(&kept, strides), self.layout.offset());
        let red_layout = Layout::from_parts(pick(&red, shape), pick(&red, strides), 0);
        let (out_n, red_n) = (kept_layout.numel(), red_layout.numel());
        let red_contiguous = red_layout.is_contiguous();
        let kept_walk = Walk::new(kept_layout.shape(), [&kept_layout]);
        let [ks] = kept_walk.inner_strides();
        let red_walk = Walk::new(red_layout.shape(), [&red_layout]);
        let [rs] = red_walk.inner_strides();
        let mut out = vec![U::default(); out_n];
        fill_chunks(&mut out, out_n * red_n.max(1), |start, chunk| {
            let mut buf = Vec::with_capacity(if red_contiguous { 0 } else { red_n });
            let mut o = 0;
            kept_walk.runs(start..start + chunk.len(), |[base], len| {
                for i in 0..len {
                    let b = base + i * ks;
                    chunk[o] = if red_contiguous {
                        f(&src[b..b + red_n])
                    } else {
                        buf.clear();
                        red_walk.runs(0..red_n, |[off], l| buf.extend((0..l).map(|j| src[b + off + j * rs])));
                        f(&buf)
                    };
                    o += 1;
                }
            });
        });
        let out_shape: Vec<usize> =
            if keepdim { (0..nd).map(|d| if mask[d] { 1 } else { shape[d] }).collect() } else { pick(&kept, shape) };
        NdArray::from_vec(out, &out_shape)
    }

    /// Sum over leading dims of a contiguous array, row by row (the layout of a bias
    /// gradient), so the inner loop is a vectorised row add instead of a strided walk.
    fn sum_leading<T: Element>(&self, src: &[T], rows: usize, cols: usize) -> Vec<T> {
        let src = &src[self.layout.offset()..self.layout.offset() + self.numel()];
        let mut out = vec![T::zero(); cols];
        fill_chunks(&mut out, self.numel(), |start, chunk| {
            for r in 0..rows {
                let row = &src[r * cols + start..r * cols + start + chunk.len()];
                for (o, &x) in chunk.iter_mut().zip(row) {
                    *o += x;
                }
            }
        });
        out
    }

    /// Reduces `dims` (all dims if empty) with `op`, keeping them as size 1 if `keepdim`.
    ///
    /// ```
    /// use nabla_tensor::{NdArray, Reduce};
    /// let a = NdArray::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
    /// assert_eq!(a.reduce(Reduce::Sum, &[0], false).to_vec::<f32>(), vec![4.0, 6.0]);
    /// ```
    #[track_caller]
    pub fn reduce(&self, op: Reduce, dims: &[isize], keepdim: bool) -> NdArray {
        let mask = reduced_mask(op.name(), dims, self.ndim());
        let red_n: usize = self.shape().iter().zip(&mask).filter(|(_, &m)| m).map(|(&d, _)| d).product();
        if red_n == 0 && matches!(op, Reduce::Max | Reduce::Min) {
            panic!("{}: cannot reduce over a zero-size dimension (shape {:?})", op.name(), self.shape());
        }
        if op == Reduce::Mean && self.dtype() == DType::I64 {
            return self.cast(DType::F32).reduce(op, dims, keepdim);
        }
        let leading = self.is_contiguous() && {
            let first_kept = mask.iter().position(|&m| !m).unwrap_or(mask.len());
            // A full reduction is one lane sum, not `numel` rows of one column.
            first_kept > 0 && first_kept < mask.len() && mask[first_kept..].iter().all(|&m| !m)
        };
        if op == Reduce::Sum && leading && !keepdim {
            let kept: Vec<usize> = self.shape().iter().zip(&mask).filter(|(_, &m)| !m).map(|(&d, _)| d).collect();
            let storage =
                dispatch!(&*self.storage, s, T => T::into_storage(self.sum_leading(s, red_n, kept.iter().product())));
            return NdArray::from_storage(storage, &kept);
        }
        let n = red_n as f64;
        dispatch!(&*self.storage, s, T => match op {
            Reduce::Sum => self.fold_groups(s, &mask, keepdim, lane_sum::<T>),
            Reduce::Mean => self.fold_groups(s, &mask, keepdim, |xs: &[T]| lane_sum(xs) / T::from_f64(n)),
            Reduce::Prod => self.fold_groups(s, &mask, keepdim, |xs: &[T]| xs.iter().fold(T::one(), |a, &x| a * x)),
            Reduce::Max => self.fold_groups(s, &mask, keepdim, |xs: &[T]| xs[arg_extreme(xs, true)]),
            Reduce::Min => self.fold_groups(s, &mask, keepdim, |xs: &[T]| xs[arg_extreme(xs, false)]),
        })
    }

    /// Sum over `dims` (all if empty).
    #[track_caller]
    pub fn sum(&self, dims: &[isize], keepdim: bool) -> NdArray {
        self.reduce(Reduce::Sum, dims, keepdim)
    }

    /// Mean over `dims` (all if empty).
    #[track_caller]
    pub fn mean(&self, dims: &[isize], keepdim: bool) -> NdArray {
        self.reduce(Reduce::Mean, dims, keepdim)
    }

    /// Product over `dims` (all if empty).
    #[track_caller]
    pub fn prod(&self, dims: &[isize], keepdim: bool) -> NdArray {
        self.reduce(Reduce::Prod, dims, keepdim)
    }

    /// Maximum over `dims` (all if empty), as `torch.amax`.
    #[track_caller]
    pub fn amax(&self, dims: &[isize], keepdim: bool) -> NdArray {
        self.reduce(Reduce::Max, dims, keepdim)
    }

    /// Minimum over `dims` (all if empty), as `torch.amin`.
    #[track_caller]
    pub fn amin(&self, dims: &[isize], keepdim: bool) -> NdArray {
        self.reduce(Reduce::Min, dims, keepdim)
    }

    /// Index of the largest element along `dim`, or in the flattened array when `None`
    /// (`torch.argmax`); the first occurrence wins ties. Returns `i64`.
    #[track_caller]
    pub fn argmax(&self, dim: Option<isize>, keepdim: bool) -> NdArray {
        self.arg_reduce("argmax", dim, keepdim, true)
    }

    /// Index of the smallest element, as [`NdArray::argmax`].
    #[track_caller]
    pub fn argmin(&self, dim: Option<isize>, keepdim: bool) -> NdArray {
        self.arg_reduce("argmin", dim, keepdim, false)
    }

    /// The index of the extreme along `dim`, with errors naming `op`.
    #[track_caller]
    pub fn arg_reduce(&self, op: &str, dim: Option<isize>, keepdim: bool, want_max: bool) -> NdArray {
        let Some(dim) = dim else {
            let flat = self.reshape_exact(&[self.numel()]).arg_reduce(op, Some(0), false, want_max);
            return if keepdim { flat.reshape_exact(&vec![1; self.ndim()]) } else { flat };
        };
        let d = normalize_dim(op, dim, self.ndim());
        if self.ndim() > 0 && self.shape()[d] == 0 {
            panic!("{op}: cannot reduce over a zero-size dimension (shape {:?})", self.shape());
        }
        let mut mask = vec![false; self.ndim()];
        if let Some(m) = mask.get_mut(d) {
            *m = true;
        }
        dispatch!(&*self.storage, s, T => self.fold_groups(s, &mask, keepdim, |xs: &[T]| arg_extreme(xs, want_max) as i64))
    }

    /// Maximum along `dim` with the index where it occurs (`torch.max(x, dim)`).
    #[track_caller]
    pub fn max_dim(&self, dim: isize, keepdim: bool) -> (NdArray, NdArray) {
        let idx = self.arg_reduce("max", Some(dim), true, true);
        let values = self.gather(dim, &idx);
        let d = normalize_dim("max", dim, self.ndim());
        if keepdim || self.ndim() == 0 {
            (values, idx)
        } else {
            (values.squeeze_dim(d as isize), idx.squeeze_dim(d as isize))
        }
    }

    /// Minimum along `dim` with the index where it occurs (`torch.min(x, dim)`).
    #[track_caller]
    pub fn min_dim(&self, dim: isize, keepdim: bool) -> (NdArray, NdArray) {
        let idx = self.arg_reduce("min", Some(dim), true, false);
        let values = self.gather(dim, &idx);
        if keepdim || self.ndim() == 0 {
            (values, idx)
        } else {
            (values.squeeze_dim(dim), idx.squeeze_dim(dim))
        }
    }

    /// `log(sum(exp(x)))` over `dims`, computed stably by shifting by the maximum.
    #[track_caller]
    pub fn logsumexp(&self, dims: &[isize], keepdim: bool) -> NdArray {
        let mask = reduced_mask("logsumexp", dims, self.ndim());
        let x = self.cast(self.dtype().to_float());
        let m = x.amax(dims, true);
        // An all -inf (or +inf) group must not turn into NaN through inf - inf.
        let m = dispatch_float!("logsumexp", &*m.storage, s, T => {
            NdArray::from_vec(s.iter().map(|&v| if num_traits::Float::is_finite(v) { v } else { T::zero() }).collect::<Vec<T>>(), m.shape())
        });
        let out = x.sub(&m).exp().sum(dims, true).log().add(&m);
        if keepdim {
            out
        } else {
            out.squeeze_dims(&mask)
        }
    }

    /// Variance over `dims` (all if empty) with `correction` subtracted from the count
    /// (1 = unbiased, PyTorch's default; 0 = population).
    #[track_caller]
    pub fn var(&self, dims: &[isize], correction: usize, keepdim: bool) -> NdArray {
        self.var_named("var", dims, correction, keepdim)
    }

    #[track_caller]
    fn var_named(&self, op: &str, dims: &[isize], correction: usize, keepdim: bool) -> NdArray {
        let x = self.cast(self.dtype().to_float());
        let mask = reduced_mask(op, dims, self.ndim());
        let n: usize = self.shape().iter().zip(&mask).filter(|(_, &m)| m).map(|(&d, _)| d).product();
        let dev = x.sub(&x.mean(dims, true));
        let denom = n.saturating_sub(correction) as f64;
        dev.mul(&dev).sum(dims, keepdim).div_scalar(denom)
    }

    /// Standard deviation: the square root of [`NdArray::var`].
    #[track_caller]
    pub fn std(&self, dims: &[isize], correction: usize, keepdim: bool) -> NdArray {
        self.var_named("std", dims, correction, keepdim).sqrt()
    }

    fn squeeze_dims(&self, mask: &[bool]) -> NdArray {
        let shape: Vec<usize> = self.shape().iter().zip(mask).filter(|(_, &m)| !m).map(|(&d, _)| d).collect();
        self.reshape_exact(&shape)
    }

    /// Sums this array down to `shape`, the inverse of broadcasting `shape` up to this
    /// array's shape (how a gradient returns to a broadcast input).
    #[track_caller]
    pub fn sum_to(&self, shape: &[usize]) -> NdArray {
        if self.shape() == shape {
            return self.clone();
        }
        let lead = self.ndim().checked_sub(shape.len()).unwrap_or_else(|| {
            panic!("sum_to: cannot sum shape {:?} down to the larger shape {shape:?}", self.shape())
        });
        let dims: Vec<isize> = (0..self.ndim())
            .filter(|&d| d < lead || (shape[d - lead] == 1 && self.shape()[d] != 1))
            .map(|d| d as isize)
            .collect();
        if dims.is_empty() {
            return self.reshape_exact(shape);
        }
        let s = self.sum(&dims, false);
        if s.numel() != shape.iter().product::<usize>() {
            panic!("sum_to: shape {:?} is not a broadcast of {shape:?}", self.shape());
        }
        s.reshape_exact(shape)
    }

    /// Sum of all elements as a 0-d array.
    pub fn sum_all(&self) -> NdArray {
        self.sum(&[], false)
    }
}

/// Counts elements with a nonzero value, for masks (`torch.count_nonzero`).
pub fn count_nonzero(a: &NdArray) -> usize {
    match &*a.contiguous().storage {
        Storage::I64(v) => v.iter().filter(|&&x| x != 0).count(),
        Storage::F32(v) => v.iter().filter(|&&x| x != 0.0).count(),
        Storage::F64(v) => v.iter().filter(|&&x| x != 0.0).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arr(v: &[f64], shape: &[usize]) -> NdArray {
        NdArray::from_vec(v.to_vec(), shape)
    }

    #[test]
    fn sum_over_middle_dim_of_transposed() {
        let a = arr(&(0..24).map(f64::from).collect::<Vec<_>>(), &[2, 3, 4]).permute(&[2, 0, 1]);
        let s = a.sum(&[1], false);
        assert_eq!(s.shape(), &[4, 3]);
        assert_eq!(s.to_vec::<f64>()[0], 0.0 + 12.0);
    }

    #[test]
    fn leading_sum_matches_generic() {
        let a = NdArray::randn(&[7, 5], DType::F64);
        let fast = a.sum(&[0], false);
        let slow = a.sum(&[0], true).reshape_exact(&[5]);
        for (x, y) in fast.to_vec::<f64>().iter().zip(slow.to_vec::<f64>()) {
            assert!((x - y).abs() < 1e-12);
        }
    }

    #[test]
    fn argmax_first_occurrence_and_nan() {
        let a = arr(&[1.0, 3.0, 3.0, 0.0], &[4]);
        assert_eq!(a.argmax(None, false).item(), 1.0);
        let b = arr(&[1.0, f64::NAN, 5.0], &[3]);
        assert_eq!(b.argmax(Some(0), false).item(), 1.0);
    }

    #[test]
    fn logsumexp_handles_infinities() {
        let a = arr(&[f64::NEG_INFINITY, f64::NEG_INFINITY, 0.0, 0.0], &[2, 2]);
        let l = a.logsumexp(&[1], false).to_vec::<f64>();
        assert_eq!(l[0], f64::NEG_INFINITY);
        assert!((l[1] - 2f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn var_unbiased_default() {
        let a = arr(&[1.0, 2.0, 3.0, 4.0], &[4]);
        assert!((a.var(&[], 1, false).item() - 5.0 / 3.0).abs() < 1e-12);
        assert!((a.var(&[], 0, false).item() - 1.25).abs() < 1e-12);
    }
}
