//! Runtime element types and the traits kernels are written against.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::storage::Storage;

/// The element type of an [`NdArray`](crate::NdArray), chosen at run time as in PyTorch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DType {
    /// 32-bit float: the compute default (`torch.float32`).
    F32,
    /// 64-bit float: gradient checks and numerics (`torch.float64`).
    F64,
    /// 64-bit signed integer: class targets, indices, argmax (`torch.int64`).
    I64,
}

impl DType {
    /// True for `F32` and `F64`.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// Size of one element in bytes.
    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 | DType::I64 => 8,
        }
    }

    /// The dtype two operands are computed in (PyTorch's type promotion):
    /// float beats integer, and the wider float wins.
    pub fn promote(a: DType, b: DType) -> DType {
        match (a, b) {
            (DType::F64, _) | (_, DType::F64) => DType::F64,
            (DType::F32, _) | (_, DType::F32) => DType::F32,
            _ => DType::I64,
        }
    }

    /// The float dtype an op that needs floats computes in: integers become `F32`
    /// (PyTorch's default float dtype), floats stay as they are.
    pub fn to_float(self) -> DType {
        if self.is_float() {
            self
        } else {
            DType::F32
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::I64 => "i64",
        })
    }
}

/// An element type a kernel can be instantiated for: `f32`, `f64` or `i64`.
///
/// This trait is sealed in practice: [`Storage`] has exactly one variant per implementor.
pub trait Element:
    Copy
    + Send
    + Sync
    + 'static
    + PartialOrd
    + PartialEq
    + Default
    + fmt::Debug
    + num_traits::Num
    + num_traits::NumCast
    + std::ops::AddAssign
{
    /// The runtime tag of this type.
    const DTYPE: DType;
    /// Lossy conversion from `f64` (saturating for integers, as `as` casts do).
    fn from_f64(v: f64) -> Self;
    /// Conversion to `f64`.
    fn to_f64(self) -> f64;
    /// Wraps a vector of this type into storage.
    fn into_storage(v: Vec<Self>) -> Storage;
    /// Borrows storage as a slice of this type, if it holds this type.
    fn slice(s: &Storage) -> Option<&[Self]>;
    /// Mutably borrows storage as a slice of this type, if it holds this type.
    fn slice_mut(s: &mut Storage) -> Option<&mut [Self]>;
}

/// A floating-point [`Element`]: `f32` or `f64`.
pub trait FloatElement: Element + num_traits::Float + std::iter::Sum {}

/// `s` as `&[f32]` when `T` is `f32`: for kernels written for f32 alone.
pub(crate) fn as_f32<T: Element>(s: &[T]) -> Option<&[f32]> {
    // SAFETY: `T` is `f32` (its dtype says so), so this only renames the type.
    (T::DTYPE == DType::F32).then(|| unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<f32>(), s.len()) })
}

/// `s` as `&mut [f32]` when `T` is `f32`.
pub(crate) fn as_f32_mut<T: Element>(s: &mut [T]) -> Option<&mut [f32]> {
    // SAFETY: as in `as_f32`.
    (T::DTYPE == DType::F32).then(|| unsafe { std::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<f32>(), s.len()) })
}

macro_rules! impl_element {
    ($t:ty, $variant:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$variant;
            #[inline]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn into_storage(v: Vec<Self>) -> Storage {
                Storage::$variant(v)
            }
            fn slice(s: &Storage) -> Option<&[Self]> {
                match s {
                    Storage::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn slice_mut(s: &mut Storage) -> Option<&mut [Self]> {
                match s {
                    Storage::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
}

impl_element!(f32, F32);
impl_element!(f64, F64);
impl_element!(i64, I64);
impl FloatElement for f32 {}
impl FloatElement for f64 {}
