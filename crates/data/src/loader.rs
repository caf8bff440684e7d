//! `DataLoader`: batches over a dataset, shuffled with a seed, prefetched on threads.
//!
//! An epoch is planned up front (the order of all indices, cut into batches), so the
//! batches and their count depend only on the options and the epoch's seed, never on
//! the number of workers. Workers split the batches round-robin (worker `w` builds
//! batches `w, w + n, ...`) and each hands them over through its own bounded channel;
//! the consumer reads the channels in the same round-robin order. That keeps batches in
//! order without a reorder buffer and bounds memory to `PREFETCH` batches per worker,
//! the same scheme as PyTorch's per-worker queues, with threads instead of processes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

use nabla_autograd::Tensor;

use crate::dataset::Dataset;
use crate::error::DataError;
use crate::shuffle::{mix, permutation};

/// Batches each worker may have ready ahead of the consumer (PyTorch's `prefetch_factor`).
const PREFETCH: usize = 2;

/// The options of a [`DataLoader`]; build one with the loader's builder methods, or fill
/// this in (e.g. from command-line flags) and call [`DataLoader::try_new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoaderConfig {
    /// Samples per batch (at least 1). Default 1, as in PyTorch.
    pub batch_size: usize,
    /// Visit the samples in a new random order every epoch. Default `false`.
    pub shuffle: bool,
    /// The shuffle seed. `None` (the default) draws a fresh seed from the global
    /// generator at the start of each epoch, so `manual_seed` makes runs reproducible.
    /// Ignored unless `shuffle` is set.
    pub seed: Option<u64>,
    /// Drop the last batch if it is smaller than `batch_size`. Default `false`.
    pub drop_last: bool,
    /// Threads that build batches ahead of the training loop; 0 (the default) builds
    /// each batch on the calling thread when it is asked for.
    pub num_workers: usize,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        LoaderConfig { batch_size: 1, shuffle: false, seed: None, drop_last: false, num_workers: 0 }
    }
}

impl LoaderConfig {
    /// Batches per epoch over `len` samples: `ceil(len / batch_size)`, or the floor with
    /// `drop_last`.
    pub fn num_batches(&self, len: usize) -> usize {
        if self.drop_last {
            len / self.batch_size
        } else {
            len.div_ceil(self.batch_size)
        }
    }

    /// Checks these options against a dataset of `len` samples.
    ///
    /// # Errors
    /// [`DataError::InvalidConfig`] for an empty dataset, `batch_size == 0`, or
    /// `drop_last` with fewer samples than one batch (the epoch would have no batch).
    pub fn validate(&self, len: usize) -> Result<(), DataError> {
        let err = |reason: String| Err(DataError::config("DataLoader", reason));
        if len == 0 {
            return err("the dataset is empty".into());
        }
        if self.batch_size == 0 {
            return err("batch_size must be at least 1".into());
        }
        if self.drop_last && len < self.batch_size {
            return err(format!(
                "drop_last with batch_size {} leaves no batch: the dataset has only {len} samples",
                self.batch_size
            ));
        }
        Ok(())
    }
}

/// Iterates a [`Dataset`] in batches (`torch.utils.data.DataLoader`).
///
/// Each `for (x, y) in &loader` is one epoch: it yields exactly
/// [`len()`](DataLoader::len) batches of inputs `[B, ...]` and targets `[B, ...]`
/// (collated by [`Dataset::get_batch`]), and iterating again starts the next epoch.
/// Invalid options panic at the builder call that makes them invalid (use
/// [`DataLoader::try_new`] for options that come from outside the program).
///
/// Shuffling is seeded: with [`seed`](DataLoader::seed), epoch `e` always has the same
/// order (a hash of the seed and `e`; see [`set_epoch`](DataLoader::set_epoch)); without
/// it each epoch draws its seed from the global generator, so `manual_seed` reproduces a
/// run. The order never depends on [`num_workers`](DataLoader::num_workers).
///
/// ```
/// use nabla_data::{DataLoader, Dataset, Digits};
///
/// let loader = DataLoader::new(Digits::train()).batch_size(64).shuffle(true).seed(7).num_workers(2);
/// assert_eq!(loader.len(), 23); // ceil(1437 / 64)
/// let mut seen = 0;
/// for (x, y) in &loader {
///     assert_eq!(&x.shape()[1..], &[1, 8, 8]); // f32 images scaled to [0, 1]
///     assert_eq!(y.dim(), 1); // i64 labels
///     seen += y.numel();
/// }
/// assert_eq!(seen, loader.dataset().len());
/// ```
pub struct DataLoader<D> {
    dataset: Arc<D>,
    config: LoaderConfig,
    /// The epoch the next iteration will run.
    epoch: AtomicU64,
}

