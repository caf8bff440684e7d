//! Softmax and log-softmax as single fused ops with their own backward, instead of a
//! chain of exp/sum/div nodes (fewer temporaries, one node on the tape).

use crate::graph::record_with_output;
use crate::tensor::Tensor;

impl Tensor {
    /// `exp(x) / sum(exp(x))` along `dim` (`Tensor.softmax(dim)`).
    #[track_caller]
    pub fn softmax(&self, dim: isize) -> Tensor {
        let x = self.data();
        nabla_tensor::normalize_dim("softmax", dim, x.ndim());
        let out = x.sub(&x.logsumexp(&[dim], true)).exp();
        record_with_output("softmax", out, &[self], |y| {
            move |g, _| {
                // dx = y * (g - sum(g * y))
                let y = y.get()?;
                let dot = g.mul(y).sum(&[dim], true);
                Ok(vec![Some(y.mul(&g.sub(&dot)))])
            }
        })
    }

    /// `x - log(sum(exp(x)))` along `dim` (`Tensor.log_softmax(dim)`).
    #[track_caller]
    pub fn log_softmax(&self, dim: isize) -> Tensor {
        let x = self.data();
        nabla_tensor::normalize_dim("log_softmax", dim, x.ndim());
        let out = x.sub(&x.logsumexp(&[dim], true));
        record_with_output("log_softmax", out, &[self], |y| {
            move |g, _| {
                // dx = g - exp(y) * sum(g)
                let y = y.get()?;
                Ok(vec![Some(g.sub(&y.exp().mul(&g.sum(&[dim], true))))])
            }
        })
    }
}
