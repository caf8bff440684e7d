//! The flat, typed buffer that arrays view.

use crate::dtype::DType;

/// A flat buffer of one dtype. Arrays share it through an `Arc` and view it with a
/// [`Layout`](crate::Layout); it is never resized after creation.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Storage {
    /// `f32` elements.
    F32(Vec<f32>),
    /// `f64` elements.
    F64(Vec<f64>),
    /// `i64` elements.
    I64(Vec<i64>),
}

impl Storage {
    /// The dtype of the elements.
    pub fn dtype(&self) -> DType {
        match self {
            Storage::F32(_) => DType::F32,
            Storage::F64(_) => DType::F64,
            Storage::I64(_) => DType::I64,
        }
    }

    /// Number of elements in the buffer.
    pub fn len(&self) -> usize {
        match self {
            Storage::F32(v) => v.len(),
            Storage::F64(v) => v.len(),
            Storage::I64(v) => v.len(),
        }
    }

    /// True when the buffer holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Runs `$body` with `$s` bound to the typed slice of an array's storage and `$t` to
/// its element type, once per dtype. The tuple form binds several storages that the
/// caller has already cast to one dtype. This is the single place dtype dispatch happens.
#[macro_export]
#[doc(hidden)]
macro_rules! dispatch {
    (($($st:expr),+), ($($s:ident),+), $t:ident => $body:expr) => {
        {
        #[allow(unreachable_patterns)]
        let out = match ($($st,)+) {
            ($($crate::Storage::F32($s),)+) => {
                #[allow(unused)]
                type $t = f32;
                $body
            }
            ($($crate::Storage::F64($s),)+) => {
                #[allow(unused)]
                type $t = f64;
                $body
            }
            ($($crate::Storage::I64($s),)+) => {
                #[allow(unused)]
                type $t = i64;
                $body
            }
            _ => unreachable!("dispatch: operands were not cast to one dtype"),
        };
        out
        }
    };
    ($storage:expr, $s:ident, $t:ident => $body:expr) => {
        $crate::dispatch!(($storage), ($s), $t => $body)
    };
}

/// Like [`dispatch!`] but only for float storage; integer storage panics with `$op`'s name.
#[macro_export]
#[doc(hidden)]
macro_rules! dispatch_float {
    ($op:expr, ($($st:expr),+), ($($s:ident),+), $t:ident => $body:expr) => {
        {
        #[allow(unreachable_patterns)]
        let out = match ($($st,)+) {
            ($($crate::Storage::F32($s),)+) => {
                #[allow(unused)]
                type $t = f32;
                $body
            }
            ($($crate::Storage::F64($s),)+) => {
                #[allow(unused)]
                type $t = f64;
                $body
            }
            ($($crate::Storage::I64($s),)+) => {
                let _ = ($($s,)+);
                panic!("{}: expected a float tensor (f32 or f64), got i64", $op)
            }
            _ => unreachable!("dispatch: operands were not cast to one dtype"),
        };
        out
        }
    };
    ($op:expr, $storage:expr, $s:ident, $t:ident => $body:expr) => {
        $crate::dispatch_float!($op, ($storage), ($s), $t => $body)
    };
}
