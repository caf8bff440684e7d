//! `TensorDataset`: samples are rows of two in-memory tensors.

use std::fmt;

use nabla_autograd::Tensor;
use nabla_tensor::NdArray;

use crate::dataset::Dataset;
use crate::error::DataError;

/// A dataset whose sample `i` is `(inputs[i], targets[i])` (`torch.utils.data.TensorDataset`).
///
/// Both tensors are held whole in memory (detached from any graph); a batch is gathered
/// with one `index_select` per tensor, so a loader over it costs about one memory copy
/// of the data per epoch.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_data::{Dataset, TensorDataset};
/// let x = Tensor::from_vec((0..12).map(|v| v as f32).collect::<Vec<_>>(), &[6, 2]);
/// let y = Tensor::from_vec(vec![0i64, 1, 0, 1, 0, 1], &[6]);
/// let ds = TensorDataset::new(x, y)?;
/// let (xb, yb) = ds.get_batch(&[5, 0]);
/// assert_eq!(xb.to_vec::<f32>(), vec![10.0, 11.0, 0.0, 1.0]);
/// assert_eq!(yb.to_vec::<i64>(), vec![1, 0]);
/// # Ok::<(), nabla_data::DataError>(())
/// ```
#[derive(Clone)]
pub struct TensorDataset {
    inputs: NdArray,
    targets: NdArray,
}

impl TensorDataset {
    /// Pairs the rows of `inputs` and `targets` (their first dims must match).
    ///
    /// # Errors
    /// [`DataError::InvalidConfig`] if either tensor is 0-d or their first dims differ.
    pub fn new(inputs: Tensor, targets: Tensor) -> Result<Self, DataError> {
        let (xs, ys) = (inputs.shape(), targets.shape());
        if xs.is_empty() || ys.is_empty() || xs[0] != ys[0] {
            return Err(DataError::config(
                "TensorDataset",
                format!("inputs {xs:?} and targets {ys:?} must have the same (non-empty) first dim"),
            ));
        }
        Ok(Self::from_arrays(inputs.data(), targets.data()))
    }

    /// Wraps arrays already known to have the same first dim.
    pub(crate) fn from_arrays(inputs: NdArray, targets: NdArray) -> Self {
        debug_assert_eq!(inputs.shape()[0], targets.shape()[0]);
        TensorDataset { inputs: inputs.contiguous(), targets: targets.contiguous() }
    }

    /// The number of samples (also [`Dataset::len`]; inherent so that it works without
    /// importing the trait, as in `loader.dataset().len()`).
    pub fn len(&self) -> usize {
        self.inputs.shape()[0]
    }

    /// True if there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All inputs, `[len, ...]`.
    pub fn inputs(&self) -> Tensor {
        Tensor::new(self.inputs.clone())
    }

    /// All targets, `[len, ...]`.
    pub fn targets(&self) -> Tensor {
        Tensor::new(self.targets.clone())
    }

    /// The first `n` samples (all of them if `n >= len`); a view, no copy.
    pub fn take(self, n: usize) -> Self {
        let n = n.min(self.len());
        TensorDataset { inputs: self.inputs.narrow(0, 0, n), targets: self.targets.narrow(0, 0, n) }
    }
}

/// Shapes and dtypes only: the values can be hundreds of megabytes.
impl fmt::Debug for TensorDataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let describe = |a: &NdArray| format!("{} {:?}", a.dtype(), a.shape());
        f.debug_struct("TensorDataset")
            .field("inputs", &describe(&self.inputs))
            .field("targets", &describe(&self.targets))
            .finish()
    }
}

impl Dataset for TensorDataset {
    fn len(&self) -> usize {
        TensorDataset::len(self)
    }

    #[track_caller]
    fn get(&self, index: usize) -> (Tensor, Tensor) {
        let len = self.len();
        assert!(index < len, "TensorDataset: index {index} is out of range for a dataset of {len} samples");
        (Tensor::new(self.inputs.select(0, index)), Tensor::new(self.targets.select(0, index)))
    }

    fn get_batch(&self, indices: &[usize]) -> (Tensor, Tensor) {
        let index = NdArray::from_vec(indices.iter().map(|&i| i as i64).collect::<Vec<_>>(), &[indices.len()]);
        (Tensor::new(self.inputs.index_select(0, &index)), Tensor::new(self.targets.index_select(0, &index)))
    }
}
