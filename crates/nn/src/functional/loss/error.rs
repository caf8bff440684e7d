//! Why a loss rejected its arguments.

use std::fmt;

use nabla_autograd::DType;

/// Why a loss rejected its arguments. The panicking forms of the losses panic with this
/// message; the `try_` forms return it.
///
/// Positions are row-major multi-indices into the tensor named by the error.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum LossError {
    /// A class index outside `[0, classes)` that is not the `ignore_index`.
    TargetOutOfRange {
        /// The loss.
        op: &'static str,
        /// The first bad class index.
        value: i64,
        /// Its position in the target.
        position: Vec<usize>,
        /// The number of classes `C` (the size of the input's class dim).
        classes: usize,
        /// The index that would have been skipped.
        ignore_index: i64,
    },
    /// A value that must be a probability is outside `[0, 1]` or NaN.
    NotAProbability {
        /// The loss.
        op: &'static str,
        /// Which argument (`"input"` or `"target"`).
        arg: &'static str,
        /// The first bad value.
        value: f64,
        /// Its position in that argument.
        position: Vec<usize>,
    },
    /// The target's shape does not fit the input's.
    ShapeMismatch {
        /// The loss.
        op: &'static str,
        /// The input's shape.
        input: Vec<usize>,
        /// The target's shape.
        target: Vec<usize>,
        /// The target shape the input calls for.
        expected: Vec<usize>,
    },
    /// A per-class weight that is not a 1-D tensor with one entry per class.
    ClassWeightShape {
        /// The loss.
        op: &'static str,
        /// The weight's shape.
        weight: Vec<usize>,
        /// The number of classes `C`.
        classes: usize,
    },
    /// An elementwise weight that does not broadcast to the input's shape.
    NotBroadcastable {
        /// The loss.
        op: &'static str,
        /// Which argument (`"weight"` or `"pos_weight"`).
        arg: &'static str,
        /// Its shape.
        shape: Vec<usize>,
        /// The input's shape.
        input: Vec<usize>,
    },
    /// An argument of the wrong element type.
    DType {
        /// The loss.
        op: &'static str,
        /// Which argument.
        arg: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What it is.
        got: DType,
    },
    /// A 0-d input to a class loss, which needs a class dim.
    MissingClassDim {
        /// The loss.
        op: &'static str,
    },
    /// A label smoothing outside `[0, 1]`.
    LabelSmoothing {
        /// The loss.
        op: &'static str,
        /// The given value.
        value: f64,
    },
}

impl fmt::Display for LossError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LossError::TargetOutOfRange { op, value, position, classes, ignore_index } => write!(
                f,
                "{op}: target {value} at position {position:?} is out of range [0, {classes}) \
                 (ignore_index = {ignore_index})"
            ),
            LossError::NotAProbability { op, arg, value, position } => {
                write!(f, "{op}: {arg} {value} at position {position:?} is out of range [0, 1]")?;
                if *arg == "input" {
                    f.write_str(" (the input must be probabilities; for logits use binary_cross_entropy_with_logits)")?;
                }
                Ok(())
            }
            LossError::ShapeMismatch { op, input, target, expected } => {
                write!(f, "{op}: target of shape {target:?} does not match input of shape {input:?}")?;
                if expected != input {
                    write!(f, " (expected target shape {expected:?})")?;
                }
                Ok(())
            }
            LossError::ClassWeightShape { op, weight, classes } => write!(
                f,
                "{op}: weight of shape {weight:?} must have shape [{classes}] (one entry per class of the input)"
            ),
            LossError::NotBroadcastable { op, arg, shape, input } => {
                write!(f, "{op}: {arg} of shape {shape:?} cannot be broadcast to input shape {input:?}")
            }
            LossError::DType { op, arg, expected, got } => write!(f, "{op}: {arg} must be {expected}, got {got}"),
            LossError::MissingClassDim { op } => {
                write!(f, "{op}: input must have a class dim (shape [C], [N, C] or [N, C, d1, ...]), got a 0-d tensor")
            }
            LossError::LabelSmoothing { op, value } => {
                write!(f, "{op}: label_smoothing must be in [0, 1], got {value}")
            }
        }
    }
}

impl std::error::Error for LossError {}
