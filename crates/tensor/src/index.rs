//! Joining and indexing: cat, stack, gather/scatter_add, index_select/index_add, and
//! the strided region copy they share.

use crate::array::NdArray;
use crate::dispatch;
use crate::dtype::{DType, Element};
use crate::layout::{normalize_dim, Layout, Walk};
use crate::storage::Storage;

/// Writes (or adds, if `accumulate`) `src` viewed through `src_l` into `dst` viewed
/// through `dst_l`; both layouts have the same shape.
fn copy_region<T: Element>(dst: &mut [T], dst_l: &Layout, src: &[T], src_l: &Layout, accumulate: bool) {
    let walk = Walk::new(dst_l.shape(), [dst_l, src_l]);
    let [sd, ss] = walk.inner_strides();
    walk.runs(0..dst_l.numel(), |[od, os], len| {
        if sd == 1 && ss == 1 {
            // Whole rows (an embedding lookup, a batch gather): slice ops vectorise.
            let (dst, src) = (&mut dst[od..od + len], &src[os..os + len]);
            if accumulate {
                dst.iter_mut().zip(src).for_each(|(d, &v)| *d += v);
            } else {
                dst.copy_from_slice(src);
            }
            return;
        }
        for i in 0..len {
            let v = src[os + i * ss];
            let d = &mut dst[od + i * sd];
            if accumulate {
                *d += v;
            } else {
                *d = v;
            }
        }
    });
}

/// Checks an index array: integer dtype, every value in `0..size`.
#[track_caller]
fn index_values(op: &str, index: &NdArray, size: usize, dim: usize) -> Vec<i64> {
    if index.dtype() != DType::I64 {
        panic!("{op}: expected an i64 index tensor, got {}", index.dtype());
    }
    let v = index.to_vec::<i64>();
    if let Some(&bad) = v.iter().find(|&&i| i < 0 || i as usize >= size) {
        panic!("{op}: index {bad} is out of bounds for dimension {dim} with size {size}");
    }
    v
}

impl NdArray {
    /// Concatenates arrays along `dim`; all other dims must match (`torch.cat`).
    ///
    /// ```
    /// use nabla_tensor::NdArray;
    /// let a = NdArray::from_vec(vec![1.0f32, 2.0], &[1, 2]);
    /// let c = NdArray::cat(&[a.clone(), a], 0);
    /// assert_eq!(c.shape(), &[2, 2]);
    /// ```
    #[track_caller]
    pub fn cat(arrays: &[NdArray], dim: isize) -> NdArray {
        let first = arrays.first().unwrap_or_else(|| panic!("cat: expected a non-empty list of tensors"));
        let d = normalize_dim("cat", dim, first.ndim());
        let dtype = arrays.iter().fold(first.dtype(), |t, a| DType::promote(t, a.dtype()));
        for a in arrays {
            let same = a.ndim() == first.ndim()
                && a.shape().iter().zip(first.shape()).enumerate().all(|(i, (x, y))| i == d || x == y);
            if !same {
                panic!(
                    "cat: sizes of tensors must match except in dimension {d}: got shapes {:?} and {:?}",
                    first.shape(),
                    a.shape()
                );
            }
        }
        let mut shape = first.shape().to_vec();
        shape[d] = arrays.iter().map(|a| a.shape()[d]).sum();
        let mut out = NdArray::zeros(&shape, dtype);
        let mut start = 0;
        for a in arrays {
            let len = a.shape()[d];
            out.write_region(&Layout::contiguous(&shape).narrow(d, start, len), &a.cast(dtype), false);
            start += len;
        }
        out
    }

    /// Writes `src` into the region `region` of this (contiguous, uniquely owned) array.
    fn write_region(&mut self, region: &Layout, src: &NdArray, accumulate: bool) {
        let dtype = self.dtype();
        let src = src.cast(dtype);
        match dtype {
            DType::F32 => {
                copy_region(self.data_mut::<f32>(), region, f32::slice(&src.storage).unwrap(), &src.layout, accumulate)
            }
            DType::F64 => {
                copy_region(self.data_mut::<f64>(), region, f64::slice(&src.storage).unwrap(), &src.layout, accumulate)
            }
            DType::I64 => {
                copy_region(self.data_mut::<i64>(), region, i64::slice(&src.storage).unwrap(), &src.layout, accumulate)
            }
        }
    }

