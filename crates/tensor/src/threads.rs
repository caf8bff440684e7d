//! The one thread pool every parallel kernel runs on, and the rule for when to use it.
//!
//! We own a rayon pool instead of using rayon's global one because the global pool's
//! size is frozen at first use, while `set_num_threads` must work at any time (as
//! `torch.set_num_threads` does). Parallel work runs on the calling thread and this
//! pool together (see [`for_each_task`]); GEMM runs single-threaded `matrixmultiply`
//! calls there too, so one setting governs all threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

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

/// Runs `f` on the pool's threads (so rayon calls in `f` use them); the calling thread
/// waits. For long pieces of work only: handing over and waking up cost tens of
/// microseconds (see [`for_each_task`] for the usual way).
pub(crate) fn on_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        return f();
    }
    pool().install(f)
}

/// Runs `task(0)`, ..., `task(count - 1)` on the calling thread and the pool's workers,
/// and returns when all have finished.
///
/// The calling thread works too, claiming tasks from a shared counter like every
/// helper, so it never sleeps waiting for a worker to wake up: a helper that arrives
/// late finds the tasks taken and leaves. Before this, `ThreadPool::install` parked the
/// caller until the pool had run everything, and the two wake-ups per op cost as much
/// as splitting saved on millisecond-sized products. A task that panics does not stop
/// the others; the first panic is re-raised here once every claimed task has finished.
pub(crate) fn for_each_task(count: usize, task: &(dyn Fn(usize) + Sync)) {
    let helpers = get_num_threads().min(count).saturating_sub(1);
    if helpers == 0 {
        (0..count).for_each(task);
        return;
    }
    // SAFETY: only the lifetime is erased. `Tasks::run` dereferences `task` only after
    // claiming an index below `count`, and this function returns only once every
    // claimed index has finished (`run` itself never unwinds, so nothing leaves before
    // the wait below), so no helper touches `task` after it dies.
    let task = unsafe {
        std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), *const (dyn Fn(usize) + Sync + 'static)>(task)
    };
    let tasks = Arc::new(Tasks {
        count,
        next: AtomicUsize::new(0),
        finished: AtomicUsize::new(0),
        task,
        panic: Mutex::new(None),
    });
    let pool = pool();
    for _ in 0..helpers {
        let tasks = Arc::clone(&tasks);
        pool.spawn(move || tasks.run());
    }
    tasks.run();
    let mut spins = 0u32;
    while tasks.finished.load(Ordering::Acquire) < count {
        // What is left is a task a helper is running now; it ends soon.
        spins += 1;
        if spins < 1 << 12 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
    let panic = tasks.panic.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(payload) = panic {
        std::panic::resume_unwind(payload);
    }
}

/// The state [`for_each_task`] shares with its helpers.
struct Tasks {
    count: usize,
    /// The next unclaimed task.
    next: AtomicUsize,
    finished: AtomicUsize,
    /// Valid for the `for_each_task` call only, not `'static` (see there).
    task: *const (dyn Fn(usize) + Sync),
    panic: Mutex<Option<Box<dyn std::any::Any + Send>>>,
}

// SAFETY: `task` points to a `Sync` closure that outlives every use (see `for_each_task`);
// the other fields are thread-safe.
unsafe impl Send for Tasks {}
unsafe impl Sync for Tasks {}

impl Tasks {
    /// Claims and runs tasks until none is left. Never unwinds: a task's panic is kept
    /// for the caller (the first one; later payloads are leaked, not dropped, since
    /// dropping a payload may itself panic).
    fn run(&self) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.count {
                return;
            }
            // SAFETY: index `i < count` is claimed, so `for_each_task` is still waiting
            // and the closure is alive.
            let task = unsafe { &*self.task };
            if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| task(i))) {
                let mut first = self.panic.lock().unwrap_or_else(|e| e.into_inner());
                match *first {
                    None => *first = Some(payload),
                    Some(_) => std::mem::forget(payload),
                }
            }
            self.finished.fetch_add(1, Ordering::Release);
        }
    }
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
    map_parts(out.chunks_mut(chunk).collect(), |i, c| f(i * chunk, c));
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

