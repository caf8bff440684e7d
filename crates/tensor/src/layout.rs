//! Shapes, strides and offsets: how an array views its storage.
//!
//! Every view op (reshape, permute, narrow, expand, ...) is a pure function from one
//! `Layout` to another; none of them touches data.

use std::ops::Range;

use smallvec::{smallvec, SmallVec};

/// Shape or stride lists. Nearly every tensor has at most 4 dims (NCHW), so they live
/// inline and cloning a layout (which every op does) allocates nothing. More inline
/// room makes every `NdArray` move cost more; 4 measured best on the tiny-op bench.
pub(crate) type Dims = SmallVec<[usize; 4]>;

/// Shape, strides (in elements) and offset of a view into a flat buffer.
///
/// A stride of 0 repeats an element: that is how `expand` broadcasts without copying.
#[derive(Debug, PartialEq, Eq)]
pub struct Layout {
    shape: Dims,
    strides: Dims,
    offset: usize,
}

impl Clone for Layout {
    fn clone(&self) -> Self {
        // `from_slice` copies `Copy` elements in one go; the derived clone goes element
        // by element through `extend`, which showed up in profiles of small ops.
        Layout { shape: Dims::from_slice(&self.shape), strides: Dims::from_slice(&self.strides), offset: self.offset }
    }
}

/// Row-major strides of a contiguous array of `shape`.
pub fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    strides_of(shape).to_vec()
}

fn strides_of(shape: &[usize]) -> Dims {
    let mut strides: Dims = smallvec![0; shape.len()];
    let mut acc = 1;
    for (s, &d) in strides.iter_mut().zip(shape).rev() {
        *s = acc;
        acc *= d;
    }
    strides
}

/// The broadcast shape of two shapes (NumPy/PyTorch rules), or `None` if incompatible.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n { a[i + a.len() - n] } else { 1 };
        let db = if i + b.len() >= n { b[i + b.len() - n] } else { 1 };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Resolves a possibly negative dim index against `ndim`, panicking with the op name.
#[track_caller]
pub fn normalize_dim(op: &str, dim: isize, ndim: usize) -> usize {
    let n = ndim.max(1) as isize;
    let d = if dim < 0 { dim + n } else { dim };
    if d < 0 || d >= n {
        panic!("{op}: dimension out of range (expected to be in range of [{}, {}], but got {dim})", -n, n - 1);
    }
    d as usize
}

impl Layout {
    /// A contiguous row-major layout of `shape` starting at offset 0.
    pub fn contiguous(shape: &[usize]) -> Self {
        Layout { shape: Dims::from_slice(shape), strides: strides_of(shape), offset: 0 }
    }

    /// A layout from raw parts. The caller guarantees every reachable offset is in bounds.
    pub(crate) fn from_parts(shape: impl Into<Dims>, strides: impl Into<Dims>, offset: usize) -> Self {
        let (shape, strides) = (shape.into(), strides.into());
        debug_assert_eq!(shape.len(), strides.len());
        Layout { shape, strides, offset }
    }

    /// The extent of each dimension.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The step in elements along each dimension.
    pub fn strides(&self) -> &[usize] {
        &self.strides
    }

