//! Running independent pieces of one op on the pool, for fused kernels outside this
//! crate (an RNN layer splits its batch, whose samples recur independently).

use crate::threads::map_parts;

/// `f(0), ..., f(n - 1)`, in order, computed in parallel on the calling thread and the
/// pool (see [`set_num_threads`](crate::set_num_threads)) when `n > 1`.
///
/// ```
/// let squares = nabla_tensor::parallel_map(4, |i| i * i);
/// assert_eq!(squares, vec![0, 1, 4, 9]);
/// ```
pub fn parallel_map<R: Send>(n: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    map_parts(vec![(); n], |i, ()| f(i))
}
