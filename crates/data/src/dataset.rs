//! The `Dataset` trait: a length and random access to `(input, target)` samples.

use std::sync::Arc;

use nabla_autograd::Tensor;

/// A collection of `(input, target)` samples with random access (`torch.utils.data.Dataset`).
///
/// Samples are pairs of tensors, e.g. an image `[1, 28, 28]` and a 0-d `i64` label. The
/// item type is fixed rather than generic so that [`DataLoader`](crate::DataLoader) and
/// its workers are written once, not per dataset type, and yield `(x, y)` batches that a
/// training loop destructures directly.
///
/// Implement [`len`](Dataset::len) and [`get`](Dataset::get). An in-memory dataset should
/// also override [`get_batch`](Dataset::get_batch) to gather a batch with one
/// `index_select` per tensor instead of stacking `batch_size` small tensors.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_data::Dataset;
///
/// /// The numbers 0..n with their parity as the target.
/// struct Parity(usize);
///
/// impl Dataset for Parity {
///     fn len(&self) -> usize {
///         self.0
///     }
///     fn get(&self, i: usize) -> (Tensor, Tensor) {
///         assert!(i < self.0, "Parity: index {i} out of range for length {}", self.0);
///         (Tensor::from_vec(vec![i as f32], &[1]), Tensor::from_vec(vec![(i % 2) as i64], &[]))
///     }
/// }
///
/// let (x, y) = Parity(10).get_batch(&[3, 4]);
/// assert_eq!(x.shape(), vec![2, 1]);
/// assert_eq!(y.to_vec::<i64>(), vec![1, 0]);
/// ```
pub trait Dataset: Send + Sync {
    /// The number of samples.
    fn len(&self) -> usize;

    /// Sample `index` as `(input, target)`.
    ///
    /// # Panics
    /// If `index >= self.len()`.
    fn get(&self, index: usize) -> (Tensor, Tensor);

    /// True if there are no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The samples at `indices`, each part stacked along a new first dim (the default
    /// collation: inputs `[B, ...]`, targets `[B, ...]`).
    ///
    /// # Panics
    /// If `indices` is empty or holds an index `>= self.len()`.
    fn get_batch(&self, indices: &[usize]) -> (Tensor, Tensor) {
        let (xs, ys): (Vec<Tensor>, Vec<Tensor>) = indices.iter().map(|&i| self.get(i)).unzip();
        (Tensor::stack(&xs, 0), Tensor::stack(&ys, 0))
    }
}

/// A shared dataset is a dataset, so one set can feed several loaders or subsets.
impl<D: Dataset + ?Sized> Dataset for Arc<D> {
    fn len(&self) -> usize {
        (**self).len()
    }

    fn get(&self, index: usize) -> (Tensor, Tensor) {
        (**self).get(index)
    }

    fn get_batch(&self, indices: &[usize]) -> (Tensor, Tensor) {
        (**self).get_batch(indices)
    }
}
