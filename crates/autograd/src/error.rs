//! Errors `backward()` can meet. `backward` panics with their message (as PyTorch
//! raises); `try_backward` returns them.

use std::fmt;

/// Why a backward pass could not run.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AutogradError {
    /// `backward` was called on a tensor that is not part of any graph.
    NoGrad,
    /// `backward` without an explicit gradient was called on a non-scalar tensor.
    NonScalar {
        /// The tensor's shape.
        shape: Vec<usize>,
    },
    /// The explicit output gradient has the wrong shape.
    GradShape {
        /// The output's shape.
        expected: Vec<usize>,
        /// The given gradient's shape.
        got: Vec<usize>,
    },
    /// The graph was already freed by an earlier `backward` without `retain_graph`.
    GraphFreed {
        /// The op whose saved values are gone.
        op: &'static str,
    },
    /// A tensor saved for backward was modified in place afterwards.
    ModifiedInPlace {
        /// The op that saved the tensor.
        op: &'static str,
        /// The saved tensor's shape.
        shape: Vec<usize>,
        /// The dtype name of the saved tensor.
        dtype: String,
        /// Its version now.
        version: u64,
        /// Its version when saved.
        expected: u64,
    },
    /// The op has no derivative.
    NotDifferentiable {
        /// The op's name.
        op: &'static str,
    },
}

impl fmt::Display for AutogradError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AutogradError::NoGrad => {
                f.write_str("element 0 of tensors does not require grad and does not have a grad_fn")
            }
            AutogradError::NonScalar { shape } => {
                write!(f, "grad can be implicitly created only for scalar outputs (got shape {shape:?})")
            }
            AutogradError::GradShape { expected, got } => {
                write!(f, "backward: gradient of shape {got:?} does not match the output shape {expected:?}")
            }
            AutogradError::GraphFreed { op } => write!(
                f,
                "Trying to backward through the graph a second time (at {op}); the saved tensors were freed \
                 after the first backward. Pass retain_graph = true to the first backward_with call if you \
                 need to backward twice."
            ),
            AutogradError::ModifiedInPlace { op, shape, dtype, version, expected } => write!(
                f,
                "one of the variables needed for gradient computation has been modified by an inplace \
                 operation: [{dtype} {shape:?}] saved by {op} is at version \
                 {version}; expected version {expected} instead"
            ),
            AutogradError::NotDifferentiable { op } => {
                write!(f, "the derivative for '{op}' is not implemented; it cannot be differentiated")
            }
        }
    }
}

impl std::error::Error for AutogradError {}
