//! State dicts: a model's tensors by dotted name, and loading one back with every
//! name, shape and dtype checked before anything is written.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use nabla_autograd::{no_grad, DType, NdArray, Tensor};

/// A model's parameters and buffers by dotted name (`fc1.weight`), sorted so that
/// saved files are byte-for-byte deterministic (`module.state_dict()`).
pub type StateDict = BTreeMap<String, NdArray>;

/// The keys a non-strict load skipped (PyTorch's `_IncompatibleKeys`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IncompatibleKeys {
    /// Model entries the state dict has no value for (left unchanged), in model order.
    pub missing: Vec<String>,
    /// State dict entries the model has no tensor for (ignored), sorted.
    pub unexpected: Vec<String>,
}

impl IncompatibleKeys {
    /// True when every key matched.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty()
    }
}

/// A state dict entry whose shape or dtype differs from the model's tensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The dotted name.
    pub key: String,
    /// The model tensor's shape.
    pub expected_shape: Vec<usize>,
    /// The model tensor's dtype.
    pub expected_dtype: DType,
    /// The state dict value's shape.
    pub found_shape: Vec<usize>,
    /// The state dict value's dtype.
    pub found_dtype: DType,
}

/// Why `load_state_dict` refused a state dict; the model is left unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateDictError {
    /// Keys that do not line up. `missing` and `unexpected` are filled by a strict
    /// load only; `mismatched` entries are refused by any load.
    Incompatible {
        /// Model entries with no value in the state dict.
        missing: Vec<String>,
        /// State dict entries with no tensor in the model.
        unexpected: Vec<String>,
        /// Entries present in both with a different shape or dtype.
        mismatched: Vec<Mismatch>,
    },
    /// Not a single key matched: almost surely the state dict of another model, or
    /// names with a different prefix. Refused even by a non-strict load.
    NoMatchingKeys {
        /// The model's keys.
        model: Vec<String>,
        /// The state dict's keys.
        state_dict: Vec<String>,
    },
}

/// Writes up to three quoted names, then how many more there are.
fn list(f: &mut fmt::Formatter<'_>, names: &[String]) -> fmt::Result {
    for (i, n) in names.iter().take(3).enumerate() {
        write!(f, "{}{n:?}", if i > 0 { ", " } else { "" })?;
    }
    if names.len() > 3 {
        write!(f, " and {} more", names.len() - 3)?;
    }
    Ok(())
}

impl fmt::Display for StateDictError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateDictError::Incompatible { missing, unexpected, mismatched } => {
                f.write_str("Error(s) in loading state_dict:")?;
                if !missing.is_empty() {
                    f.write_str(" Missing key(s) in state_dict: ")?;
                    list(f, missing)?;
                    f.write_str(".")?;
                }
                if !unexpected.is_empty() {
                    f.write_str(" Unexpected key(s) in state_dict: ")?;
                    list(f, unexpected)?;
                    f.write_str(".")?;
                }
                for m in mismatched {
                    write!(
                        f,
                        " Mismatch for {}: copying a param with shape {:?} ({}) from the state dict, the \
                         tensor in the current model is {:?} ({}).",
                        m.key, m.found_shape, m.found_dtype, m.expected_shape, m.expected_dtype
                    )?;
                }
                Ok(())
            }
            StateDictError::NoMatchingKeys { model, state_dict } => {
                write!(f, "no key of the state dict matches the model: the model has {} key(s) (", model.len())?;
                list(f, model)?;
                write!(f, "), the state dict {} (", state_dict.len())?;
                list(f, state_dict)?;
                f.write_str(")")
            }
        }
    }
}

impl std::error::Error for StateDictError {}

/// Checks `state` against the named `targets` and, if it fits, copies it in.
pub(crate) fn load_into(
    targets: &[(String, Tensor)],
    state: &StateDict,
    strict: bool,
) -> Result<IncompatibleKeys, StateDictError> {
    let mut missing = Vec::new();
    let mut mismatched = Vec::new();
    let mut matched = Vec::new();
    for (key, tensor) in targets {
        let Some(value) = state.get(key) else {
            missing.push(key.clone());
            continue;
        };
        let (shape, dtype) = (tensor.shape(), tensor.dtype());
        if value.shape() != shape.as_slice() || value.dtype() != dtype {
            mismatched.push(Mismatch {
                key: key.clone(),
                expected_shape: shape,
                expected_dtype: dtype,
                found_shape: value.shape().to_vec(),
                found_dtype: value.dtype(),
            });
        }
        matched.push((tensor, value));
    }
    let names: HashSet<&str> = targets.iter().map(|(name, _)| name.as_str()).collect();
    let unexpected: Vec<String> = state.keys().filter(|k| !names.contains(k.as_str())).cloned().collect();
    if matched.is_empty() && !(targets.is_empty() && state.is_empty()) {
        return Err(StateDictError::NoMatchingKeys {
            model: targets.iter().map(|(n, _)| n.clone()).collect(),
            state_dict: state.keys().cloned().collect(),
        });
    }
    let keys_refused = strict && !(missing.is_empty() && unexpected.is_empty());
    if keys_refused || !mismatched.is_empty() {
        let (missing, unexpected) = if strict { (missing, unexpected) } else { (Vec::new(), Vec::new()) };
        return Err(StateDictError::Incompatible { missing, unexpected, mismatched });
    }
    let _guard = no_grad();
    for (tensor, value) in matched {
        tensor.update_(|d| d.assign(value));
    }
    Ok(IncompatibleKeys { missing, unexpected })
}
