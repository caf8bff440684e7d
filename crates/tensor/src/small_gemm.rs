//! f32 products small enough to stay in cache, on a 6x16 AVX2 kernel that reads the
//! operands where they lie: `a` one element at a time (a broadcast load, whatever its
//! strides), `b` by rows of 16 (so its rows must be contiguous).
//!
//! `matrixmultiply` first copies both operands into packed panels, which pays off when
//! each panel is reused many times. In the products of a convolution layer or a small
//! Linear layer (64x32x288, 32x576x64) the copies cost more than they save: there this
//! kernel ran 10-20% faster than `matrixmultiply` given the layouts it packs best, and
//! up to 45% faster given a Winograd weight gradient's layouts (1 thread, min of 2000;
//! numbers in docs/benchmarks.md). It lost on the largest products tried (256x256x256,
//! 64x784x512), which [`takes`] leaves to `matrixmultiply`.
//!
//! Every output element is one fused multiply-add per term, in the order of `k`, from
//! zero (or from the old value when accumulating): the same in every tile and in the
//! scalar columns after the last whole tile, so the result does not depend on where an
//! element falls.

use crate::matmul::{GemmCall, MatRef};
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Rows of `a` per tile: 6 rows of two 8-lane accumulators, two `b` vectors and a
/// broadcast fill 15 of AVX2's 16 registers.
const MR: usize = 6;

/// Longest `k` taken: a `k x 16` panel of `b` (32 KiB) then stays in a 32 KiB L1 cache
/// while every tile of rows passes over it.
const MAX_K: usize = 512;

/// Most multiply-adds taken: 256x256x256 (16M) already ran 4% slower than
/// `matrixmultiply`, whose packed panels reuse the caches better.
const MAX_MACS: usize = 1 << 23;

/// Whether an `m x k` by `k x n` product runs here: the CPU has AVX2 and FMA, the
/// product is small (see [`MAX_K`], [`MAX_MACS`]), and `b`'s rows are contiguous, or its
/// columns are and `turnable` (then the caller transposes it first).
pub(crate) fn takes([m, k, n]: [usize; 3], b: MatRef<f32>, turnable: impl FnOnce() -> bool) -> bool {
    crate::simd::has_avx2_fma() && k <= MAX_K && m * k * n <= MAX_MACS && (b.cs == 1 || (b.rs == 1 && turnable()))
}

/// `c (+)= a @ b` for an `m x k` by `k x n` product into a row-major `c` with row
/// stride `ldc`: set when `accumulate` is false (`c` is not read then), added to when
/// true.
///
/// # Safety
/// The CPU must have AVX2 and FMA, and `b.cs` must be 1. `a` and `b` must be valid for
/// reads over `m x k` and `k x n` with their strides; `c` must be valid for writes (and
/// reads, when accumulating) over `m x n` with row stride `ldc`, and nothing else may
/// access it meanwhile.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn gemm(GemmCall { m, k, n, a, b, c, ldc, accumulate }: GemmCall<f32>) {
    debug_assert_eq!(b.cs, 1, "small_gemm: b's rows must be contiguous");
    let out = Out { c, ldc, accumulate };
    let wide = n - n % 8;
    for j in (0..wide).step_by(16) {
        // SAFETY (both): columns `j..j + 16` (or `j..j + 8` for the last odd eight) lie
        // inside `b` and `c`, as the caller promises.
        if j + 16 <= wide {
            unsafe { column_block::<2>(m, k, a, b.offset(0, j), out.at(0, j)) };
        } else {
            unsafe { column_block::<1>(m, k, a, b.offset(0, j), out.at(0, j)) };
        }
    }
    for j in wide..n {
        for i in 0..m {
            // SAFETY: row i of `a`, column j of `b` and element (i, j) of `c` are inside
            // the matrices, as the caller promises.
            unsafe {
                let (a, b, c) = (a.offset(i, 0), b.offset(0, j), out.at(i, j).c);
                let mut sum = if accumulate { *c } else { 0.0 };
                for p in 0..k {
                    sum = (*a.ptr.offset(p as isize * a.cs)).mul_add(*b.ptr.offset(p as isize * b.rs), sum);
                }
                *c = sum;
            }
        }
    }
}

