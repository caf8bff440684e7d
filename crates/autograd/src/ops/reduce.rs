//! Reductions. Sum-like gradients broadcast back; max/min gradients go to the
//! selected elements (split evenly among ties for all-element reductions, to the
//! returned index for `max_dim`, as PyTorch does).

use nabla_tensor::{normalize_dim, NdArray};

use crate::graph::{record, Saved};
use crate::tensor::Tensor;

/// The shape a reduction's output has with `keepdim = true`.
fn kept_shape(shape: &[usize], dims: &[isize]) -> Vec<usize> {
    let mut out = shape.to_vec();
    if dims.is_empty() {
        out.iter_mut().for_each(|d| *d = 1);
    }
    for &d in dims {
        out[normalize_dim("reduce", d, shape.len())] = 1;
    }
    out
}

/// Reshapes a reduced gradient to keepdim form and broadcasts it to `shape`.
fn spread(g: &NdArray, shape: &[usize], dims: &[isize]) -> NdArray {
    g.reshape(&kept_shape(shape, dims).iter().map(|&d| d as isize).collect::<Vec<_>>()).broadcast_to(shape)
}

impl Tensor {
    /// Sum of all elements, as a 0-d tensor (`Tensor.sum()`).
    pub fn sum(&self) -> Tensor {
        self.sum_dim(&[], false)
    }

    /// Sum over `dims` (all if empty) (`Tensor.sum(dims, keepdim)`).
    #[track_caller]
    pub fn sum_dim(&self, dims: &[isize], keepdim: bool) -> Tensor {
        let x = self.data();
        let out = x.sum(dims, keepdim);
        let (shape, dims) = (x.shape().to_vec(), dims.to_vec());
        record("sum", out, &[self], || move |g, _| Ok(vec![Some(spread(g, &shape, &dims).contiguous())]))
    }

    /// Mean of all elements (`Tensor.mean()`).
    pub fn mean(&self) -> Tensor {
        self.mean_dim(&[], false)
    }

    /// Mean over `dims` (all if empty).
    #[track_caller]
    pub fn mean_dim(&self, dims: &[isize], keepdim: bool) -> Tensor {
        let x = self.data();
        let out = x.mean(dims, keepdim);
        let (shape, dims) = (x.shape().to_vec(), dims.to_vec());
        let n = (x.numel() / out.numel().max(1)).max(1) as f64;
        record("mean", out, &[self], || {
            move |g, _| Ok(vec![Some(spread(&g.div_scalar(n), &shape, &dims).contiguous())])
        })
    }

    /// Product over `dims` (all if empty).
    #[track_caller]
    pub fn prod_dim(&self, dims: &[isize], keepdim: bool) -> Tensor {
        let x = self.data();
        let out = x.prod(dims, keepdim);
        let (shape, dims_v) = (x.shape().to_vec(), dims.to_vec());
        let saved = Saved::new("prod", self);
        record("prod", out, &[self], || {
            let out_kept = x.prod(dims, true);
            move |g, _| {
                let x = saved.get()?;
                // d/dx_i prod = prod of the others. Dividing the product by x_i fails at
                // zeros, so multiply the exclusive products computed directly instead.
                let others = exclusive_products(x, &dims_v, &out_kept);
                Ok(vec![Some(spread(g, &shape, &dims_v).mul(&others))])
            }
        })
    }

    /// Largest element, as a 0-d tensor (`Tensor.max()`); ties share the gradient.
    pub fn max(&self) -> Tensor {
        self.amax(&[], false)
    }

    /// Smallest element, as a 0-d tensor (`Tensor.min()`); ties share the gradient.
    pub fn min(&self) -> Tensor {
        self.amin(&[], false)
    }

    /// Maximum over `dims` (all if empty), as `torch.amax`; ties share the gradient.
    #[track_caller]
    pub fn amax(&self, dims: &[isize], keepdim: bool) -> Tensor {
        self.extreme("amax", dims, keepdim, true)
    }

    /// Minimum over `dims` (all if empty), as `torch.amin`; ties share the gradient.
    #[track_caller]
    pub fn amin(&self, dims: &[isize], keepdim: bool) -> Tensor {
        self.extreme("amin", dims, keepdim, false)
    }

    fn extreme(&self, name: &'static str, dims: &[isize], keepdim: bool, max: bool) -> Tensor {
        let x = self.data();
        let out = if max { x.amax(dims, keepdim) } else { x.amin(dims, keepdim) };
        let (shape, dims) = (x.shape().to_vec(), dims.to_vec());
        let saved = Saved::new(name, self);
        let value = out.clone();
        record(name, out, &[self], || {
            move |g, _| {
                let x = saved.get()?;
                let hit = x.eq(&spread(&value, &shape, &dims)).cast(g.dtype());
                let count = hit.sum(&dims, true);
                let share = spread(g, &shape, &dims).mul(&hit).div(&count);
                Ok(vec![Some(share)])
            }
        })
    }

