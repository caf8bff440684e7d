//! Elementwise functions of two arrays, with PyTorch broadcasting and type promotion,
//! their scalar forms, comparisons, and `where`.

use std::borrow::Cow;

use crate::array::NdArray;
use crate::dtype::{DType, Element};
use crate::kernels::{map2, map3};
use crate::storage::Storage;
use crate::views::broadcast_shape_for;
use crate::{dispatch, dispatch_float};

/// An elementwise binary arithmetic op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binary {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b` (true division: integers give `f32`)
    Div,
    /// `a ^ b` (floats only)
    Pow,
    /// `max(a, b)`, NaN-propagating
    Maximum,
    /// `min(a, b)`, NaN-propagating
    Minimum,
}

/// An elementwise comparison; results are `i64` masks of 0 and 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// `a == b`
    Eq,
    /// `a != b`
    Ne,
    /// `a < b`
    Lt,
    /// `a <= b`
    Le,
    /// `a > b`
    Gt,
    /// `a >= b`
    Ge,
}

impl Binary {
    /// The op's name, for error messages.
    pub fn name(self) -> &'static str {
        match self {
            Binary::Add => "add",
            Binary::Sub => "sub",
            Binary::Mul => "mul",
            Binary::Div => "div",
            Binary::Pow => "pow",
            Binary::Maximum => "maximum",
            Binary::Minimum => "minimum",
        }
    }

    /// The dtype the op computes and returns for operands of dtypes `a` and `b`.
    pub fn result_dtype(self, a: DType, b: DType) -> DType {
        let p = DType::promote(a, b);
        match self {
            Binary::Div | Binary::Pow => p.to_float(),
            _ => p,
        }
    }
}

impl Compare {
    /// The op's name, for error messages.
    pub fn name(self) -> &'static str {
        match self {
            Compare::Eq => "eq",
            Compare::Ne => "ne",
            Compare::Lt => "lt",
            Compare::Le => "le",
            Compare::Gt => "gt",
            Compare::Ge => "ge",
        }
    }
}

fn nan_max<T: Element>(a: T, b: T) -> T {
    #[allow(clippy::eq_op)]
    if a != a || a > b {
        a
    } else if b != b {
        b
    } else {
        b.max_or(a)
    }
}

fn nan_min<T: Element>(a: T, b: T) -> T {
    #[allow(clippy::eq_op)]
    if a != a || a < b {
        a
    } else if b != b {
        b
    } else {
        b.min_or(a)
    }
}

/// `max`/`min` for `PartialOrd` that keeps the first operand on ties.
trait Ord2: PartialOrd + Copy {
    fn max_or(self, other: Self) -> Self {
        if other > self {
            other
        } else {
            self
        }
    }
    fn min_or(self, other: Self) -> Self {
        if other < self {
            other
        } else {
            self
        }
    }
}
impl<T: PartialOrd + Copy> Ord2 for T {}

