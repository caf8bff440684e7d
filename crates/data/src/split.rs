//! `Subset` and `random_split`: views of a shared dataset through a list of indices.

use std::fmt;
use std::sync::Arc;

use nabla_autograd::Tensor;

use crate::dataset::Dataset;
use crate::error::DataError;
use crate::shuffle::permutation;

/// The samples of a shared dataset at chosen indices (`torch.utils.data.Subset`).
///
/// Batches go through the parent's [`get_batch`](Dataset::get_batch) with the indices
/// mapped, so a subset of an in-memory set keeps its one-gather-per-batch speed.
///
/// ```
/// use std::sync::Arc;
/// use nabla_data::{Dataset, Digits, Subset};
/// let digits = Arc::new(Digits::train());
/// let first_ten = Subset::new(digits, (0..10).collect())?;
/// assert_eq!(first_ten.len(), 10);
/// # Ok::<(), nabla_data::DataError>(())
/// ```
#[derive(Clone)]
pub struct Subset {
    dataset: Arc<dyn Dataset>,
    indices: Vec<usize>,
}

impl Subset {
    /// The samples of `dataset` at `indices` (in that order; repeats allowed).
    ///
    /// # Errors
    /// [`DataError::InvalidConfig`] if an index is out of range.
    pub fn new(dataset: Arc<dyn Dataset>, indices: Vec<usize>) -> Result<Self, DataError> {
        let len = dataset.len();
        if let Some(bad) = indices.iter().find(|&&i| i >= len) {
            return Err(DataError::config("Subset", format!("index {bad} is out of range for a dataset of {len}")));
        }
        Ok(Subset { dataset, indices })
    }

    /// The number of samples (also [`Dataset::len`]; inherent so that it works without
    /// importing the trait, as in `loader.dataset().len()`).
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// True if there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The parent dataset.
    pub fn dataset(&self) -> &Arc<dyn Dataset> {
        &self.dataset
    }

    /// The parent's indices of this subset's samples.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }
}

/// Sizes only: the index list can be long.
impl fmt::Debug for Subset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subset").field("len", &self.indices.len()).field("parent_len", &self.dataset.len()).finish()
    }
}

impl Dataset for Subset {
    fn len(&self) -> usize {
        Subset::len(self)
    }

    #[track_caller]
    fn get(&self, index: usize) -> (Tensor, Tensor) {
        let len = self.len();
        assert!(index < len, "Subset: index {index} is out of range for a subset of {len} samples");
        self.dataset.get(self.indices[index])
    }

    fn get_batch(&self, indices: &[usize]) -> (Tensor, Tensor) {
        let mapped: Vec<usize> = indices.iter().map(|&i| self.indices[i]).collect();
        self.dataset.get_batch(&mapped)
    }
}

/// Splits a dataset at random into non-overlapping subsets of the given lengths
/// (`torch.utils.data.random_split` with a seeded generator).
///
/// The split is a function of `seed` alone (not of the global generator): the same
/// seed always gives the same subsets.
///
/// ```
/// use std::sync::Arc;
/// use nabla_data::{random_split, Dataset, Digits};
/// let parts = random_split(Arc::new(Digits::train()), &[1000, 437], 42)?;
/// assert_eq!((parts[0].len(), parts[1].len()), (1000, 437));
/// # Ok::<(), nabla_data::DataError>(())
/// ```
///
/// # Errors
/// [`DataError::InvalidConfig`] if the lengths do not add up to the dataset's length.
pub fn random_split(dataset: Arc<dyn Dataset>, lengths: &[usize], seed: u64) -> Result<Vec<Subset>, DataError> {
    let len = dataset.len();
    let total = lengths.iter().try_fold(0usize, |sum, &n| sum.checked_add(n));
    if total != Some(len) {
        return Err(DataError::config(
            "random_split",
            format!("lengths {lengths:?} must add up to the dataset's {len} samples"),
        ));
    }
    let mut order = permutation(len, seed).into_iter();
    Ok(lengths
        .iter()
        .map(|&n| Subset { dataset: Arc::clone(&dataset), indices: order.by_ref().take(n).collect() })
        .collect())
}
