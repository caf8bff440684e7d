//! The per-step product of the recurrence, `c (+)= a b` with `b` the same `[k, n]`
//! weight matrix at every step.
//!
//! A general GEMM (matrixmultiply) copies ("packs") both operands into its blocked layout
//! on every call; at a step's sizes (`[16, 64] @ [64, 256]`) packing the weights costs
//! about as much as the product, 64 times per sequence. Here the weights are laid out
//! once per sequence as a row-major `[k, n]` matrix, and each row of `c` is accumulated
//! in blocks of 4 rows by 16 columns held in registers while streaming the rows of `b`: no packing, and
//! with AVX2/FMA (detected at run time) the lane loops become 8-wide fused multiply-adds.

use super::act::CellFloat;

/// Columns of `c` accumulated together in registers (two AVX2 registers of `f32`).
const BLOCK: usize = 16;

/// What each row of the product starts from before the products are added.
#[derive(Clone, Copy)]
pub(crate) enum Start<'a, T> {
    /// Zero: `c = a b`.
    Zero,
    /// The row's current values: `c += a b`.
    Current,
    /// The same row of `n` values for every row, a bias: `c = bias + a b`. Same bits as
    /// copying the bias into `c` first and accumulating, without the copies.
    Row(&'a [T]),
}

/// `c[i, :] = start + a[i, :] b` for `m` rows (see [`Start`]): `a` has row stride
/// `lda` and `k` columns, `b` is row-major `[k, n]`, `c` has row stride `ldc`.
///
/// # Panics
/// If a slice is too short for its shape.
#[allow(clippy::too_many_arguments)]
pub(crate) fn step_gemm<T: CellFloat>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    lda: usize,
    b: &[T],
    c: &mut [T],
    ldc: usize,
    start: Start<T>,
) {
    assert!(b.len() >= k * n, "step_gemm: b holds {} values, not [{k}, {n}]", b.len());
    if let Start::Row(row) = start {
        assert!(row.len() >= n, "step_gemm: the start row holds {} values, not {n}", row.len());
    }
    if m == 0 || n == 0 {
        return;
    }
    assert!(a.len() >= (m - 1) * lda + k && c.len() >= (m - 1) * ldc + n, "step_gemm: a or c too short");
    #[cfg(target_arch = "x86_64")]
    if nabla_tensor::simd::has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        unsafe { step_gemm_avx2(m, k, n, a, lda, b, c, ldc, start) };
        return;
    }
    body::<T, false>(m, k, n, a, lda, b, c, ldc, start);
}

/// [`body`] compiled for AVX2 with fused multiply-adds.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn step_gemm_avx2<T: CellFloat>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    lda: usize,
    b: &[T],
    c: &mut [T],
    ldc: usize,
    start: Start<T>,
) {
    body::<T, true>(m, k, n, a, lda, b, c, ldc, start)
}

/// The kernel, inlined into each instruction-set variant: blocks of `ROWS` rows of `c`,
/// so each loaded piece of `b` feeds `ROWS` independent accumulators (one row alone
/// would wait on the latency of its own additions).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn body<T: CellFloat, const FMA: bool>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    lda: usize,
    b: &[T],
    c: &mut [T],
    ldc: usize,
    start: Start<T>,
) {
    const ROWS: usize = 4;
    let full = m / ROWS * ROWS;
    for i in (0..full).step_by(ROWS) {
        rows::<T, FMA, ROWS>(i, k, n, a, lda, b, c, ldc, start);
    }
    for i in full..m {
        rows::<T, FMA, 1>(i, k, n, a, lda, b, c, ldc, start);
    }
}

/// Rows `i..i + R` of `c`, in column blocks of `BLOCK`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn rows<T: CellFloat, const FMA: bool, const R: usize>(
    i: usize,
    k: usize,
    n: usize,
    a: &[T],
    lda: usize,
    b: &[T],
    c: &mut [T],
    ldc: usize,
    start: Start<T>,
) {
    let a_rows: [&[T]; R] = std::array::from_fn(|r| &a[(i + r) * lda..(i + r) * lda + k]);
    for j0 in (0..n).step_by(BLOCK) {
        let width = BLOCK.min(n - j0);
        let mut acc = [[T::zero(); BLOCK]; R];
        match start {
            Start::Zero => {}
            Start::Current => {
                for (r, acc) in acc.iter_mut().enumerate() {
                    acc[..width].copy_from_slice(&c[(i + r) * ldc + j0..(i + r) * ldc + j0 + width]);
                }
            }
            Start::Row(row) => acc.iter_mut().for_each(|acc| acc[..width].copy_from_slice(&row[j0..j0 + width])),
        }
        // Two loops, so the full-width one loads whole vectors of `b` (a width test
        // inside the loop made the compiler assemble them from pieces).
        if width == BLOCK {
            for p in 0..k {
                let b_row: &[T; BLOCK] = b[p * n + j0..p * n + j0 + BLOCK].try_into().expect("BLOCK long");
                for (acc, a_row) in acc.iter_mut().zip(&a_rows) {
                    let av = a_row[p];
                    for l in 0..BLOCK {
                        acc[l] = if FMA { av.mul_add(b_row[l], acc[l]) } else { acc[l] + av * b_row[l] };
                    }
                }
            }
        } else {
            for p in 0..k {
                let b_row = &b[p * n + j0..p * n + j0 + width];
                for (acc, a_row) in acc.iter_mut().zip(&a_rows) {
                    let av = a_row[p];
                    for l in 0..width {
                        acc[l] = if FMA { av.mul_add(b_row[l], acc[l]) } else { acc[l] + av * b_row[l] };
                    }
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            c[(i + r) * ldc + j0..(i + r) * ldc + j0 + width].copy_from_slice(&acc[..width]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_naive_product_with_strides_and_a_ragged_block() {
        let (m, k, n, lda, ldc) = (6, 5, 40, 7, 43);
        let a: Vec<f64> = (0..m * lda).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.11).cos()).collect();
        let mut c: Vec<f64> = (0..m * ldc).map(|i| i as f64).collect();
        let before = c.clone();
        step_gemm(m, k, n, &a, lda, &b, &mut c, ldc, Start::Current);
        for i in 0..m {
            for j in 0..n {
                let want = before[i * ldc + j] + (0..k).map(|p| a[i * lda + p] * b[p * n + j]).sum::<f64>();
                assert!((c[i * ldc + j] - want).abs() < 1e-12);
            }
            assert_eq!(c[i * ldc + n..(i + 1) * ldc], before[i * ldc + n..(i + 1) * ldc], "columns past n untouched");
        }
        // A start row gives the bits of copying it into every row and accumulating.
        let bias: Vec<f64> = (0..n).map(|j| (j as f64 * 0.7).sin()).collect();
        let mut copied = c.clone();
        copied.chunks_mut(ldc).for_each(|row| row[..n].copy_from_slice(&bias));
        step_gemm(m, k, n, &a, lda, &b, &mut copied, ldc, Start::Current);
        step_gemm(m, k, n, &a, lda, &b, &mut c, ldc, Start::Row(&bias));
        assert_eq!(c, copied);
        step_gemm(m, k, n, &a, lda, &b, &mut c, ldc, Start::Zero);
        assert!((c[0] - (0..k).map(|p| a[p] * b[p * n]).sum::<f64>()).abs() < 1e-12);
    }
}