/// Where a product's results go: `c[i * ldc + j]`, set or added to.
#[derive(Clone, Copy)]
struct Out {
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
}

impl Out {
    /// The output from element `(i, j)` on.
    ///
    /// # Safety
    /// `(i, j)` must lie inside the output.
    unsafe fn at(self, i: usize, j: usize) -> Out {
        // SAFETY: as the caller promises.
        Out { c: unsafe { self.c.add(i * self.ldc + j) }, ..self }
    }
}

/// All `m` rows of `8 * V` columns: tiles of [`MR`] rows, then one of the rows left.
///
/// # Safety
/// As [`gemm`], for the `8 * V` columns that `b` and `out` start at.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn column_block<const V: usize>(m: usize, k: usize, a: MatRef<f32>, b: MatRef<f32>, out: Out) {
    let full = m - m % MR;
    // SAFETY (all): each tile's rows lie inside `a` and `out`, as the caller promises.
    unsafe {
        for i in (0..full).step_by(MR) {
            tile::<MR, V>(k, a.offset(i, 0), b, out.at(i, 0));
        }
        if m == full {
            return;
        }
        let (a, out) = (a.offset(full, 0), out.at(full, 0));
        match m - full {
            1 => tile::<1, V>(k, a, b, out),
            2 => tile::<2, V>(k, a, b, out),
            3 => tile::<3, V>(k, a, b, out),
            4 => tile::<4, V>(k, a, b, out),
            _ => tile::<5, V>(k, a, b, out),
        }
    }
}

