//! Joining and indexing ops: cat, stack, gather, index_select. Their gradients
//! scatter back: slices of the gradient for cat, `scatter_add` for gather,
//! `index_add` for index_select.

use nabla_tensor::{normalize_dim, NdArray};

use crate::graph::record;
use crate::tensor::Tensor;

impl Tensor {
    /// Concatenates along `dim` (`torch.cat`).
    #[track_caller]
    pub fn cat(tensors: &[Tensor], dim: isize) -> Tensor {
        let arrays: Vec<NdArray> = tensors.iter().map(Tensor::data).collect();
        let out = NdArray::cat(&arrays, dim);
        let d = normalize_dim("cat", dim, out.ndim());
        let parts: Vec<(usize, usize, nabla_tensor::DType)> = {
            let mut start = 0;
            arrays
                .iter()
                .map(|a| {
                    let p = (start, a.shape()[d], a.dtype());
                    start += a.shape()[d];
                    p
                })
                .collect()
        };
        let inputs: Vec<&Tensor> = tensors.iter().collect();
        record("cat", out, &inputs, || {
            move |g, n| {
                Ok(parts
                    .iter()
                    .zip(n)
                    .map(|(&(start, len, dt), &need)| need.then(|| g.narrow(d as isize, start, len).cast(dt)))
                    .collect())
            }
        })
    }

    /// Stacks same-shaped tensors along a new dim (`torch.stack`).
    #[track_caller]
    pub fn stack(tensors: &[Tensor], dim: isize) -> Tensor {
        let first = tensors.first().unwrap_or_else(|| panic!("stack: expected a non-empty list of tensors"));
        let shape = first.shape();
        if let Some(t) = tensors.iter().find(|t| t.shape() != shape) {
            panic!("stack: expects each tensor to be equal size, but got {:?} and {:?}", shape, t.shape());
        }
        let d = normalize_dim("stack", dim, shape.len() + 1) as isize;
        let parts: Vec<Tensor> = tensors.iter().map(|t| t.unsqueeze(d)).collect();
        Tensor::cat(&parts, d)
    }

    /// Values along `dim` at positions `index` (`torch.gather`).
    #[track_caller]
    pub fn gather(&self, dim: isize, index: &Tensor) -> Tensor {
        let (x, idx) = (self.data(), index.data());
        let out = x.gather(dim, &idx);
        let shape = x.shape().to_vec();
        record("gather", out, &[self], || move |g, _| Ok(vec![Some(NdArray::scatter_add(&shape, dim, &idx, g))]))
    }

    /// Entries `index` (1-D `i64`) along `dim` (`torch.index_select`); an embedding
    /// lookup is `weight.index_select(0, ids)`.
    #[track_caller]
    pub fn index_select(&self, dim: isize, index: &Tensor) -> Tensor {
        let (x, idx) = (self.data(), index.data());
        let out = x.index_select(dim, &idx);
        let shape = x.shape().to_vec();
        record("index_select", out, &[self], || move |g, _| Ok(vec![Some(NdArray::index_add(&shape, dim, &idx, g))]))
    }
}