    /// Index of the first element in the storage.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// True when the elements are laid out row-major without gaps (size-1 dims may have
    /// any stride).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1;
        for (&d, &s) in self.shape.iter().zip(&self.strides).rev() {
            if d != 1 && s != expected {
                return false;
            }
            expected *= d;
        }
        true
    }

    /// One past the largest storage index this layout can reach (0 when empty).
    pub fn storage_span(&self) -> usize {
        if self.numel() == 0 {
            return 0;
        }
        self.offset + self.shape.iter().zip(&self.strides).map(|(&d, &s)| (d - 1) * s).sum::<usize>() + 1
    }

    /// Reorders the dims: output dim `i` is input dim `perm[i]`.
    #[track_caller]
    pub fn permute(&self, perm: &[usize]) -> Layout {
        let n = self.ndim();
        let mut seen = vec![false; n];
        if perm.len() != n || perm.iter().any(|&p| p >= n || std::mem::replace(&mut seen[p], true)) {
            panic!("permute: {perm:?} is not a permutation of the dims of a tensor of shape {:?}", self.shape);
        }
        Layout {
            shape: perm.iter().map(|&p| self.shape[p]).collect(),
            strides: perm.iter().map(|&p| self.strides[p]).collect(),
            offset: self.offset,
        }
    }

    /// Swaps two dims.
    pub fn transpose(&self, a: usize, b: usize) -> Layout {
        let mut l = self.clone();
        l.shape.swap(a, b);
        l.strides.swap(a, b);
        l
    }

    /// Restricts dim `dim` to `start..start + len`.
    #[track_caller]
    pub fn narrow(&self, dim: usize, start: usize, len: usize) -> Layout {
        if start + len > self.shape[dim] {
            panic!(
                "narrow: start ({start}) + length ({len}) exceeds dimension size ({}) of dim {dim} of shape {:?}",
                self.shape[dim], self.shape
            );
        }
        let mut l = self.clone();
        l.offset += start * l.strides[dim];
        l.shape[dim] = len;
        l
    }

    /// Inserts a size-1 dim at `dim`.
    pub fn unsqueeze(&self, dim: usize) -> Layout {
        let mut l = self.clone();
        let stride = if dim < l.ndim() { l.strides[dim] * l.shape[dim] } else { 1 };
        l.shape.insert(dim, 1);
        l.strides.insert(dim, stride);
        l
    }

    /// Removes dim `dim`, which must have size 1.
    pub fn squeeze(&self, dim: usize) -> Layout {
        let mut l = self.clone();
        debug_assert_eq!(l.shape[dim], 1);
        l.shape.remove(dim);
        l.strides.remove(dim);
        l
    }

    /// Broadcasts to `shape` by giving new and size-1 dims stride 0, or `None` if the
    /// shapes are incompatible.
    pub fn expand(&self, shape: &[usize]) -> Option<Layout> {
        if shape.len() < self.ndim() {
            return None;
        }
        let lead = shape.len() - self.ndim();
        let mut strides: Dims = smallvec![0; shape.len()];
        for i in 0..self.ndim() {
            let (d, t) = (self.shape[i], shape[lead + i]);
            strides[lead + i] = if d == t {
                self.strides[i]
            } else if d == 1 {
                0
            } else {
                return None;
            };
        }
        Some(Layout { shape: Dims::from_slice(shape), strides, offset: self.offset })
    }

    /// The layout of viewing these elements as `shape` without copying, if the strides
    /// allow it (PyTorch's `view` rule: every new dim must fit in one stride run).
    pub fn reshape_view(&self, shape: &[usize]) -> Option<Layout> {
        if self.is_contiguous() {
            return Some(Layout { shape: Dims::from_slice(shape), strides: strides_of(shape), offset: self.offset });
        }
        // Group the old dims into chunks that are contiguous among themselves, then
        // split each chunk into the new dims whose product it covers.
        let old: SmallVec<[(usize, usize); 4]> =
            self.shape.iter().zip(&self.strides).filter(|(&d, _)| d != 1).map(|(&d, &s)| (d, s)).collect();
        let mut strides: Dims = smallvec![0; shape.len()];
        let mut oi = 0;
        let mut ni = 0;
        while ni < shape.len() {
            if shape[ni] == 1 {
                strides[ni] = 1;
                ni += 1;
                continue;
            }
            if oi >= old.len() {
                return None;
            }
            // One contiguous chunk of old dims.
            let mut chunk_size = old[oi].0;
            let mut chunk_stride = old[oi].1;
            oi += 1;
            while oi < old.len() && old[oi - 1].1 == old[oi].0 * old[oi].1 {
                chunk_size *= old[oi].0;
                chunk_stride = old[oi].1;
                oi += 1;
            }
            // New dims consuming exactly this chunk, innermost last.
            let start = ni;
            let mut prod = 1;
            while ni < shape.len() && prod < chunk_size {
                prod *= shape[ni];
                ni += 1;
            }
            if prod != chunk_size {
                return None;
            }
            let mut s = chunk_stride;
            for j in (start..ni).rev() {
                strides[j] = s;
                s *= shape[j];
            }
        }
        if oi != old.len() {
            return None;
        }
        Some(Layout { shape: Dims::from_slice(shape), strides, offset: self.offset })
    }
}

/// Walks the elements of up to `N` layouts of the same shape in row-major order, one
/// inner run at a time. Adjacent dims that are contiguous in every operand are merged
/// first, so a contiguous array is one run and a broadcast row is a run with stride 0.
pub(crate) struct Walk<const N: usize> {
    shape: Dims,
    strides: [Dims; N],
    offsets: [usize; N],
}

