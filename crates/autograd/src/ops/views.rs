//! View ops. Each backward maps the gradient back to the input's layout: reshape
//! back, permute by the inverse, sum over expanded dims, or pad a narrowed slice.

use nabla_tensor::{normalize_dim, NdArray};

use crate::graph::record;
use crate::tensor::Tensor;

impl Tensor {
    /// Records a shape-only op whose gradient is the output gradient reshaped back.
    fn reshaping(&self, name: &'static str, out: NdArray) -> Tensor {
        let shape: Vec<isize> = self.shape().iter().map(|&d| d as isize).collect();
        record(name, out, &[self], || move |g, _| Ok(vec![Some(g.reshape(&shape))]))
    }

    /// The same elements viewed as `shape` (one entry may be `-1`), sharing storage
    /// (`Tensor.view`).
    ///
    /// # Panics
    /// If the size differs or the strides forbid a view (use [`Tensor::reshape`]).
    #[track_caller]
    pub fn view(&self, shape: &[isize]) -> Tensor {
        let out = self.data().view(shape);
        self.reshaping("view", out)
    }

    /// The same elements as `shape`: a view when possible, else a copy (`torch.reshape`).
    #[track_caller]
    pub fn reshape(&self, shape: &[isize]) -> Tensor {
        let out = self.data().reshape(shape);
        self.reshaping("reshape", out)
    }

    /// Flattens dims `start..=end` into one (`torch.flatten`).
    #[track_caller]
    pub fn flatten(&self, start: isize, end: isize) -> Tensor {
        let out = self.data().flatten(start, end);
        self.reshaping("flatten", out)
    }

    /// Removes all size-1 dims (`Tensor.squeeze()`).
    pub fn squeeze(&self) -> Tensor {
        let out = self.data().squeeze();
        self.reshaping("squeeze", out)
    }

    /// Removes dim `dim` if it has size 1 (`Tensor.squeeze(dim)`).
    #[track_caller]
    pub fn squeeze_dim(&self, dim: isize) -> Tensor {
        let out = self.data().squeeze_dim(dim);
        self.reshaping("squeeze", out)
    }

    /// Inserts a size-1 dim at `dim` (`Tensor.unsqueeze`).
    #[track_caller]
    pub fn unsqueeze(&self, dim: isize) -> Tensor {
        let out = self.data().unsqueeze(dim);
        self.reshaping("unsqueeze", out)
    }

    /// Reorders dims; output dim `i` is input dim `dims[i]` (`Tensor.permute`).
    #[track_caller]
    pub fn permute(&self, dims: &[isize]) -> Tensor {
        let out = self.data().permute(dims);
        let n = dims.len();
        let mut inverse = vec![0isize; n];
        for (i, &d) in dims.iter().enumerate() {
            inverse[normalize_dim("permute", d, n)] = i as isize;
        }
        record("permute", out, &[self], || move |g, _| Ok(vec![Some(g.permute(&inverse))]))
    }

    /// Swaps two dims (`Tensor.transpose`).
    #[track_caller]
    pub fn transpose(&self, d0: isize, d1: isize) -> Tensor {
        let out = self.data().transpose(d0, d1);
        record("transpose", out, &[self], || move |g, _| Ok(vec![Some(g.transpose(d0, d1))]))
    }

    /// Matrix transpose of a tensor with at most 2 dims (`Tensor.t`).
    #[track_caller]
    pub fn t(&self) -> Tensor {
        let out = self.data().t();
        record("t", out, &[self], || move |g, _| Ok(vec![Some(g.t())]))
    }

    /// Elements `start..start + len` along `dim`, sharing storage (`Tensor.narrow`).
    #[track_caller]
    pub fn narrow(&self, dim: isize, start: usize, len: usize) -> Tensor {
        let x = self.data();
        let out = x.narrow(dim, start, len);
        let shape = x.shape().to_vec();
        let d = normalize_dim("narrow", dim, shape.len());
        record("narrow", out, &[self], || move |g, _| Ok(vec![Some(NdArray::narrow_scatter(g, &shape, d, start))]))
    }

    /// The slice at `index` along `dim`, with the dim removed (`Tensor.select`, or
    /// `x[i]` for dim 0).
    #[track_caller]
    pub fn select(&self, dim: isize, index: usize) -> Tensor {
        let x = self.data();
        let out = x.select(dim, index);
        let shape = x.shape().to_vec();
        let d = normalize_dim("select", dim, shape.len());
        record("select", out, &[self], || {
            move |g, _| Ok(vec![Some(NdArray::narrow_scatter(&g.unsqueeze(d as isize), &shape, d, index))])
        })
    }

    /// Broadcasts to `shape` without copying; `-1` keeps a dim (`Tensor.expand`).
    #[track_caller]
    pub fn expand(&self, shape: &[isize]) -> Tensor {
        let x = self.data();
        let out = x.expand(shape);
        let from = x.shape().to_vec();
        record("expand", out, &[self], || move |g, _| Ok(vec![Some(g.sum_to(&from))]))
    }

    /// Broadcasts to `shape` (`torch.broadcast_to`).
    #[track_caller]
    pub fn broadcast_to(&self, shape: &[usize]) -> Tensor {
        let s: Vec<isize> = shape.iter().map(|&d| d as isize).collect();
        self.expand(&s)
    }

    /// This tensor with contiguous storage (copies only if needed).
    pub fn contiguous(&self) -> Tensor {
        let x = self.data();
        if x.is_contiguous() {
            return self.clone();
        }
        record("contiguous", x.contiguous(), &[self], || move |g, _| Ok(vec![Some(g.clone())]))
    }

    /// A copy of the value that stays in the graph (`Tensor.clone()`; Rust's `Clone`
    /// only copies the handle).
    pub fn copy(&self) -> Tensor {
        let x = self.data();
        let out = x.contiguous();
        let out = if out.shares_storage(&x) { x.mul_scalar(1.0) } else { out };
        record("clone", out, &[self], || move |g, _| Ok(vec![Some(g.clone())]))
    }
}
