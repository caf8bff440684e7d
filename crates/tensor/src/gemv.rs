//! Products where one operand is a vector (`m == 1` or `n == 1`): a dot product per
//! output or a scaled row added per input, read straight from the operands' memory.
//! `matrixmultiply` would first pack the whole matrix into its blocked layout, which is
//! most of the cost when the matrix is used for one row only (a Linear layer at batch
//! 1 packs its 784x256 weight to multiply it by one image).

use crate::dtype::FloatElement;
use crate::matmul::MatRef;
use crate::simd::with_simd;

/// `c (+)= a @ b` for an `m x k` by `k x n` product with `m == 1` or `n == 1`, when a
/// layout without packing exists; returns false (having done nothing) otherwise.
///
/// # Safety
/// As [`Gemm::gemm`](crate::matmul::Gemm::gemm).
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn vector_product<T: FloatElement>(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<T>,
    b: MatRef<T>,
    c: *mut T,
    ldc: usize,
    accumulate: bool,
) -> bool {
    // `m == 1` is `n == 1` transposed: c^T = b^T @ a^T, with c^T's rows one apart.
    let (rows, vector, matrix, c_stride) = match (m, n) {
        (1, _) => (n, a, MatRef { ptr: b.ptr, rs: b.cs, cs: b.rs }, 1),
        (_, 1) => (m, MatRef { ptr: b.ptr, rs: b.cs, cs: b.rs }, a, ldc),
        _ => return false,
    };
    // Now `c[i * c_stride] (+)= sum_p matrix[i, p] * vector[0, p]` for `i < rows`.
    if matrix.cs != 1 && matrix.rs != 1 || k == 0 {
        return false;
    }
    // SAFETY: the vector operand has `k` elements `vector.cs` apart (the caller's
    // contract), copied out when they are not adjacent.
    let gathered: Vec<T>;
    let x: &[T] = if vector.cs == 1 {
        std::slice::from_raw_parts(vector.ptr, k)
    } else {
        gathered = (0..k).map(|p| *vector.ptr.offset(p as isize * vector.cs)).collect();
        &gathered
    };
    let mut out = vec![T::zero(); rows];
    with_simd(|| {
        if matrix.cs == 1 {
            for (i, o) in out.iter_mut().enumerate() {
                // SAFETY: row `i` of the matrix has `k` adjacent elements.
                *o = lane_dot(std::slice::from_raw_parts(matrix.ptr.offset(i as isize * matrix.rs), k), x);
            }
        } else {
            for (p, &xp) in x.iter().enumerate() {
                // SAFETY: column `p` of the matrix has `rows` adjacent elements.
                let column = std::slice::from_raw_parts(matrix.ptr.offset(p as isize * matrix.cs), rows);
                for (o, &v) in out.iter_mut().zip(column) {
                    *o += v * xp;
                }
            }
        }
    });
    for (i, v) in out.into_iter().enumerate() {
        // SAFETY: output `i` is inside `c` (the caller's contract).
        let dst = c.add(i * c_stride);
        *dst = if accumulate { *dst + v } else { v };
    }
    true
}

/// `sum(x[i] * y[i])` with sixteen independent accumulators, so the compiler vectorises
/// it (one running sum is a serial dependency chain).
#[inline(always)]
fn lane_dot<T: FloatElement>(x: &[T], y: &[T]) -> T {
    const LANES: usize = 16;
    let mut lanes = [T::zero(); LANES];
    let (xs, ys) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
    let mut tail = T::zero();
    for (&a, &b) in xs.remainder().iter().zip(ys.remainder()) {
        tail += a * b;
    }
    for (xc, yc) in xs.zip(ys) {
        for l in 0..LANES {
            lanes[l] += xc[l] * yc[l];
        }
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for l in 0..width {
            lanes[l] += lanes[l + width];
        }
    }
    lanes[0] + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `a @ b` by the definition, for row-major `a` (`m x k`) and `b` (`k x n`).
    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        (0..m * n).map(|ij| (0..k).map(|p| a[ij / n * k + p] * b[p * n + ij % n]).sum()).collect()
    }

    #[test]
    fn every_vector_layout_matches_the_definition() {
        let mut rng = 1u64;
        let mut next = || {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (rng >> 33) as f64 / (1u64 << 31) as f64 - 0.5
        };
        for (m, k, n) in [(1, 37, 5), (6, 37, 1), (1, 1, 3), (1, 16, 1), (4, 33, 1)] {
            let a: Vec<f64> = (0..m * k).map(|_| next()).collect();
            let b: Vec<f64> = (0..k * n).map(|_| next()).collect();
            let (at, bt) = (transpose(&a, m, k), transpose(&b, k, n));
            let want = naive(&a, &b, m, k, n);
            // Each operand row-major and column-major (as a transposed view gives it).
            for (a_ref, b_ref) in [
                (MatRef { ptr: a.as_ptr(), rs: k as isize, cs: 1 }, MatRef { ptr: b.as_ptr(), rs: n as isize, cs: 1 }),
                (
                    MatRef { ptr: at.as_ptr(), rs: 1, cs: m as isize },
                    MatRef { ptr: bt.as_ptr(), rs: 1, cs: k as isize },
                ),
            ] {
                let ldc = n + 2;
                let mut c = vec![1.0; m * ldc];
                // SAFETY: the operands and `c` (`m` rows of `ldc`) cover the extents.
                assert!(unsafe { vector_product(m, k, n, a_ref, b_ref, c.as_mut_ptr(), ldc, true) });
                for i in 0..m {
                    for j in 0..n {
                        let got = c[i * ldc + j];
                        assert!((got - 1.0 - want[i * n + j]).abs() < 1e-12, "{m}x{k}x{n}: {got}");
                    }
                    assert_eq!(c[i * ldc + n..(i + 1) * ldc], [1.0, 1.0], "{m}x{k}x{n}: wrote outside");
                }
            }
        }
    }

    fn transpose(x: &[f64], rows: usize, cols: usize) -> Vec<f64> {
        (0..rows * cols).map(|i| x[i % rows * cols + i / rows]).collect()
    }

    #[test]
    fn a_matrix_times_a_matrix_is_not_a_vector_product() {
        let x = [0.0f32; 4];
        let r = MatRef { ptr: x.as_ptr(), rs: 2, cs: 1 };
        let mut c = [0.0f32; 4];
        // SAFETY: 2x2 operands and output inside the 4-element buffers.
        assert!(!unsafe { vector_product(2, 2, 2, r, r, c.as_mut_ptr(), 2, false) });
    }
}