impl NdArray {
    /// Both operands cast to `dtype` and broadcast to their common shape.
    #[track_caller]
    fn broadcast_pair<'a>(
        &'a self,
        other: &'a NdArray,
        op: &str,
        dtype: DType,
    ) -> (Cow<'a, NdArray>, Cow<'a, NdArray>) {
        if self.shape() == other.shape() && self.dtype() == dtype && other.dtype() == dtype {
            // The common case in a training loop; skipping the copies matters for small ops.
            return (Cow::Borrowed(self), Cow::Borrowed(other));
        }
        let shape = broadcast_shape_for(op, self.shape(), other.shape());
        (
            Cow::Owned(self.cast(dtype).broadcast_to_op(op, &shape)),
            Cow::Owned(other.cast(dtype).broadcast_to_op(op, &shape)),
        )
    }

    /// Applies `op` elementwise with broadcasting and type promotion.
    #[track_caller]
    pub fn binary(&self, op: Binary, other: &NdArray) -> NdArray {
        let dtype = op.result_dtype(self.dtype(), other.dtype());
        let (a, b) = self.broadcast_pair(other, op.name(), dtype);
        let storage = if op == Binary::Pow {
            dispatch_float!("pow", (&*a.storage, &*b.storage), (x, y), T => {
                T::into_storage(map2(x, &a.layout, y, &b.layout, |x: T, y: T| num_traits::Float::powf(x, y)))
            })
        } else {
            dispatch!((&*a.storage, &*b.storage), (x, y), T => {
                let v: Vec<T> = match op {
                    Binary::Add => map2(x, &a.layout, y, &b.layout, |x: T, y: T| x + y),
                    Binary::Sub => map2(x, &a.layout, y, &b.layout, |x: T, y: T| x - y),
                    Binary::Mul => map2(x, &a.layout, y, &b.layout, |x: T, y: T| x * y),
                    Binary::Div => map2(x, &a.layout, y, &b.layout, |x: T, y: T| x / y),
                    Binary::Maximum => map2(x, &a.layout, y, &b.layout, nan_max::<T>),
                    Binary::Minimum => map2(x, &a.layout, y, &b.layout, nan_min::<T>),
                    Binary::Pow => unreachable!("pow is float-only and handled above"),
                };
                T::into_storage(v)
            })
        };
        NdArray::from_storage(storage, a.shape())
    }

    /// The scalar `value` as a 0-d array of the dtype this array combines with it in:
    /// the same dtype, except an integer array meets a fractional value in `f32`.
    pub fn scalar_like(&self, value: f64) -> NdArray {
        let dtype = if self.dtype() == DType::I64 && value.fract() != 0.0 { DType::F32 } else { self.dtype() };
        NdArray::scalar(value, dtype)
    }

    /// Compares elementwise with broadcasting; the result is an `i64` 0/1 mask.
    #[track_caller]
    pub fn compare(&self, op: Compare, other: &NdArray) -> NdArray {
        let dtype = DType::promote(self.dtype(), other.dtype());
        let (a, b) = self.broadcast_pair(other, op.name(), dtype);
        let v = dispatch!((&*a.storage, &*b.storage), (x, y), T => match op {
            Compare::Eq => map2(x, &a.layout, y, &b.layout, |x: T, y: T| (x == y) as i64),
            Compare::Ne => map2(x, &a.layout, y, &b.layout, |x: T, y: T| (x != y) as i64),
            Compare::Lt => map2(x, &a.layout, y, &b.layout, |x: T, y: T| (x < y) as i64),
            Compare::Le => map2(x, &a.layout, y, &b.layout, |x: T, y: T| (x <= y) as i64),
            Compare::Gt => map2(x, &a.layout, y, &b.layout, |x: T, y: T| (x > y) as i64),
            Compare::Ge => map2(x, &a.layout, y, &b.layout, |x: T, y: T| (x >= y) as i64),
        });
        NdArray::from_storage(Storage::I64(v), a.shape())
    }

    /// `self` where `cond` is nonzero, else `other`, all three broadcast together
    /// (`torch.where(cond, self, other)`).
    #[track_caller]
    pub fn where_cond(cond: &NdArray, a: &NdArray, b: &NdArray) -> NdArray {
        let shape = broadcast_shape_for("where", &broadcast_shape_for("where", cond.shape(), a.shape()), b.shape());
        let dtype = DType::promote(a.dtype(), b.dtype());
        let c = cond.cast(DType::I64).broadcast_to_op("where", &shape);
        let a = a.cast(dtype).broadcast_to_op("where", &shape);
        let b = b.cast(dtype).broadcast_to_op("where", &shape);
        let Storage::I64(cs) = &*c.storage else { unreachable!("cast to i64") };
        let storage = dispatch!((&*a.storage, &*b.storage), (x, y), T => {
            T::into_storage(map3((cs.as_slice(), &c.layout), (x, &a.layout), (y, &b.layout), |m: i64, x: T, y: T| if m != 0 { x } else { y }))
        });
        NdArray::from_storage(storage, &shape)
    }

    /// `value` where `mask` is nonzero, else `self` (`Tensor.masked_fill`).
    #[track_caller]
    pub fn masked_fill(&self, mask: &NdArray, value: f64) -> NdArray {
        if crate::broadcast_shapes(mask.shape(), self.shape()).as_deref() != Some(self.shape()) {
            panic!(
                "masked_fill: mask of shape {:?} cannot be broadcast to the input shape {:?}",
                mask.shape(),
                self.shape()
            );
        }
        NdArray::where_cond(mask, &NdArray::scalar(value, self.dtype()), self)
    }
}

macro_rules! binary_methods {
    ($($(#[$doc:meta])* $name:ident, $scalar:ident => $op:expr;)*) => {
        impl NdArray {
            $(
                $(#[$doc])*
                #[track_caller]
                pub fn $name(&self, other: &NdArray) -> NdArray { self.binary($op, other) }
                /// The same op with a scalar right operand.
                pub fn $scalar(&self, value: f64) -> NdArray { self.binary($op, &self.scalar_like(value)) }
            )*
        }
    };
}

crate::for_each_binary_op!(binary_methods);

macro_rules! compare_methods {
    ($($(#[$doc:meta])* $name:ident, $scalar:ident => $op:expr;)*) => {
        impl NdArray {
            $(
                $(#[$doc])*
                #[track_caller]
                pub fn $name(&self, other: &NdArray) -> NdArray { self.compare($op, other) }
                /// The same comparison against a scalar.
                pub fn $scalar(&self, value: f64) -> NdArray { self.compare($op, &self.scalar_like(value)) }
            )*
        }
    };
}

crate::for_each_compare_op!(compare_methods);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_follows_torch() {
        let i = NdArray::from_vec(vec![1i64, 2], &[2]);
        let f = NdArray::from_vec(vec![0.5f32, 0.5], &[2]);
        assert_eq!(i.add(&f).dtype(), DType::F32);
        assert_eq!(i.div(&i).dtype(), DType::F32);
        assert_eq!(i.mul_scalar(2.0).dtype(), DType::I64);
        assert_eq!(i.mul_scalar(0.5).dtype(), DType::F32);
    }

    #[test]
    fn maximum_propagates_nan() {
        let a = NdArray::from_vec(vec![f64::NAN, 1.0], &[2]);
        let b = NdArray::from_vec(vec![0.0, f64::NAN], &[2]);
        assert!(a.maximum(&b).to_vec::<f64>().iter().all(|x| x.is_nan()));
    }

    #[test]
    #[should_panic(expected = "add: the shapes [2, 3] and [4] cannot be broadcast together")]
    fn broadcast_error_names_op_and_shapes() {
        NdArray::zeros(&[2, 3], DType::F32).add(&NdArray::zeros(&[4], DType::F32));
    }
}
