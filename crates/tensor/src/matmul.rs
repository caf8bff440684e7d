//! Matrix products: `matmul` with PyTorch's rules for 1-D, 2-D and batched operands,
//! through `matrixmultiply`'s strided GEMM (a transposed view costs no copy).

use crate::array::NdArray;
use crate::dtype::{DType, Element};
use crate::gemv::direct_product;
use crate::layout::{broadcast_shapes, Layout, Walk};
use crate::small_gemm;
use crate::storage::Storage;
use crate::threads::{for_each_task, get_num_threads};
use crate::transpose::{fits_scratch, turns_for_packing, with_turned_operands};

/// Below this many multiply-adds (a few tens of microseconds on one core) a product
/// runs on the calling thread. Above it, a product is split into one block per thread
/// (or the batch into one product per task) and the caller computes blocks too (see
/// `threads::for_each_task`): on the MNIST MLP (products up to 64x784x256) that took
/// the epoch from 0.96 s to 0.74 s on 2 threads, where handing the whole product to the
/// pool (and sleeping until it was done) had been slower than one thread. Thresholds
/// from 2^18 to 2^21 measured the same.
pub const MATMUL_PARALLEL_MACS: usize = 1 << 20;

/// With its `threading` feature on (cargo unifies features, so any crate in the build
/// can turn it on), matrixmultiply would start its own threads inside each block we
/// already run on the pool. Pin it to one thread, unless the user chose a count.
pub(crate) fn pin_matrixmultiply_to_one_thread() {
    static PIN: std::sync::Once = std::sync::Once::new();
    PIN.call_once(|| {
        if std::env::var_os("MATMUL_NUM_THREADS").is_none() {
            std::env::set_var("MATMUL_NUM_THREADS", "1");
        }
    });
}

/// A read-only strided matrix operand: base pointer and row/column strides.
#[derive(Clone, Copy)]
pub(crate) struct MatRef<T> {
    pub(crate) ptr: *const T,
    pub(crate) rs: isize,
    pub(crate) cs: isize,
}

// SAFETY: a `MatRef` only ever reads, and it points into an `Arc`-owned buffer that the
// caller keeps alive for the whole product.
unsafe impl<T: Sync> Send for MatRef<T> {}
unsafe impl<T: Sync> Sync for MatRef<T> {}

impl<T> MatRef<T> {
    pub(crate) fn offset(self, rows: usize, cols: usize) -> Self {
        // SAFETY: callers only offset to rows/columns inside the operand's extent.
        MatRef { ptr: unsafe { self.ptr.offset(rows as isize * self.rs + cols as isize * self.cs) }, ..self }
    }
}

/// One matrix product: `c = a @ b` (or `c += a @ b` when `accumulate`) for an `m x k`
/// by `k x n` product into a row-major `c` with row stride `ldc`.
#[derive(Clone, Copy)]
pub(crate) struct GemmCall<T> {
    pub(crate) m: usize,
    pub(crate) k: usize,
    pub(crate) n: usize,
    pub(crate) a: MatRef<T>,
    pub(crate) b: MatRef<T>,
    pub(crate) c: *mut T,
    pub(crate) ldc: usize,
    pub(crate) accumulate: bool,
}

impl<T> GemmCall<T> {
    fn shape(&self) -> [usize; 3] {
        [self.m, self.k, self.n]
    }
}

/// The element types with a GEMM.
pub(crate) trait Gemm: Element {
    /// Computes `call`.
    ///
    /// # Safety
    /// `a` and `b` must be valid for reads over `m x k` and `k x n` with their strides;
    /// `c` must be valid for reads and writes over `m x n` with row stride `ldc`,
    /// disjoint from everything else written concurrently.
    unsafe fn gemm(call: GemmCall<Self>) {
        // SAFETY: as the caller promises; the product is its own whole.
        unsafe { Self::gemm_block(call.shape(), call) }
    }

    /// [`Gemm::gemm`] for one block of a larger product, shaped `whole`, with the
    /// kernel the whole product takes. A product split over threads is split by the
    /// thread count; choosing each block's kernel by the block's own size made the
    /// results depend on it (the kernels sum in different orders).
    ///
    /// # Safety
    /// As [`Gemm::gemm`], for the block.
    unsafe fn gemm_block(whole: [usize; 3], call: GemmCall<Self>);
}