/// The piece of a new vector's spare capacity, zeroed and ready to use as `&mut [T]`.
///
/// Outputs are allocated with `Vec::with_capacity` and zeroed piece by piece inside the
/// parallel loop, by the thread about to write each piece, instead of by `vec![0; n]` on
/// the calling thread alone: that serial memset was several percent of a CNN step. The
/// caller then sets the length once every piece has been through here.
pub(crate) fn zeroed<T: Copy + Default>(piece: &mut [std::mem::MaybeUninit<T>]) -> &mut [T] {
    piece.fill(std::mem::MaybeUninit::new(T::default()));
    // SAFETY: every element was written just above, and `MaybeUninit<T>` has `T`'s layout.
    unsafe { &mut *(piece as *mut [std::mem::MaybeUninit<T>] as *mut [T]) }
}

/// `items.map(f(index, item))` in order, on the calling thread and the pool (see
/// [`for_each_task`]) when there is more than one item.
pub(crate) fn map_parts<I: Send, R: Send>(items: Vec<I>, f: impl Fn(usize, I) -> R + Sync) -> Vec<R> {
    if items.len() < 2 || get_num_threads() == 1 {
        return items.into_iter().enumerate().map(|(i, x)| f(i, x)).collect();
    }
    // One slot per item, taken and filled by whichever thread runs that index.
    let slots: Vec<Mutex<(Option<I>, Option<R>)>> = items.into_iter().map(|x| Mutex::new((Some(x), None))).collect();
    let lock = |i: usize| slots[i].lock().unwrap_or_else(|e| e.into_inner());
    for_each_task(slots.len(), &|i| {
        let item = lock(i).0.take().expect("map_parts: each index runs once");
        let result = f(i, item);
        lock(i).1 = Some(result);
    });
    slots
        .into_iter()
        .map(|s| s.into_inner().unwrap_or_else(|e| e.into_inner()).1.expect("map_parts: every task ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_runs_exactly_once_also_when_nested() {
        set_num_threads(2);
        let runs: Vec<AtomicUsize> = (0..64 * 8).map(|_| AtomicUsize::new(0)).collect();
        for_each_task(64, &|outer| {
            for_each_task(8, &|inner| {
                runs[outer * 8 + inner].fetch_add(1, Ordering::Relaxed);
            });
        });
        assert!(runs.iter().all(|r| r.load(Ordering::Relaxed) == 1));
    }

    #[test]
    fn a_panicking_task_reaches_the_caller_after_the_others_finish() {
        set_num_threads(2);
        let finished = AtomicUsize::new(0);
        let result = std::panic::catch_unwind(|| {
            for_each_task(100, &|i| {
                if i == 37 {
                    panic!("task 37 failed");
                }
                finished.fetch_add(1, Ordering::Relaxed);
            })
        });
        let payload = result.expect_err("the panic must reach the caller");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"task 37 failed"));
        assert_eq!(finished.load(Ordering::Relaxed), 99);
    }

    #[test]
    fn later_panic_payloads_are_not_dropped_while_tasks_run() {
        // Dropping this payload panics; `for_each_task` must not drop a second one
        // (that panic would escape while helpers still run the borrowed closure).
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("payload dropped");
            }
        }
        set_num_threads(2);
        let finished = AtomicUsize::new(0);
        let result = std::panic::catch_unwind(|| {
            for_each_task(64, &|i| {
                if i % 16 == 3 {
                    std::panic::panic_any(Bomb);
                }
                finished.fetch_add(1, Ordering::Relaxed);
            })
        });
        let payload = result.expect_err("the first panic must reach the caller");
        assert!(payload.is::<Bomb>());
        std::mem::forget(payload);
        assert_eq!(finished.load(Ordering::Relaxed), 60);
    }

    #[test]
    fn map_parts_keeps_the_order_of_its_items() {
        set_num_threads(2);
        let out = map_parts((0..50).map(|i| i * 3).collect(), |i, x| (i, x + 1));
        assert_eq!(out, (0..50).map(|i| (i, i * 3 + 1)).collect::<Vec<_>>());
    }
}
