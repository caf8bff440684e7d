//! Elementwise functions of two tensors with broadcasting; gradients are summed back
//! over broadcast dims with `sum_to`. Also comparisons (not differentiable) and
//! `where`/`masked_fill`.

use nabla_tensor::{Binary, Compare, NdArray};

use crate::graph::{record, Saved};
use crate::tensor::Tensor;

/// An input's shape and dtype, which its gradient must come back in.
struct Like(Vec<usize>, nabla_tensor::DType);

impl Like {
    fn of(a: &NdArray) -> Like {
        Like(a.shape().to_vec(), a.dtype())
    }
}

impl Tensor {
    /// Applies a binary op with broadcasting and type promotion.
    #[track_caller]
    pub fn binary(&self, op: Binary, other: &Tensor) -> Tensor {
        let (a, b) = (self.data(), other.data());
        let out = a.binary(op, &b);
        // Gradients return in each input's own shape and dtype.
        let back = |g: NdArray, like: &Like| {
            let g = if g.shape() == like.0.as_slice() { g } else { g.sum_to(&like.0) };
            Some(if g.dtype() == like.1 { g } else { g.cast(like.1) })
        };
        let (a, b) = (&a, &b);
        let likes = || (Like::of(a), Like::of(b));
        match op {
            Binary::Add => record("add", out, &[self, other], || {
                let (la, lb) = likes();
                move |g, n| {
                    Ok(vec![n[0].then(|| back(g.clone(), &la)).flatten(), n[1].then(|| back(g.clone(), &lb)).flatten()])
                }
            }),
            Binary::Sub => record("sub", out, &[self, other], || {
                let (la, lb) = likes();
                move |g, n| {
                    Ok(vec![n[0].then(|| back(g.clone(), &la)).flatten(), n[1].then(|| back(g.neg(), &lb)).flatten()])
                }
            }),
            Binary::Mul => {
                let (x, y) = (Saved::new("mul", self), Saved::new("mul", other));
                record("mul", out, &[self, other], || {
                    let (la, lb) = likes();
                    move |g, n| {
                        let ga = if n[0] { back(g.mul(y.get()?), &la) } else { None };
                        let gb = if n[1] { back(g.mul(x.get()?), &lb) } else { None };
                        Ok(vec![ga, gb])
                    }
                })
            }
            Binary::Div => {
                let (x, y) = (Saved::new("div", self), Saved::new("div", other));
                record("div", out, &[self, other], || {
                    let (la, lb) = likes();
                    move |g, n| {
                        let y = y.get()?;
                        let ga = if n[0] { back(g.div(y), &la) } else { None };
                        // d(x/y)/dy = -x / y^2
                        let gb = if n[1] { back(g.mul(x.get()?).div(&y.mul(y)).neg(), &lb) } else { None };
                        Ok(vec![ga, gb])
                    }
                })
            }
            Binary::Pow => {
                let (x, y) = (Saved::new("pow", self), Saved::new("pow", other));
                record("pow", out, &[self, other], || {
                    let (la, lb) = likes();
                    move |g, n| {
                        let (x, y) = (x.get()?, y.get()?);
                        // d/dx x^y = y x^(y-1); d/dy x^y = x^y ln x (0 where x = 0, as PyTorch).
                        let ga = if n[0] { back(g.mul(&y.mul(&x.pow(&y.sub_scalar(1.0)))), &la) } else { None };
                        let gb = if n[1] {
                            let xy_lnx = x.pow(y).mul(&x.log());
                            back(g.mul(&xy_lnx.masked_fill(&x.eq_scalar(0.0), 0.0)), &lb)
                        } else {
                            None
                        };
                        Ok(vec![ga, gb])
                    }
                })
            }
            Binary::Maximum | Binary::Minimum => {
                let (x, y) = (Saved::new(op.name(), self), Saved::new(op.name(), other));
                record(op.name(), out, &[self, other], || {
                    let (la, lb) = likes();
                    move |g, n| {
                        let (x, y) = (x.get()?, y.get()?);
                        // Ties split the gradient evenly, as PyTorch does.
                        let (wins_a, ties) = match op {
                            Binary::Maximum => (x.gt(y), x.eq(y)),
                            _ => (x.lt(y), x.eq(y)),
                        };
                        let wa = wins_a.cast(g.dtype()).add(&ties.cast(g.dtype()).mul_scalar(0.5));
                        let ga = if n[0] { back(g.mul(&wa), &la) } else { None };
                        let gb = if n[1] { back(g.mul(&wa.neg().add_scalar(1.0)), &lb) } else { None };
                        Ok(vec![ga, gb])
                    }
                })
            }
        }
    }

    /// The scalar `value` as a tensor this one combines with (see `NdArray::scalar_like`).
    pub(crate) fn scalar_like(&self, value: f64) -> Tensor {
        Tensor::new(self.data().scalar_like(value))
    }

    /// Compares elementwise; the result is an `i64` 0/1 mask outside the graph.
    #[track_caller]
    pub fn compare(&self, op: Compare, other: &Tensor) -> Tensor {
        Tensor::new(self.data().compare(op, &other.data()))
    }

    /// `a` where `cond` is nonzero, else `b` (`torch.where(cond, a, b)`).
    #[track_caller]
    pub fn where_cond(cond: &Tensor, a: &Tensor, b: &Tensor) -> Tensor {
        let (c, x, y) = (cond.data(), a.data(), b.data());
        let out = NdArray::where_cond(&c, &x, &y);
        let (sa, sb, ta, tb) = (x.shape().to_vec(), y.shape().to_vec(), x.dtype(), y.dtype());
        record("where", out, &[a, b], || {
            move |g, n| {
                let zero = NdArray::scalar(0.0, g.dtype());
                let ga = n[0].then(|| NdArray::where_cond(&c, g, &zero).sum_to(&sa).cast(ta));
                let gb = n[1].then(|| NdArray::where_cond(&c, &zero, g).sum_to(&sb).cast(tb));
                Ok(vec![ga, gb])
            }
        })
    }

    /// `value` where `mask` is nonzero, else this tensor (`Tensor.masked_fill`).
    #[track_caller]
    pub fn masked_fill(&self, mask: &Tensor, value: f64) -> Tensor {
        let m = mask.data();
        let out = self.data().masked_fill(&m, value);
        record("masked_fill", out, &[self], || move |g, _| Ok(vec![Some(g.masked_fill(&m, 0.0))]))
    }
}

macro_rules! binary_methods {
    ($($(#[$doc:meta])* $name:ident, $scalar:ident => $op:expr;)*) => {
        impl Tensor {
            $(
                $(#[$doc])*
                #[track_caller]
                pub fn $name(&self, other: &Tensor) -> Tensor { self.binary($op, other) }
                /// The same op with a scalar right operand.
                pub fn $scalar(&self, value: f64) -> Tensor { self.binary($op, &self.scalar_like(value)) }
            )*
        }
    };
}

nabla_tensor::for_each_binary_op!(binary_methods);

macro_rules! compare_methods {
    ($($(#[$doc:meta])* $name:ident, $scalar:ident => $op:expr;)*) => {
        impl Tensor {
            $(
                $(#[$doc])*
                #[track_caller]
                pub fn $name(&self, other: &Tensor) -> Tensor { self.compare($op, other) }
                /// The same comparison against a scalar.
                pub fn $scalar(&self, value: f64) -> Tensor { self.compare($op, &self.scalar_like(value)) }
            )*
        }
    };
}

nabla_tensor::for_each_compare_op!(compare_methods);