impl Gemm for f32 {
    unsafe fn gemm_block(whole: [usize; 3], call: GemmCall<f32>) {
        if direct_product(whole, call) {
            return;
        }
        let GemmCall { m, k, n, a, b, c, ldc, accumulate } = call;
        let shape = call.shape();
        #[cfg(target_arch = "x86_64")]
        if small_gemm::takes(whole, b, || fits_scratch(whole[1] * whole[2])) {
            // SAFETY: the CPU has AVX2 and FMA, and `b` has contiguous rows once turned
            // (`takes` checked both); the rest is the caller's promise.
            let run = |a, b| unsafe { small_gemm::gemm(GemmCall { a, b, ..call }) };
            // SAFETY: as the caller promises; `b`'s columns are contiguous when it is turned.
            return unsafe { with_turned_operands(shape, a, b, [false, b.cs != 1], run) };
        }
        let beta = if accumulate { 1.0 } else { 0.0 };
        with_turned_operands(shape, a, b, turns_for_packing(shape, a, b), |a, b| {
            matrixmultiply::sgemm(m, k, n, 1.0, a.ptr, a.rs, a.cs, b.ptr, b.rs, b.cs, beta, c, ldc as isize, 1)
        });
    }
}

impl Gemm for f64 {
    unsafe fn gemm_block(whole: [usize; 3], call: GemmCall<f64>) {
        if direct_product(whole, call) {
            return;
        }
        let GemmCall { m, k, n, a, b, c, ldc, accumulate } = call;
        let beta = if accumulate { 1.0 } else { 0.0 };
        matrixmultiply::dgemm(m, k, n, 1.0, a.ptr, a.rs, a.cs, b.ptr, b.rs, b.cs, beta, c, ldc as isize, 1);
    }
}

impl Gemm for i64 {
    unsafe fn gemm_block(_whole: [usize; 3], GemmCall { m, k, n, a, b, c, ldc, accumulate }: GemmCall<i64>) {
        for i in 0..m {
            for j in 0..n {
                let c = c.add(i * ldc + j);
                let mut acc = if accumulate { *c } else { 0 };
                for p in 0..k {
                    acc = acc.wrapping_add((*a.offset(i, p).ptr).wrapping_mul(*b.offset(p, j).ptr));
                }
                *c = acc;
            }
        }
    }
}

/// A mutable pointer that may cross threads; each thread writes a disjoint block.
#[derive(Clone, Copy)]
pub(crate) struct OutPtr<T>(pub(crate) *mut T);
// SAFETY: every user writes only its own block of the output (see `product`).
unsafe impl<T> Send for OutPtr<T> {}
unsafe impl<T> Sync for OutPtr<T> {}

impl<T> OutPtr<T> {
    // A method, not field access, so closures capture the whole `Sync` wrapper.
    pub(crate) fn get(self) -> *mut T {
        self.0
    }
}

/// Computes every batch's `m x k` by `k x n` product into `out` (row-major, batch-major),
/// writing every element without reading it, so `out` may start uninitialised.
fn product<T: Gemm>(
    batches: &[(MatRef<T>, MatRef<T>)],
    m: usize,
    k: usize,
    n: usize,
    out: &mut [std::mem::MaybeUninit<T>],
) {
    pin_matrixmultiply_to_one_thread();
    let threads = get_num_threads();
    let macs = batches.len() * m * n * k;
    let out_ptr = OutPtr(out.as_mut_ptr().cast::<T>());
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY (all three branches): `out` holds `batches.len() * m * n` elements, batch `i`
    // writes rows `i*m..(i+1)*m`; within a batch, blocks of rows or of columns are
    // disjoint. Operand pointers come from live arrays with in-bounds strides. The
    // product overwrites its block (beta 0; also when `k == 0`) and never reads it.
    let run = |i: usize, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>| unsafe {
        let (a, b) = batches[i];
        let c = out_ptr.get().add(i * m * n + rows.start * n + cols.start);
        T::gemm_block(
            [m, k, n],
            GemmCall {
                m: rows.len(),
                k,
                n: cols.len(),
                a: a.offset(rows.start, 0),
                b: b.offset(0, cols.start),
                c,
                ldc: n,
                accumulate: false,
            },
        );
    };
    if threads == 1 || macs < MATMUL_PARALLEL_MACS {
        (0..batches.len()).for_each(|i| run(i, 0..m, 0..n));
    } else if batches.len() >= threads {
        for_each_task(batches.len(), &|i| run(i, 0..m, 0..n));
    } else {
        // Few large products: split each into one block per thread, along the longer
        // side, so every thread packs its own share and none waits on another.
        let split_rows = m >= n;
        let len = if split_rows { m } else { n };
        let parts = threads.min(len.div_ceil(16)).max(1);
        let step = len.div_ceil(parts);
        for_each_task(batches.len() * parts, &|j| {
            let (i, p) = (j / parts, j % parts);
            let r = (p * step).min(len)..((p + 1) * step).min(len);
            if split_rows {
                run(i, r, 0..n)
            } else {
                run(i, 0..m, r)
            }
        });
    }
}