/// One tile of `R` rows by `8 * V` columns, its sums held in registers over all of `k`.
/// Plain loops, no closures: a closure may be compiled out of line, without AVX2.
///
/// # Safety
/// As [`gemm`], for the tile's rows of `a` and columns of `b`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tile<const R: usize, const V: usize>(k: usize, a: MatRef<f32>, b: MatRef<f32>, out: Out) {
    // SAFETY (all loads and stores): inside the tile, as the caller promises.
    unsafe {
        let mut sums = [[_mm256_setzero_ps(); V]; R];
        if out.accumulate {
            for (i, sums) in sums.iter_mut().enumerate() {
                for (v, sum) in sums.iter_mut().enumerate() {
                    *sum = _mm256_loadu_ps(out.c.add(i * out.ldc + 8 * v));
                }
            }
        }
        let mut a_rows = [a.ptr; R];
        for (i, a_row) in a_rows.iter_mut().enumerate() {
            *a_row = a.ptr.offset(i as isize * a.rs);
        }
        let mut b_row = b.ptr;
        for _ in 0..k {
            let mut bs = [_mm256_setzero_ps(); V];
            for (v, b) in bs.iter_mut().enumerate() {
                *b = _mm256_loadu_ps(b_row.add(8 * v));
            }
            for (sums, a_row) in sums.iter_mut().zip(&mut a_rows) {
                let x = _mm256_broadcast_ss(&**a_row);
                for (sum, &b) in sums.iter_mut().zip(&bs) {
                    *sum = _mm256_fmadd_ps(x, b, *sum);
                }
                // (Wrapping: after the last step these point past the operands, unread.)
                *a_row = a_row.wrapping_offset(a.cs);
            }
            b_row = b_row.wrapping_offset(b.rs);
        }
        for (i, sums) in sums.iter().enumerate() {
            for (v, &sum) in sums.iter().enumerate() {
                _mm256_storeu_ps(out.c.add(i * out.ldc + 8 * v), sum);
            }
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `rows x cols` values spread over `[-1.5, 1.5)`, stored with row stride
    /// `cols + pad`, or column-major with column stride `rows + pad`.
    fn stored(rows: usize, cols: usize, pad: usize, column_major: bool, seed: usize) -> (Vec<f32>, MatRef<f32>) {
        let (rs, cs) = if column_major { (1, rows + pad) } else { (cols + pad, 1) };
        let len = if rows * cols == 0 { 0 } else { (rows - 1) * rs + (cols - 1) * cs + 1 };
        let data: Vec<f32> = (0..len).map(|p| ((p * 7919 + seed * 104_729) % 211) as f32 / 70.0 - 1.5).collect();
        let view = MatRef { ptr: data.as_ptr(), rs: rs as isize, cs: cs as isize };
        (data, view)
    }

    /// Checks one product against sums of fused multiply-adds in the order of `k`, bit
    /// for bit, in every element (tiles, row tails and scalar columns alike).
    fn check(m: usize, k: usize, n: usize, a_columns: bool, pads: [usize; 3], accumulate: bool) {
        if !crate::simd::has_avx2_fma() {
            return;
        }
        let (_a, a) = stored(m, k, pads[0], a_columns, 1);
        let (_b, b) = stored(k, n, pads[1], false, 2);
        let ldc = n + pads[2];
        let before: Vec<f32> = (0..m * ldc).map(|p| (p % 13) as f32 - 6.0).collect();
        let mut c = before.clone();
        // SAFETY: the CPU has AVX2 and FMA; `a`, `b` and `c` hold the matrices.
        unsafe { gemm(GemmCall { m, k, n, a, b, c: c.as_mut_ptr(), ldc, accumulate }) };
        for i in 0..m {
            for j in 0..ldc {
                let at = i * ldc + j;
                let expected = if j >= n {
                    before[at] // the padding between rows of `c` is left alone
                } else {
                    // SAFETY: (i, p) and (p, j) are inside `a` and `b`.
                    let term = |p: usize| unsafe { (*a.offset(i, p).ptr, *b.offset(p, j).ptr) };
                    let start = if accumulate { before[at] } else { 0.0 };
                    (0..k).map(term).fold(start, |sum, (x, y)| x.mul_add(y, sum))
                };
                assert_eq!(c[at].to_bits(), expected.to_bits(), "{m}x{k}x{n} at ({i}, {j}): {} vs {expected}", c[at]);
            }
        }
    }

    #[test]
    fn every_element_is_its_fused_sum_in_order() {
        for (m, k, n) in [(6, 32, 16), (64, 32, 288), (13, 7, 41), (5, 1, 8), (1, 300, 3), (7, 0, 24), (12, 9, 17)] {
            for a_columns in [false, true] {
                for accumulate in [false, true] {
                    check(m, k, n, a_columns, [0, 0, 0], accumulate);
                    check(m, k, n, a_columns, [3, 5, 2], accumulate);
                }
            }
        }
    }

    proptest! {
        #[test]
        fn random_shapes_and_strides(
            m in 1usize..20, k in 0usize..40, n in 1usize..50,
            a_columns: bool, pads in proptest::array::uniform3(0usize..4), accumulate: bool,
        ) {
            check(m, k, n, a_columns, pads, accumulate);
        }
    }

    #[test]
    fn large_products_and_unreadable_b_are_left_to_matrixmultiply() {
        let row_major = MatRef { ptr: std::ptr::null::<f32>(), rs: 64, cs: 1 };
        let column_major = MatRef { rs: 1, cs: 64, ..row_major };
        let scattered = MatRef { rs: 64, cs: 2, ..row_major };
        let avx = crate::simd::has_avx2_fma();
        assert_eq!(takes([64, 32, 288], row_major, || false), avx);
        assert_eq!(takes([64, 288, 32], column_major, || true), avx);
        assert!(!takes([64, 288, 32], column_major, || false));
        assert!(!takes([64, 288, 32], scattered, || true));
        assert!(!takes([16, MAX_K + 1, 16], row_major, || true));
        assert!(!takes([256, 256, 256], row_major, || true));
    }
}