    /// Stacks same-shaped arrays along a new dim `dim` (`torch.stack`).
    #[track_caller]
    pub fn stack(arrays: &[NdArray], dim: isize) -> NdArray {
        let first = arrays.first().unwrap_or_else(|| panic!("stack: expected a non-empty list of tensors"));
        if let Some(a) = arrays.iter().find(|a| a.shape() != first.shape()) {
            panic!("stack: expects each tensor to be equal size, but got {:?} and {:?}", first.shape(), a.shape());
        }
        let d = normalize_dim("stack", dim, first.ndim() + 1) as isize;
        let parts: Vec<NdArray> = arrays.iter().map(|a| a.unsqueeze(d)).collect();
        NdArray::cat(&parts, d)
    }

    /// A zero array of `shape` with `src` written at elements `start..start+len` of `dim`
    /// (the gradient of `narrow`).
    pub fn narrow_scatter(src: &NdArray, shape: &[usize], dim: usize, start: usize) -> NdArray {
        let mut out = NdArray::zeros(shape, src.dtype());
        out.write_region(&Layout::contiguous(shape).narrow(dim, start, src.shape()[dim]), src, false);
        out
    }

    /// Picks values along `dim` at positions `index` (`torch.gather`): for 2-D and dim 1,
    /// `out[i][j] = self[i][index[i][j]]`. The output has the index's shape.
    #[track_caller]
    pub fn gather(&self, dim: isize, index: &NdArray) -> NdArray {
        let d = normalize_dim("gather", dim, self.ndim());
        self.check_index_shape("gather", d, index);
        let idx = index_values("gather", index, self.shape().get(d).copied().unwrap_or(1), d);
        let mut strides = self.strides().to_vec();
        let dim_stride = strides.get(d).copied().unwrap_or(0);
        if let Some(s) = strides.get_mut(d) {
            *s = 0;
        }
        let base = Layout::from_parts(index.shape().to_vec(), strides, self.layout.offset());
        let storage = dispatch!(&*self.storage, s, T => {
            let mut out = Vec::with_capacity(idx.len());
            let walk = Walk::new(index.shape(), [&base]);
            let [st] = walk.inner_strides();
            walk.runs(0..idx.len(), |[o], len| {
                for i in 0..len {
                    out.push(s[o + i * st + idx[out.len()] as usize * dim_stride]);
                }
            });
            T::into_storage(out)
        });
        NdArray::from_storage(storage, index.shape())
    }

    #[track_caller]
    fn check_index_shape(&self, op: &str, d: usize, index: &NdArray) {
        let ok = index.ndim() == self.ndim()
            && index.shape().iter().zip(self.shape()).enumerate().all(|(i, (&x, &y))| i == d || x <= y);
        if !ok {
            panic!(
                "{op}: index of shape {:?} does not fit input of shape {:?} (same number of dims, and no larger except in dim {d})",
                index.shape(),
                self.shape()
            );
        }
    }