fn mat_ref<T>(s: &[T], layout: &Layout, offset: usize) -> MatRef<T> {
    let nd = layout.ndim();
    MatRef {
        // SAFETY: `offset` is a storage index reached by this layout, so it is in bounds.
        ptr: unsafe { s.as_ptr().add(offset) },
        rs: layout.strides()[nd - 2] as isize,
        cs: layout.strides()[nd - 1] as isize,
    }
}

impl NdArray {
    /// Matrix product with PyTorch's `matmul` rules: 1-D operands are treated as a row
    /// (left) or column (right) vector and that dim is removed from the result; leading
    /// batch dims broadcast.
    ///
    /// ```
    /// use nabla_tensor::NdArray;
    /// let a = NdArray::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
    /// let b = NdArray::from_vec(vec![1.0f32, 1.0], &[2]);
    /// assert_eq!(a.matmul(&b).to_vec::<f32>(), vec![3.0, 7.0]);
    /// ```
    #[track_caller]
    pub fn matmul(&self, other: &NdArray) -> NdArray {
        let (a, b) = (self, other);
        matmul_shape(a.shape(), b.shape());
        let a2 = if a.ndim() == 1 { a.unsqueeze(0) } else { a.clone() };
        let b2 = if b.ndim() == 1 { b.unsqueeze(1) } else { b.clone() };
        let out = a2.matmul_nd(&b2);
        match (a.ndim(), b.ndim()) {
            (1, 1) => out.reshape_exact(&[]),
            (1, _) => out.squeeze_dim(-2),
            (_, 1) => out.squeeze_dim(-1),
            _ => out,
        }
    }

    #[track_caller]
    fn matmul_nd(&self, other: &NdArray) -> NdArray {
        let (na, nb) = (self.ndim(), other.ndim());
        let (m, k) = (self.shape()[na - 2], self.shape()[na - 1]);
        let n = other.shape()[nb - 1];
        let batch = broadcast_shapes(&self.shape()[..na - 2], &other.shape()[..nb - 2])
            .expect("matmul_shape has checked the batch dims");
        let dtype = DType::promote(self.dtype(), other.dtype());
        let with_batch = |x: &NdArray, r: usize, c: usize| {
            let mut s = batch.clone();
            s.extend([r, c]);
            x.cast(dtype).broadcast_to_op("matmul", &s)
        };
        let (a, b) = (with_batch(self, m, k), with_batch(other, k, n));
        let mut out_shape = batch.clone();
        out_shape.extend([m, n]);
        let nb_batches: usize = batch.iter().product();
        // Storage offsets of each batch's matrices.
        let mut offsets = Vec::with_capacity(nb_batches);
        let keep = |l: &Layout| Layout::from_parts(batch.clone(), l.strides()[..batch.len()].to_vec(), l.offset());
        let (ba, bb) = (keep(&a.layout), keep(&b.layout));
        let walk = Walk::new(&batch, [&ba, &bb]);
        let [sa, sb] = walk.inner_strides();
        walk.runs(0..nb_batches, |[oa, ob], len| offsets.extend((0..len).map(|i| (oa + i * sa, ob + i * sb))));
        let storage = match (&*a.storage, &*b.storage) {
            (Storage::F32(x), Storage::F32(y)) => Storage::F32(run_product(x, &a, y, &b, &offsets, m, k, n)),
            (Storage::F64(x), Storage::F64(y)) => Storage::F64(run_product(x, &a, y, &b, &offsets, m, k, n)),
            (Storage::I64(x), Storage::I64(y)) => Storage::I64(run_product(x, &a, y, &b, &offsets, m, k, n)),
            _ => unreachable!("matmul: operands were cast to one dtype"),
        };
        NdArray::from_storage(storage, &out_shape)
    }
}

