//! The one thread pool every parallel kernel runs on, and the rule for when to use it.
//!
//! We own a rayon pool instead of using rayon's global one because the global pool's
//! size is frozen at first use, while `set_num_threads` must work at any time (as
//! `torch.set_num_threads` does). GEMM runs single-threaded `matrixmultiply` calls on
//! this same pool, so one setting governs all threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use rayon::prelude::*;

/// Elementwise work below this many elements stays on the calling thread: handing work
/// to the pool costs a few microseconds, more than a small loop takes.
pub const PARALLEL_THRESHOLD: usize = 32 * 1024;

static NUM_THREADS: AtomicUsize = AtomicUsize::new(0);
static POOL: RwLock<Option<Arc<rayon::ThreadPool>>> = RwLock::new(None);

/// Sets how many threads kernels may use (at least 1). Takes effect for the next op.
///
/// ```
/// nabla_tensor::set_num_threads(2);
/// assert_eq!(nabla_tensor::get_num_threads(), 2);
/// ```
pub fn set_num_threads(n: usize) {
    let n = n.max(1);
    let mut pool = POOL.write().unwrap_or_else(|e| e.into_inner());
    *pool = None;
    NUM_THREADS.store(n, Ordering::SeqCst);
}

/// The number of threads kernels use: the last `set_num_threads` value, else the
/// `NABLA_NUM_THREADS` environment variable, else the number of available cores.
pub fn get_num_threads() -> usize {
    match NUM_THREADS.load(Ordering::Relaxed) {
        0 => {
            let n = std::env::var("NABLA_NUM_THREADS")
                .ok()
                .and_then(|s| s.parse::<usize>().ok())
                .filter(|&n| n > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            // Another thread may have raced us; either value came from the same source.
            let _ = NUM_THREADS.compare_exchange(0, n, Ordering::SeqCst, Ordering::SeqCst);
            NUM_THREADS.load(Ordering::SeqCst)
        }
        n => n,
    }
}

fn pool() -> Arc<rayon::ThreadPool> {
    if let Some(p) = POOL.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return p.clone();
    }
    let mut slot = POOL.write().unwrap_or_else(|e| e.into_inner());
    slot.get_or_insert_with(|| {
        Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(get_num_threads())
                .thread_name(|i| format!("nabla-{i}"))
                .build()
                .expect("nabla: failed to start the thread pool"),
        )
    })
    .clone()
}

/// Runs `f` inside the pool (so rayon calls in `f` use it).
pub(crate) fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        return f();
    }
    pool().install(f)
}

/// Fills `out` by calling `f(start, chunk)` on disjoint chunks, where `start` is the
/// chunk's index in `out`; in parallel when `work` (an element count) is large enough.
pub(crate) fn fill_chunks<T: Send>(out: &mut [T], work: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    let threads = get_num_threads();
    if threads == 1 || work < PARALLEL_THRESHOLD || out.len() < 2 {
        f(0, out);
        return;
    }
    let chunk = out.len().div_ceil(threads * 4).max(1);
    install(|| {
        out.par_chunks_mut(chunk).enumerate().for_each(|(i, c)| f(i * chunk, c));
    });
}

/// A vector of `n` elements written by `f(start, writer)` on disjoint chunks (split as
/// in [`fill_chunks`]), without zeroing them first: a large output would otherwise be
/// written twice, the first time by one thread. Each writer must be filled completely,
/// else this panics (before anything reads the unwritten memory).
pub(crate) fn collect_chunks<T: Send>(n: usize, work: usize, f: impl Fn(usize, &mut ChunkWriter<T>) + Sync) -> Vec<T> {
    let mut out = Vec::with_capacity(n);
    fill_chunks(&mut out.spare_capacity_mut()[..n], work, |start, slots| {
        let mut writer = ChunkWriter { slots, len: 0 };
        f(start, &mut writer);
        assert_eq!(writer.len, writer.slots.len(), "collect_chunks: a kernel left part of its chunk unwritten");
    });
    // SAFETY: every chunk of `0..n` was written front to back by its `ChunkWriter`, and
    // the assert above checked that each reached its chunk's end.
    unsafe { out.set_len(n) };
    out
}

/// Writes one chunk of [`collect_chunks`]'s output front to back.
pub(crate) struct ChunkWriter<'a, T> {
    slots: &'a mut [std::mem::MaybeUninit<T>],
    len: usize,
}

impl<T> ChunkWriter<'_, T> {
    /// Elements of the chunk still to write.
    pub(crate) fn remaining(&self) -> usize {
        self.slots.len() - self.len
    }

    /// Writes `values` after the elements written so far (as many as fit).
    #[inline(always)]
    pub(crate) fn extend(&mut self, values: impl Iterator<Item = T>) {
        let mut count = 0;
        for (slot, v) in self.slots[self.len..].iter_mut().zip(values) {
            slot.write(v);
            count += 1;
        }
        self.len += count;
    }
}

/// How many contiguous parts to split `rows` independent, equally costly rows of work
/// into, and the rows per part: one part per thread when `parallel` and there is more
/// than one row, else a single part. The split depends only on the thread count, so
/// anything reduced part by part in order is deterministic for a given thread count.
pub(crate) fn split_rows(rows: usize, parallel: bool) -> (usize, usize) {
    let threads = get_num_threads();
    let parts = if parallel && threads > 1 { threads.min(rows).max(1) } else { 1 };
    (parts, rows.div_ceil(parts).max(1))
}

/// `items.map(f(index, item))` in order, on the pool when there is more than one item.
pub(crate) fn map_parts<I: Send, R: Send>(items: Vec<I>, f: impl Fn(usize, I) -> R + Sync + Send) -> Vec<R> {
    if items.len() < 2 {
        return items.into_iter().enumerate().map(|(i, x)| f(i, x)).collect();
    }
    install(|| items.into_par_iter().enumerate().map(|(i, x)| f(i, x)).collect())
}
