//! `OptimError`: why an optimizer or scheduler refused a configuration or a saved state.
//!
//! The panicking constructors (`new`, builder options, `set_lr`) panic with these
//! messages; `try_new` and every `load_state_dict` return them.

use std::fmt;

use nabla_tensor::DType;

/// Why an optimizer or scheduler could not be built or could not load a state.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum OptimError {
    /// A hyperparameter is out of its valid range.
    InvalidHyperparameter {
        /// The optimizer or scheduler ("SGD", "AdamW", "StepLR", ...).
        owner: &'static str,
        /// What the value is, as PyTorch words it ("learning rate", "momentum value", ...).
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// The valid range, e.g. ">= 0" or "in [0, 1)".
        expected: &'static str,
    },
    /// SGD with `nesterov` but without momentum, or with dampening.
    NesterovRequiresMomentum {
        /// The configured momentum.
        momentum: f64,
        /// The configured dampening.
        dampening: f64,
    },
    /// The optimizer was given no parameters.
    EmptyParameters {
        /// The optimizer.
        optimizer: &'static str,
    },
    /// A parameter is not a leaf (it was produced by a recorded op).
    NonLeafParameter {
        /// The optimizer.
        optimizer: &'static str,
        /// The parameter's position in the list given to the optimizer.
        index: usize,
    },
    /// A parameter is not a float tensor.
    NonFloatParameter {
        /// The optimizer.
        optimizer: &'static str,
        /// The parameter's position in the list given to the optimizer.
        index: usize,
        /// Its dtype.
        dtype: DType,
    },
    /// The state belongs to another kind of optimizer or scheduler.
    WrongKind {
        /// The kind that is loading.
        expected: &'static str,
        /// The kind that saved the state.
        found: &'static str,
    },
    /// The state was saved for a different number of parameters.
    ParameterCount {
        /// Parameters in this optimizer.
        expected: usize,
        /// Parameters in the saved state.
        found: usize,
    },
    /// The state holds an entry for a parameter index the optimizer does not have.
    ParameterIndex {
        /// The index in the saved state.
        index: usize,
        /// Parameters in this optimizer.
        num_params: usize,
    },
    /// A parameter's state lacks a buffer the configuration needs.
    MissingBuffer {
        /// The parameter index.
        index: usize,
        /// The buffer ("exp_avg", "momentum_buffer", ...).
        name: String,
    },
    /// A parameter's state has a buffer the configuration does not use.
    UnexpectedBuffer {
        /// The parameter index.
        index: usize,
        /// The buffer.
        name: String,
    },
    /// A buffer's shape or dtype differs from its parameter's.
    BufferMismatch {
        /// The parameter index.
        index: usize,
        /// The buffer.
        name: String,
        /// The parameter's shape.
        expected_shape: Vec<usize>,
        /// The parameter's dtype.
        expected_dtype: DType,
        /// The buffer's shape.
        found_shape: Vec<usize>,
        /// The buffer's dtype.
        found_dtype: DType,
    },
}

impl fmt::Display for OptimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptimError::InvalidHyperparameter { owner, name, value, expected } => {
                write!(f, "{owner}: Invalid {name}: {value} (expected {expected})")
            }
            OptimError::NesterovRequiresMomentum { momentum, dampening } => write!(
                f,
                "SGD: Nesterov momentum requires a momentum and zero dampening \
                 (got momentum {momentum}, dampening {dampening})"
            ),
            OptimError::EmptyParameters { optimizer } => {
                write!(f, "{optimizer}: optimizer got an empty parameter list")
            }
            OptimError::NonLeafParameter { optimizer, index } => {
                write!(f, "{optimizer}: can't optimize a non-leaf Tensor (parameter {index})")
            }
            OptimError::NonFloatParameter { optimizer, index, dtype } => {
                write!(f, "{optimizer}: can only optimize floating-point tensors, but parameter {index} is {dtype}")
            }
            OptimError::WrongKind { expected, found } => {
                write!(f, "load_state_dict: the state was saved by {found}, not {expected}")
            }
            OptimError::ParameterCount { expected, found } => write!(
                f,
                "load_state_dict: the state was saved for {found} parameters, but the optimizer has {expected}"
            ),
            OptimError::ParameterIndex { index, num_params } => write!(
                f,
                "load_state_dict: the state has an entry for parameter {index}, but the optimizer has only \
                 {num_params} parameters"
            ),
            OptimError::MissingBuffer { index, name } => {
                write!(f, "load_state_dict: the state of parameter {index} lacks buffer '{name}'")
            }
            OptimError::UnexpectedBuffer { index, name } => {
                write!(f, "load_state_dict: the state of parameter {index} has unexpected buffer '{name}'")
            }
            OptimError::BufferMismatch { index, name, expected_shape, expected_dtype, found_shape, found_dtype } => {
                write!(
                    f,
                    "load_state_dict: buffer '{name}' of parameter {index} is {found_dtype} {found_shape:?}, \
                     but the parameter is {expected_dtype} {expected_shape:?}"
                )
            }
        }
    }
}

impl std::error::Error for OptimError {}

/// `Ok` when `ok` holds, else the [`OptimError::InvalidHyperparameter`] naming `value`.
///
/// Callers write the condition positively (`lr >= 0.0`) so that NaN is rejected too.
pub(crate) fn check(
    ok: bool,
    owner: &'static str,
    name: &'static str,
    value: f64,
    expected: &'static str,
) -> Result<(), OptimError> {
    if ok {
        Ok(())
    } else {
        Err(OptimError::InvalidHyperparameter { owner, name, value, expected })
    }
}
