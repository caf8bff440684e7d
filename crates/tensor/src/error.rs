//! Errors for the fallible (`try_`) entry points, used where shapes come from data.

use std::fmt;

/// Why a fallible tensor operation was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TensorError {
    /// The data length does not match the product of the shape.
    LengthMismatch {
        /// The operation that was refused.
        op: &'static str,
        /// Number of elements given.
        len: usize,
        /// The requested shape.
        shape: Vec<usize>,
    },
    /// A shape argument is invalid for this input.
    InvalidShape {
        /// The operation that was refused.
        op: &'static str,
        /// What is wrong, naming the shapes.
        message: String,
    },
}

impl fmt::Display for TensorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TensorError::LengthMismatch { op, len, shape } => write!(
                f,
                "{op}: {len} elements cannot fill shape {shape:?} ({} elements)",
                shape.iter().product::<usize>()
            ),
            TensorError::InvalidShape { op, message } => write!(f, "{op}: {message}"),
        }
    }
}

impl std::error::Error for TensorError {}