    /// A zero array of `shape` with `src[i]` added at the position `index[i]` picks
    /// along `dim` (`Tensor.scatter_add`); the gradient of `gather`.
    #[track_caller]
    pub fn scatter_add(shape: &[usize], dim: isize, index: &NdArray, src: &NdArray) -> NdArray {
        let zeros = NdArray::zeros(shape, src.dtype());
        let d = normalize_dim("scatter_add", dim, shape.len());
        zeros.check_index_shape("scatter_add", d, index);
        if src.shape() != index.shape() {
            panic!("scatter_add: src of shape {:?} must match index of shape {:?}", src.shape(), index.shape());
        }
        let idx = index_values("scatter_add", index, shape.get(d).copied().unwrap_or(1), d);
        let mut strides = zeros.strides().to_vec();
        let dim_stride = strides.get(d).copied().unwrap_or(0);
        if let Some(s) = strides.get_mut(d) {
            *s = 0;
        }
        let base = Layout::from_parts(index.shape().to_vec(), strides, 0);
        let src = src.contiguous();
        let mut out = zeros;
        fn add_all<T: Element>(out: &mut [T], base: &Layout, idx: &[i64], dim_stride: usize, src: &[T]) {
            let walk = Walk::new(base.shape(), [base]);
            let [st] = walk.inner_strides();
            let mut k = 0;
            walk.runs(0..idx.len(), |[o], len| {
                for i in 0..len {
                    out[o + i * st + idx[k] as usize * dim_stride] += src[k];
                    k += 1;
                }
            });
        }
        match &*src.storage {
            Storage::F32(s) => add_all(out.data_mut::<f32>(), &base, &idx, dim_stride, s),
            Storage::F64(s) => add_all(out.data_mut::<f64>(), &base, &idx, dim_stride, s),
            Storage::I64(s) => add_all(out.data_mut::<i64>(), &base, &idx, dim_stride, s),
        }
        out
    }

    /// Selects entries `index` (1-D, `i64`) along `dim` (`torch.index_select`).
    #[track_caller]
    pub fn index_select(&self, dim: isize, index: &NdArray) -> NdArray {
        let d = normalize_dim("index_select", dim, self.ndim());
        if index.ndim() > 1 {
            panic!("index_select: index must be 0-D or 1-D, got shape {:?}", index.shape());
        }
        let idx = index_values("index_select", index, self.shape()[d], d);
        let mut shape = self.shape().to_vec();
        shape[d] = idx.len();
        let mut out = NdArray::zeros(&shape, self.dtype());
        let out_l = Layout::contiguous(&shape);
        for (i, &j) in idx.iter().enumerate() {
            out.write_region(&out_l.narrow(d, i, 1), &self.narrow(d as isize, j as usize, 1), false);
        }
        out
    }

    /// A zero array of `shape` with slice `i` of `src` along `dim` added at position
    /// `index[i]` (`Tensor.index_add`); the gradient of `index_select`.
    #[track_caller]
    pub fn index_add(shape: &[usize], dim: isize, index: &NdArray, src: &NdArray) -> NdArray {
        let d = normalize_dim("index_add", dim, shape.len());
        let idx = index_values("index_add", index, shape[d], d);
        let mut out = NdArray::zeros(shape, src.dtype());
        let out_l = Layout::contiguous(shape);
        for (i, &j) in idx.iter().enumerate() {
            out.write_region(&out_l.narrow(d, j as usize, 1), &src.narrow(d as isize, i, 1), true);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_then_scatter_add_round_trip() {
        let a = NdArray::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
        let idx = NdArray::from_vec(vec![2i64, 0, 1, 1], &[2, 2]);
        let g = a.gather(1, &idx);
        assert_eq!(g.to_vec::<f64>(), vec![3.0, 1.0, 5.0, 5.0]);
        let s = NdArray::scatter_add(&[2, 3], 1, &idx, &g);
        assert_eq!(s.to_vec::<f64>(), vec![1.0, 0.0, 3.0, 0.0, 10.0, 0.0]);
    }

    #[test]
    #[should_panic(expected = "gather: index 3 is out of bounds for dimension 1 with size 3")]
    fn gather_out_of_range() {
        let a = NdArray::zeros(&[2, 3], DType::F32);
        a.gather(1, &NdArray::from_vec(vec![3i64, 0], &[2, 1]));
    }

    #[test]
    fn index_select_and_add() {
        let a = NdArray::from_vec((0..6).map(|x| x as f32).collect::<Vec<_>>(), &[3, 2]);
        let idx = NdArray::from_vec(vec![2i64, 0, 2], &[3]);
        let s = a.index_select(0, &idx);
        assert_eq!(s.to_vec::<f32>(), vec![4.0, 5.0, 0.0, 1.0, 4.0, 5.0]);
        let back = NdArray::index_add(&[3, 2], 0, &idx, &s);
        assert_eq!(back.to_vec::<f32>(), vec![0.0, 1.0, 0.0, 0.0, 8.0, 10.0]);
    }
}
