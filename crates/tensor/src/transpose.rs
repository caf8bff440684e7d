//! Out-of-place f32 matrix transposes, eight by eight with AVX where the CPU has it.
//!
//! `matrixmultiply` packs an operand with block copies only when it runs the packing's
//! way in memory (`a` column-major, `b` row-major); any other layout it copies one
//! element at a time. A Winograd weight gradient has both operands the other way, and
//! took 1.8 times as long as the input gradient's product of the same size.
//! [`Gemm`](crate::matmul::Gemm) turns such an operand around with [`transpose`] first;
//! packing only copies, so the product's bits do not change. The in-cache kernel of
//! [`small_gemm`](crate::small_gemm) reads `b` by rows, so a `b` with contiguous
//! columns is turned around for it too.

use crate::matmul::MatRef;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;
use std::cell::RefCell;

/// Operands below this many elements are packed as they are: turning them around
/// would cost about as much as the packing it saves.
const MIN_ELEMENTS: usize = 64;

/// Operands above this many elements (4 MiB of f32) are packed as they are too: their
/// products grow faster than they do, so packing is a smaller share of the time, and
/// the per-thread scratch buffers, which are kept, should stay small.
const MAX_ELEMENTS: usize = 1 << 20;

thread_local! {
    /// Each thread's buffers for turned-around operands `a` and `b`, kept between
    /// products: a Winograd layer turns 36 of them around per pass.
    static SCRATCH: RefCell<[Vec<f32>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

/// Which operands of an `m x k` by `k x n` product to turn around before
/// `matrixmultiply` packs them: an `a` with contiguous rows, a `b` with contiguous
/// columns (each when its size is between [`MIN_ELEMENTS`] and [`MAX_ELEMENTS`]).
pub(crate) fn turns_for_packing([m, k, n]: [usize; 3], a: MatRef<f32>, b: MatRef<f32>) -> [bool; 2] {
    let worth_turning = |elements: usize| (MIN_ELEMENTS..=MAX_ELEMENTS).contains(&elements);
    [a.cs == 1 && a.rs > 1 && worth_turning(m * k), b.rs == 1 && b.cs > 1 && worth_turning(k * n)]
}

/// Whether an operand of `elements` may be turned around into the kept scratch.
pub(crate) fn fits_scratch(elements: usize) -> bool {
    elements <= MAX_ELEMENTS
}

/// Calls `f(a, b)` with the operands of an `m x k` by `k x n` product, `a` turned into
/// a column-major copy when `turn_a` and `b` into a row-major one when `turn_b`, in
/// per-thread scratch.
///
/// # Safety
/// `a` and `b` must be valid for reads over `m x k` and `k x n` with their strides.
///
/// # Panics
/// If an operand to turn does not have contiguous rows (`a`) or columns (`b`).
pub(crate) unsafe fn with_turned_operands<R>(
    [m, k, n]: [usize; 3],
    a: MatRef<f32>,
    b: MatRef<f32>,
    [turn_a, turn_b]: [bool; 2],
    f: impl FnOnce(MatRef<f32>, MatRef<f32>) -> R,
) -> R {
    if !turn_a && !turn_b {
        return f(a, b);
    }
    assert!(!turn_a || a.cs == 1, "with_turned_operands: a's rows are not contiguous");
    assert!(!turn_b || b.rs == 1, "with_turned_operands: b's columns are not contiguous");
    SCRATCH.with_borrow_mut(|[sa, sb]| {
        let a = if turn_a {
            // SAFETY: `a` has `m` contiguous rows of `k`, `a.rs` apart (asserted above).
            unsafe { transpose(a.ptr, m, k, a.rs as usize, grown(sa, m * k)) };
            MatRef { ptr: sa.as_ptr(), rs: 1, cs: m as isize }
        } else {
            a
        };
        let b = if turn_b {
            // SAFETY: `b`'s `n` columns are contiguous rows of `k`, `b.cs` apart.
            unsafe { transpose(b.ptr, n, k, b.cs as usize, grown(sb, k * n)) };
            MatRef { ptr: sb.as_ptr(), rs: n as isize, cs: 1 }
        } else {
            b
        };
        f(a, b)
    })
}

/// The first `len` elements of `buf`, grown to hold them if needed.
fn grown(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    &mut buf[..len]
}

/// Writes the transpose of the `rows x cols` matrix at `src`, whose rows are contiguous
/// and `stride` apart, into `dst` as a row-major `cols x rows` matrix.
///
/// # Safety
/// `src` must be valid for reads of `rows` rows of `cols` elements, `stride` apart.
///
/// # Panics
/// If `dst` is shorter than `rows * cols`.
pub(crate) unsafe fn transpose(src: *const f32, rows: usize, cols: usize, stride: usize, dst: &mut [f32]) {
    assert!(dst.len() >= rows * cols, "transpose: {rows}x{cols} into {} elements", dst.len());
    // SAFETY: as the caller promises, and `dst` is long enough (asserted above).
    let [full_rows, full_cols] = unsafe { whole_blocks(src, rows, cols, stride, dst) };
    // The rest, element by element: the last `cols % 8` columns of every row, and the
    // first columns of the last `rows % 8` rows.
    // SAFETY: as the caller promises.
    unsafe {
        elementwise(src, 0..rows, full_cols..cols, stride, dst, rows);
        elementwise(src, full_rows..rows, 0..full_cols, stride, dst, rows);
    }
}

/// Transposes the whole 8x8 blocks, when the CPU has AVX, and returns the rows and
/// columns they covered (none without AVX).
///
/// # Safety
/// As [`transpose`], with `dst` long enough.
unsafe fn whole_blocks(src: *const f32, rows: usize, cols: usize, stride: usize, dst: &mut [f32]) -> [usize; 2] {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx2_fma() {
        let full = [rows - rows % 8, cols - cols % 8];
        // SAFETY: the CPU has AVX (detected above); the blocks lie inside `src` and
        // their transposes inside `dst` (the caller's contract).
        unsafe { blocks_8x8(src, full, stride, dst.as_mut_ptr(), rows) };
        return full;
    }
    let _ = (src, stride, dst);
    [0, 0]
}

/// `dst[j * rows + i] = src[i * stride + j]` over the given rows and columns.
///
/// # Safety
/// As [`transpose`], for those rows and columns.
unsafe fn elementwise(
    src: *const f32,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    stride: usize,
    dst: &mut [f32],
    ld: usize,
) {
    for i in rows {
        for j in cols.clone() {
            // SAFETY: (i, j) is inside the source matrix (the caller's contract).
            dst[j * ld + i] = unsafe { *src.add(i * stride + j) };
        }
    }
}

/// Transposes the 8x8 blocks of the first `rows x cols` (multiples of 8) of the matrix
/// at `src` into `dst`, whose rows are `ld` apart.
///
/// # Safety
/// The CPU must have AVX; `src` must be readable and `dst` writable over those blocks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn blocks_8x8(src: *const f32, [rows, cols]: [usize; 2], stride: usize, dst: *mut f32, ld: usize) {
    for i in (0..rows).step_by(8) {
        for j in (0..cols).step_by(8) {
            // SAFETY: block (i, j) and its transpose are inside, as the caller promises.
            unsafe { block_8x8(src.add(i * stride + j), stride, dst.add(j * ld + i), ld) };
        }
    }
}

/// Transposes one 8x8 block: 8 loads, 24 shuffles and 8 stores. Inlined into
/// [`blocks_8x8`], which compiles it with AVX, rather than called once per block.
///
/// # Safety
/// The CPU must have AVX; the 8 rows of 8 at `src` (`stride` apart) must be readable,
/// and the 8 rows of 8 at `dst` (`ld` apart) writable.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn block_8x8(src: *const f32, stride: usize, dst: *mut f32, ld: usize) {
    // SAFETY (the loads and stores): inside the blocks, as the caller promises.
    let r: [__m256; 8] = std::array::from_fn(|i| unsafe { _mm256_loadu_ps(src.add(i * stride)) });
    // Pairs of rows interleaved, then pairs of pairs: each 128-bit half of `q[c]` holds
    // column `c` (and `c + 4`) of four rows.
    let p = [
        _mm256_unpacklo_ps(r[0], r[1]),
        _mm256_unpackhi_ps(r[0], r[1]),
        _mm256_unpacklo_ps(r[2], r[3]),
        _mm256_unpackhi_ps(r[2], r[3]),
        _mm256_unpacklo_ps(r[4], r[5]),
        _mm256_unpackhi_ps(r[4], r[5]),
        _mm256_unpacklo_ps(r[6], r[7]),
        _mm256_unpackhi_ps(r[6], r[7]),
    ];
    let q = [
        _mm256_shuffle_ps::<0x44>(p[0], p[2]),
        _mm256_shuffle_ps::<0xEE>(p[0], p[2]),
        _mm256_shuffle_ps::<0x44>(p[1], p[3]),
        _mm256_shuffle_ps::<0xEE>(p[1], p[3]),
        _mm256_shuffle_ps::<0x44>(p[4], p[6]),
        _mm256_shuffle_ps::<0xEE>(p[4], p[6]),
        _mm256_shuffle_ps::<0x44>(p[5], p[7]),
        _mm256_shuffle_ps::<0xEE>(p[5], p[7]),
    ];
    for c in 0..4 {
        // SAFETY: rows c and c + 4 of the destination block, as the caller promises.
        unsafe {
            _mm256_storeu_ps(dst.add(c * ld), _mm256_permute2f128_ps::<0x20>(q[c], q[c + 4]));
            _mm256_storeu_ps(dst.add((c + 4) * ld), _mm256_permute2f128_ps::<0x31>(q[c], q[c + 4]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_element_lands_at_its_transposed_place() {
        // Whole blocks, ragged edges on either side, and rows longer than the matrix.
        for (rows, cols, stride) in
            [(8, 8, 8), (16, 24, 24), (17, 9, 9), (5, 3, 7), (8, 13, 20), (31, 40, 45), (1, 1, 1)]
        {
            let src: Vec<f32> = (0..rows * stride).map(|v| v as f32).collect();
            let mut dst = vec![f32::NAN; rows * cols];
            // SAFETY: `src` holds `rows` rows of `stride >= cols`.
            unsafe { transpose(src.as_ptr(), rows, cols, stride, &mut dst) };
            for i in 0..rows {
                for j in 0..cols {
                    assert_eq!(dst[j * rows + i], src[i * stride + j], "{rows}x{cols} stride {stride} at ({i}, {j})");
                }
            }
        }
    }

    /// `rows x cols` values, stored row-major, or column-major when `column_major`.
    fn stored(values: &[f32], rows: usize, cols: usize, column_major: bool) -> (Vec<f32>, MatRef<f32>) {
        let data: Vec<f32> = if column_major {
            (0..rows * cols).map(|p| values[(p % rows) * cols + p / rows]).collect()
        } else {
            values.to_vec()
        };
        let (rs, cs) = if column_major { (1, rows as isize) } else { (cols as isize, 1) };
        let view = MatRef { ptr: data.as_ptr(), rs, cs };
        (data, view)
    }

    #[test]
    fn turned_operands_give_the_bits_of_packable_ones() {
        use crate::matmul::{Gemm, GemmCall};
        // Outputs of 16 and more each way: thinner ones take `gemv`'s dot products. A `k`
        // over 512 goes to `matrixmultiply` (both operands turned), the rest to
        // `small_gemm` (`b` turned).
        for [m, k, n] in [[64, 288, 32], [17, 29, 19], [24, 8, 40], [33, 3, 16], [24, 530, 20], [16, 600, 33]] {
            let a: Vec<f32> = (0..m * k).map(|p| ((p * 7919) % 113) as f32 / 37.0 - 1.5).collect();
            let b: Vec<f32> = (0..k * n).map(|p| ((p * 104_729) % 97) as f32 / 29.0 - 1.6).collect();
            let product = |a_columns: bool, b_columns: bool| {
                let ((_a, a), (_b, b)) = (stored(&a, m, k, a_columns), stored(&b, k, n, b_columns));
                let mut c = vec![0.0f32; m * n];
                // SAFETY: `a`, `b` and `c` hold the `m x k`, `k x n` and `m x n` matrices.
                unsafe { f32::gemm(GemmCall { m, k, n, a, b, c: c.as_mut_ptr(), ldc: n, accumulate: false }) };
                c
            };
            let packable = product(true, false);
            for p in 0..m * n {
                let exact: f64 = (0..k).map(|q| a[p / n * k + q] as f64 * b[q * n + p % n] as f64).sum();
                assert!((packable[p] as f64 - exact).abs() < 1e-4 * (1.0 + exact.abs()), "{m}x{k}x{n} at {p}");
            }
            for layouts in [(false, true), (false, false), (true, true)] {
                let turned = product(layouts.0, layouts.1);
                assert!(
                    turned.iter().zip(&packable).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "{m}x{k}x{n} {layouts:?}"
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "transpose: 3x4 into 11 elements")]
    fn a_short_destination_is_refused() {
        let src = [0.0f32; 12];
        // SAFETY: `src` holds 3 rows of 4.
        unsafe { transpose(src.as_ptr(), 3, 4, 4, &mut [0.0; 11]) };
    }
}
