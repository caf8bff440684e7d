//! Matrix products. The backward of `a @ b` is `g @ b^T` and `a^T @ g`, with batch
//! dims summed back to each operand's shape; transposes are views, so no copies.

use crate::graph::{record, Saved};
use crate::tensor::Tensor;

impl Tensor {
    /// Matrix product with `torch.matmul`'s rules (1-D operands, broadcast batch dims).
    ///
    /// ```
    /// use nabla_autograd::Tensor;
    /// let a = Tensor::ones(&[2, 3]);
    /// let b = Tensor::ones(&[3, 4]);
    /// assert_eq!(a.matmul(&b).shape(), vec![2, 4]);
    /// ```
    #[track_caller]
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        // Check here, so errors show the shapes the caller passed, not the 2-D forms.
        nabla_tensor::matmul_shape(&self.shape(), &other.shape());
        match (self.dim(), other.dim()) {
            (1, 1) => self.unsqueeze(0).matmul_nd(&other.unsqueeze(1)).reshape(&[]),
            (1, _) => self.unsqueeze(0).matmul_nd(other).squeeze_dim(-2),
            (_, 1) => self.matmul_nd(&other.unsqueeze(1)).squeeze_dim(-1),
            _ => self.matmul_nd(other),
        }
    }

    /// The product of operands with at least 2 dims each.
    #[track_caller]
    fn matmul_nd(&self, other: &Tensor) -> Tensor {
        let (a, b) = (self.data(), other.data());
        let out = a.matmul(&b);
        let (sa, sb) = (a.shape().to_vec(), b.shape().to_vec());
        let (ta, tb) = (a.dtype(), b.dtype());
        let (x, y) = (Saved::new("matmul", self), Saved::new("matmul", other));
        record("matmul", out, &[self, other], || {
            move |g, n| {
                let ga = if n[0] { Some(g.matmul(&y.get()?.transpose(-1, -2)).sum_to(&sa).cast(ta)) } else { None };
                let gb = if n[1] { Some(x.get()?.transpose(-1, -2).matmul(g).sum_to(&sb).cast(tb)) } else { None };
                Ok(vec![ga, gb])
            }
        })
    }
}