impl<D: Dataset + 'static> DataLoader<D> {
    /// A loader with the default options (batch size 1, in order, no workers).
    ///
    /// # Panics
    /// If the dataset is empty.
    #[track_caller]
    pub fn new(dataset: D) -> Self {
        Self::try_new(dataset, LoaderConfig::default()).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A loader with the given options.
    ///
    /// # Errors
    /// See [`LoaderConfig::validate`].
    pub fn try_new(dataset: D, config: LoaderConfig) -> Result<Self, DataError> {
        config.validate(dataset.len())?;
        Ok(DataLoader { dataset: Arc::new(dataset), config, epoch: AtomicU64::new(0) })
    }

    #[track_caller]
    fn with(mut self, set: impl FnOnce(&mut LoaderConfig)) -> Self {
        set(&mut self.config);
        if let Err(e) = self.config.validate(self.dataset.len()) {
            panic!("{e}");
        }
        self
    }

    /// Samples per batch.
    ///
    /// # Panics
    /// If `n == 0`, or with `drop_last` if the dataset has fewer than `n` samples.
    #[track_caller]
    pub fn batch_size(self, n: usize) -> Self {
        self.with(|c| c.batch_size = n)
    }

    /// Reshuffle the samples every epoch.
    pub fn shuffle(self, on: bool) -> Self {
        self.with(|c| c.shuffle = on)
    }

    /// A fixed shuffle seed: the same seed gives the same sequence of epoch orders.
    pub fn seed(self, seed: u64) -> Self {
        self.with(|c| c.seed = Some(seed))
    }

    /// Drop the last, incomplete batch.
    ///
    /// # Panics
    /// If `on` and the dataset has fewer samples than one batch.
    #[track_caller]
    pub fn drop_last(self, on: bool) -> Self {
        self.with(|c| c.drop_last = on)
    }

    /// Build batches on `n` background threads (0: on the calling thread).
    pub fn num_workers(self, n: usize) -> Self {
        self.with(|c| c.num_workers = n)
    }

    /// The dataset (PyTorch's `loader.dataset`).
    pub fn dataset(&self) -> &D {
        &self.dataset
    }

    /// The options in force.
    pub fn config(&self) -> &LoaderConfig {
        &self.config
    }

    /// Batches per epoch (PyTorch's `len(loader)`).
    pub fn len(&self) -> usize {
        self.config.num_batches(self.dataset.len())
    }

    /// Always false: a loader has at least one batch (checked when it is built).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The epoch the next iteration runs; each iteration advances it by one.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Relaxed)
    }

    /// Makes the next iteration run epoch `epoch` (to resume a run, or to replay an
    /// epoch's order); with a fixed seed the order is a function of the seed and epoch.
    pub fn set_epoch(&self, epoch: u64) {
        self.epoch.store(epoch, Ordering::Relaxed);
    }

    /// Starts the next epoch: an iterator over its batches.
    pub fn iter(&self) -> Batches {
        let epoch = self.epoch.fetch_add(1, Ordering::Relaxed);
        let n = self.dataset.len();
        let order = match (self.config.shuffle, self.config.seed) {
            (false, _) => (0..n).collect(),
            (true, Some(seed)) => permutation(n, seed ^ mix(epoch.wrapping_add(1))),
            (true, None) => permutation(n, nabla_tensor::random::reserve(1).word(0)),
        };
        let dataset: Arc<dyn Dataset> = self.dataset.clone();
        let plan = Plan { dataset, order, batch_size: self.config.batch_size, total: self.len() };
        Batches::start(plan, self.config.num_workers)
    }
}

impl<D: Dataset + 'static> IntoIterator for &DataLoader<D> {
    type Item = (Tensor, Tensor);
    type IntoIter = Batches;

    fn into_iter(self) -> Batches {
        self.iter()
    }
}

/// One epoch's schedule: the sample order, cut into `total` batches.
struct Plan {
    dataset: Arc<dyn Dataset>,
    order: Vec<usize>,
    batch_size: usize,
    total: usize,
}

impl Plan {
    fn batch(&self, b: usize) -> (Tensor, Tensor) {
        let start = b * self.batch_size;
        let end = (start + self.batch_size).min(self.order.len());
        self.dataset.get_batch(&self.order[start..end])
    }
}

/// The batches of one epoch of a [`DataLoader`], in order.
///
/// Dropping it early stops the workers (each finishes at most the batch it is building).
/// A panic inside a worker (e.g. in a dataset's `get`) is re-raised on the thread that
/// iterates.
pub struct Batches {
    plan: Arc<Plan>,
    next: usize,
    receivers: Vec<Receiver<(Tensor, Tensor)>>,
    workers: Vec<Option<JoinHandle<()>>>,
}

impl Batches {
    fn start(plan: Plan, num_workers: usize) -> Self {
        let plan = Arc::new(plan);
        let n = num_workers.min(plan.total);
        let (mut receivers, mut workers) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for w in 0..n {
            let (tx, rx) = sync_channel(PREFETCH);
            let plan = Arc::clone(&plan);
            let handle = std::thread::Builder::new()
                .name(format!("nabla-data-worker-{w}"))
                .spawn(move || {
                    for b in (w..plan.total).step_by(n) {
                        if tx.send(plan.batch(b)).is_err() {
                            return; // the iterator was dropped
                        }
                    }
                })
                .unwrap_or_else(|e| panic!("DataLoader: could not start worker thread {w}: {e}"));
            receivers.push(rx);
            workers.push(Some(handle));
        }
        Batches { plan, next: 0, receivers, workers }
    }
}

impl Iterator for Batches {
    type Item = (Tensor, Tensor);

    fn next(&mut self) -> Option<(Tensor, Tensor)> {
        if self.next == self.plan.total {
            return None;
        }
        let b = self.next;
        self.next += 1;
        if self.receivers.is_empty() {
            return Some(self.plan.batch(b));
        }
        let w = b % self.receivers.len();
        match self.receivers[w].recv() {
            Ok(batch) => Some(batch),
            // The worker hung up before sending batch `b`: it panicked. Re-raise here.
            Err(_) => match self.workers[w].take().map(JoinHandle::join) {
                Some(Err(payload)) => std::panic::resume_unwind(payload),
                _ => panic!("DataLoader: worker {w} stopped before producing batch {b}"),
            },
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.plan.total - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Batches {}

impl Drop for Batches {
    fn drop(&mut self) {
        // Hang up first so that workers blocked on a full channel return, then wait.
        self.receivers.clear();
        for handle in self.workers.iter_mut().filter_map(Option::take) {
            // A worker's panic was either re-raised by `next` or is moot once dropped.
            let _ = handle.join();
        }
    }
}