impl<const N: usize> Walk<N> {
    /// Prepares a walk over `shape`, viewing operand `k` through `layouts[k]` (whose
    /// shape must equal `shape`).
    pub fn new(shape: &[usize], layouts: [&Layout; N]) -> Self {
        let mut dims: SmallVec<[(usize, [usize; N]); 4]> = SmallVec::new();
        for (i, &d) in shape.iter().enumerate() {
            if d == 1 {
                continue;
            }
            let s: [usize; N] = std::array::from_fn(|k| layouts[k].strides[i]);
            if let Some(last) = dims.last_mut() {
                if (0..N).all(|k| last.1[k] == d * s[k]) {
                    last.0 *= d;
                    last.1 = s;
                    continue;
                }
            }
            dims.push((d, s));
        }
        if dims.is_empty() {
            dims.push((1, [0; N]));
        }
        Walk {
            shape: dims.iter().map(|d| d.0).collect(),
            strides: std::array::from_fn(|k| dims.iter().map(|d| d.1[k]).collect()),
            offsets: std::array::from_fn(|k| layouts[k].offset),
        }
    }

    /// The stride of the innermost (merged) dim of each operand.
    pub fn inner_strides(&self) -> [usize; N] {
        std::array::from_fn(|k| *self.strides[k].last().unwrap())
    }

    /// Calls `f(offsets, len)` for each run of the elements with row-major index in
    /// `range`, where `offsets[k]` is the storage index of the run's first element in
    /// operand `k` and consecutive elements are `inner_strides()` apart.
    pub fn runs(&self, range: Range<usize>, mut f: impl FnMut([usize; N], usize)) {
        if range.is_empty() {
            // Also keeps the index arithmetic below away from size-0 dims.
            return;
        }
        let nd = self.shape.len();
        let last = self.shape[nd - 1];
        let mut idx: Dims = smallvec![0; nd];
        let mut rem = range.start;
        for d in (0..nd).rev() {
            idx[d] = rem % self.shape[d];
            rem /= self.shape[d];
        }
        let mut pos = range.start;
        while pos < range.end {
            let offs: [usize; N] = std::array::from_fn(|k| {
                self.offsets[k] + idx.iter().zip(&self.strides[k]).map(|(i, s)| i * s).sum::<usize>()
            });
            let len = (last - idx[nd - 1]).min(range.end - pos);
            f(offs, len);
            pos += len;
            idx[nd - 1] += len;
            let mut d = nd - 1;
            while idx[d] == self.shape[d] && d > 0 {
                idx[d] = 0;
                d -= 1;
                idx[d] += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_rules() {
        assert_eq!(broadcast_shapes(&[2, 1, 3], &[4, 1]), Some(vec![2, 4, 3]));
        assert_eq!(broadcast_shapes(&[], &[3]), Some(vec![3]));
        assert_eq!(broadcast_shapes(&[2, 3], &[3, 2]), None);
    }

    #[test]
    fn reshape_view_of_transposed_needs_copy() {
        let t = Layout::contiguous(&[2, 3]).transpose(0, 1);
        assert!(t.reshape_view(&[6]).is_none());
        assert_eq!(t.reshape_view(&[3, 2, 1]).unwrap().strides()[..2], [1, 3]);
    }

    #[test]
    fn reshape_view_splits_a_narrowed_dim() {
        // [4, 6] narrowed to columns 0..4 keeps rows separate: [4, 4] -> [4, 2, 2] is a view.
        let l = Layout::contiguous(&[4, 6]).narrow(1, 0, 4);
        let v = l.reshape_view(&[4, 2, 2]).unwrap();
        assert_eq!(v.strides(), &[6, 2, 1]);
        assert!(l.reshape_view(&[16]).is_none());
    }

    #[test]
    fn walk_merges_contiguous_dims() {
        let l = Layout::contiguous(&[2, 3, 4]);
        let w = Walk::new(&[2, 3, 4], [&l]);
        let mut runs = vec![];
        w.runs(0..24, |o, n| runs.push((o[0], n)));
        assert_eq!(runs, vec![(0, 24)]);
        let mut runs = vec![];
        w.runs(5..13, |o, n| runs.push((o[0], n)));
        assert_eq!(runs, vec![(5, 8)]);
    }

    #[test]
    fn walk_partial_rows_of_transposed() {
        let l = Layout::contiguous(&[3, 2]).transpose(0, 1); // shape [2, 3], strides [1, 2]
        let w = Walk::new(&[2, 3], [&l]);
        let mut seen = vec![];
        w.runs(1..5, |o, n| {
            for i in 0..n {
                seen.push(o[0] + i * w.inner_strides()[0]);
            }
        });
        assert_eq!(seen, vec![2, 4, 1, 3]);
    }
}
