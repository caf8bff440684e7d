//! Values saved for a hand-written backward, checked against in-place updates.

use nabla_autograd::{AutogradError, NdArray, Tensor};

/// An input's value saved for backward, with the version it had, so a backward after
/// an in-place update (an optimizer step between forward and backward) fails as
/// PyTorch does instead of using stale values. (`nabla-autograd` keeps its own
/// equivalent private.)
pub(crate) struct Saved {
    op: &'static str,
    tensor: Tensor,
    value: NdArray,
    version: u64,
}

impl Saved {
    /// Saves `value` (computed from `tensor`) for `op`'s backward.
    pub(crate) fn new(op: &'static str, tensor: &Tensor, value: NdArray) -> Saved {
        Saved { op, tensor: tensor.clone(), value, version: tensor.version() }
    }

    /// The saved value, or PyTorch's error if `tensor` was modified in place since.
    pub(crate) fn get(&self) -> Result<&NdArray, AutogradError> {
        let now = self.tensor.version();
        if now != self.version {
            return Err(AutogradError::ModifiedInPlace {
                op: self.op,
                shape: self.value.shape().to_vec(),
                dtype: self.value.dtype().to_string(),
                version: now,
                expected: self.version,
            });
        }
        Ok(&self.value)
    }
}
