//! Running independent pieces of one op on the pool, for fused kernels outside this
//! crate (an RNN layer splits its batch, whose samples recur independently).

use rayon::prelude::*;

use crate::threads::on_pool;

/// `f(0), ..., f(n - 1)`, in order, computed in parallel on the pool's threads (see
/// [`set_num_threads`](crate::set_num_threads)) while the calling thread waits.
///
/// Unlike the kernels inside this crate, the caller does not take a share, even of a
/// single piece: the pieces are long (an RNN's whole sequence for part of the batch)
/// and allocate large buffers, and on the process's main thread glibc's allocator
/// returns and re-faults such memory on every call. An LSTM layer's forward and
/// backward took 5.4 ms with the main thread running one part, 3.3 ms with both parts
/// on the pool; on one thread, 9.4-10.9 ms with its one part on the main thread and
/// 6.7-7.6 ms with it on the pool.
///
/// ```
/// let squares = nabla_tensor::parallel_map(4, |i| i * i);
/// assert_eq!(squares, vec![0, 1, 4, 9]);
/// ```
pub fn parallel_map<R: Send>(n: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    if n == 0 {
        return Vec::new();
    }
    on_pool(|| (0..n).into_par_iter().map(&f).collect())
}