/// The shape of `matmul` of operands shaped `a` and `b`, panicking with both shapes
/// (as the caller gave them) when they cannot be multiplied.
#[track_caller]
pub fn matmul_shape(a: &[usize], b: &[usize]) -> Vec<usize> {
    if a.is_empty() || b.is_empty() {
        panic!("matmul: both arguments need at least 1 dimension, got shapes {a:?} and {b:?}");
    }
    let k = a[a.len() - 1];
    let k2 = if b.len() == 1 { b[0] } else { b[b.len() - 2] };
    if k != k2 {
        panic!("matmul: shapes {a:?} and {b:?} cannot be multiplied (inner dims {k} and {k2} differ)");
    }
    let batch_a = if a.len() > 2 { &a[..a.len() - 2] } else { &[] };
    let batch_b = if b.len() > 2 { &b[..b.len() - 2] } else { &[] };
    let mut out = broadcast_shapes(batch_a, batch_b)
        .unwrap_or_else(|| panic!("matmul: batch dims of shapes {a:?} and {b:?} cannot be broadcast together"));
    if a.len() > 1 {
        out.push(a[a.len() - 2]);
    }
    if b.len() > 1 {
        out.push(b[b.len() - 1]);
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn run_product<T: Gemm>(
    x: &[T],
    a: &NdArray,
    y: &[T],
    b: &NdArray,
    offsets: &[(usize, usize)],
    m: usize,
    k: usize,
    n: usize,
) -> Vec<T> {
    let batches: Vec<_> =
        offsets.iter().map(|&(oa, ob)| (mat_ref(x, &a.layout, oa), mat_ref(y, &b.layout, ob))).collect();
    let len = offsets.len() * m * n;
    let mut out = Vec::with_capacity(len);
    product(&batches, m, k, n, &mut out.spare_capacity_mut()[..len]);
    // SAFETY: `product` wrote all `len` elements.
    unsafe { out.set_len(len) };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread_count_changes_no_product() {
        // Products big enough to be split over threads, where a block alone would take
        // another kernel than the whole: small_gemm (k up to 512, 8M multiply-adds)
        // against matrixmultiply (k over 256 sums in two blocks), and blocks of 10
        // rows, thin enough for dot products (a `b` read by columns), of 20.
        for (dtype, [m, k, n], b_by_columns) in [
            (DType::F32, [64, 300, 512], false),
            (DType::F32, [128, 500, 160], false),
            (DType::F32, [1, 700, 2048], false),
            (DType::F32, [20, 4000, 17], true),
            (DType::F64, [20, 4000, 17], true),
        ] {
            let a = NdArray::randn(&[m, k], dtype);
            let b = if b_by_columns { NdArray::randn(&[n, k], dtype).t() } else { NdArray::randn(&[k, n], dtype) };
            let run = |threads| {
                crate::set_num_threads(threads);
                a.matmul(&b).cast(DType::F64).to_vec::<f64>()
            };
            let one = run(1);
            for threads in [2, 3] {
                assert!(one == run(threads), "{m}x{k}x{n} {dtype:?} with {threads} threads");
            }
        }
    }

    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn large_split_product_matches_naive() {
        crate::set_num_threads(2);
        let (m, k, n) = (250, 270, 260); // above MATMUL_PARALLEL_MACS, odd split
        let a = NdArray::randn(&[m, k], DType::F64);
        let b = NdArray::randn(&[n, k], DType::F64).t();
        let c = a.matmul(&b).to_vec::<f64>();
        let want = naive(&a.to_vec(), &b.contiguous().to_vec(), m, k, n);
        for (x, y) in c.iter().zip(&want) {
            assert!((x - y).abs() < 1e-9);
        }
    }

    #[test]
    fn integer_matmul() {
        let a = NdArray::from_vec(vec![1i64, 2, 3, 4], &[2, 2]);
        assert_eq!(a.matmul(&a).to_vec::<i64>(), vec![7, 10, 15, 22]);
    }

    #[test]
    #[should_panic(
        expected = "matmul: shapes [32, 784] and [10, 784] cannot be multiplied (inner dims 784 and 10 differ)"
    )]
    fn inner_dim_mismatch() {
        NdArray::zeros(&[32, 784], DType::F32).matmul(&NdArray::zeros(&[10, 784], DType::F32));
    }
}