    /// Maximum along `dim` and its index (`torch.max(x, dim)`); the gradient goes to the
    /// returned index.
    #[track_caller]
    pub fn max_dim(&self, dim: isize, keepdim: bool) -> (Tensor, Tensor) {
        let idx = self.data().arg_reduce("max", Some(dim), true, true);
        self.take_along(dim, idx, keepdim)
    }

    /// Minimum along `dim` and its index (`torch.min(x, dim)`).
    #[track_caller]
    pub fn min_dim(&self, dim: isize, keepdim: bool) -> (Tensor, Tensor) {
        let idx = self.data().arg_reduce("min", Some(dim), true, false);
        self.take_along(dim, idx, keepdim)
    }

    fn take_along(&self, dim: isize, idx: NdArray, keepdim: bool) -> (Tensor, Tensor) {
        let idx = Tensor::new(idx);
        let values = self.gather(dim, &idx);
        if keepdim || self.dim() == 0 {
            (values, idx)
        } else {
            (values.squeeze_dim(dim), idx.squeeze_dim(dim))
        }
    }

    /// Index of the maximum along `dim`, or of the flattened tensor for `None`
    /// (`torch.argmax`); an `i64` tensor outside the graph.
    #[track_caller]
    pub fn argmax(&self, dim: Option<isize>, keepdim: bool) -> Tensor {
        Tensor::new(self.data().argmax(dim, keepdim))
    }

    /// Index of the minimum along `dim` (`torch.argmin`).
    #[track_caller]
    pub fn argmin(&self, dim: Option<isize>, keepdim: bool) -> Tensor {
        Tensor::new(self.data().argmin(dim, keepdim))
    }

    /// `log(sum(exp(x)))` over `dims`, computed stably (`torch.logsumexp`).
    #[track_caller]
    pub fn logsumexp(&self, dims: &[isize], keepdim: bool) -> Tensor {
        let x = self.data();
        let out = x.logsumexp(dims, keepdim);
        let (shape, dims) = (x.shape().to_vec(), dims.to_vec());
        let saved = Saved::new("logsumexp", self);
        let lse = out.clone();
        record("logsumexp", out, &[self], || {
            move |g, _| {
                // d lse / dx = softmax(x) over the reduced dims.
                let p = saved.get()?.sub(&spread(&lse, &shape, &dims)).exp();
                Ok(vec![Some(spread(g, &shape, &dims).mul(&p))])
            }
        })
    }

    /// Variance over `dims` (all if empty) with `correction` (1 = unbiased, PyTorch's
    /// default) (`torch.var`).
    #[track_caller]
    pub fn var(&self, dims: &[isize], correction: usize, keepdim: bool) -> Tensor {
        let x = self.data();
        let out = x.var(dims, correction, keepdim);
        let (shape, dims) = (x.shape().to_vec(), dims.to_vec());
        let n = (x.numel() / out.numel().max(1)) as f64;
        let saved = Saved::new("var", self);
        record("var", out, &[self], || {
            move |g, _| {
                let x = saved.get()?;
                let centered = x.sub(&x.mean(&dims, true));
                let scale = 2.0 / (n - correction as f64);
                Ok(vec![Some(spread(g, &shape, &dims).mul(&centered).mul_scalar(scale))])
            }
        })
    }

    /// Standard deviation over `dims` (`torch.std`).
    #[track_caller]
    pub fn std(&self, dims: &[isize], correction: usize, keepdim: bool) -> Tensor {
        let ndim = self.dim();
        for &d in dims {
            normalize_dim("std", d, ndim);
        }
        self.var(dims, correction, keepdim).sqrt()
    }
}

/// For each element, the product of the other elements of its reduction group.
fn exclusive_products(x: &NdArray, dims: &[isize], full: &NdArray) -> NdArray {
    let shape = x.shape();
    let zero = x.eq_scalar(0.0);
    // Where the element is nonzero: full / x. Where it is the only zero of its group:
    // the product of the others, i.e. the product with that zero replaced by 1.
    let without_zeros = x.masked_fill(&zero, 1.0).prod(dims, true);
    let zeros_in_group = zero.sum(dims, true);
    let safe_x = x.masked_fill(&zero, 1.0);
    let nonzero_case = spread(full, shape, dims).div(&safe_x);
    let zero_case =
        spread(&without_zeros, shape, dims).mul(&spread(&zeros_in_group.eq_scalar(1.0), shape, dims).cast(x.dtype()));
    NdArray::where_cond(&zero, &zero_case, &nonzero_case)
}
