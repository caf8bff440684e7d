//! Products that `matrixmultiply` would mostly spend packing, read straight from the
//! operands' memory instead:
//! - one operand a vector (`m == 1` or `n == 1`): a dot product per output or a scaled
//!   row added per input. A Linear layer at batch 1 would otherwise pack its 784x256
//!   weight to multiply it by one image.
//! - an outer product (`k == 1`): each output row is a multiple of `b`'s row. The
//!   weight gradient of a Linear layer at batch 1 is one.
//! - a thin output (fewer than [`THIN`] rows or columns) whose operands both run along
//!   `k` in memory: dot products, a few rows by a few columns at a time. A 3x3
//!   convolution of one channel has a weight gradient of 9 columns, where the
//!   micro-kernel's 16-wide tiles would be half padding.

use crate::dtype::FloatElement;
use crate::matmul::{GemmCall, MatRef};
use crate::simd::with_simd;

/// `c (+)= a @ b` for an `m x k` by `k x n` product into a row-major `c` with row
/// stride `ldc`, by [`vector_product`], [`outer_product`] or [`thin_product`] when one
/// applies to the `whole` product this one is a block of (see
/// [`Gemm::gemm_block`](crate::matmul::Gemm::gemm_block)); returns false (having done
/// nothing) when the product is for the packing GEMM.
///
/// # Safety
/// As [`Gemm::gemm`](crate::matmul::Gemm::gemm).
pub(crate) unsafe fn direct_product<T: FloatElement>(
    whole: [usize; 3],
    GemmCall { m, k, n, a, b, c, ldc, accumulate }: GemmCall<T>,
) -> bool {
    let product = Product { whole, m, k, n, a, b, out: Output { c, ldc, accumulate } };
    vector_product(product) || outer_product(product) || thin_product(product)
}

/// One product for a direct kernel: `out (+)= a @ b`, `a` being `m x k` and `b` `k x n`,
/// a block of the `whole` product, whose shape decides the kernel.
#[derive(Clone, Copy)]
struct Product<T> {
    whole: [usize; 3],
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<T>,
    b: MatRef<T>,
    out: Output<T>,
}

/// Where a direct product's results go: `c[i * ldc + j]`, set or added to.
#[derive(Clone, Copy)]
struct Output<T> {
    c: *mut T,
    ldc: usize,
    accumulate: bool,
}

impl<T: FloatElement> Output<T> {
    /// Stores (or adds) the result for output `(i, j)`.
    ///
    /// # Safety
    /// `(i, j)` must be inside the caller's output.
    #[inline(always)]
    unsafe fn put(self, i: usize, j: usize, v: T) {
        let dst = self.c.add(i * self.ldc + j);
        *dst = if self.accumulate { *dst + v } else { v };
    }

    /// The first `n` outputs of row `i`.
    ///
    /// # Safety
    /// Row `i` must be inside the caller's output, with at least `n` columns, and no
    /// other reference to them may be alive.
    #[inline(always)]
    unsafe fn row<'a>(self, i: usize, n: usize) -> &'a mut [T] {
        std::slice::from_raw_parts_mut(self.c.add(i * self.ldc), n)
    }
}

/// The `len` elements `stride` apart from `ptr`, borrowed when adjacent, else copied.
///
/// # Safety
/// They must all be readable and outlive the result.
unsafe fn gather<'a, T: Copy>(ptr: *const T, stride: isize, len: usize) -> std::borrow::Cow<'a, [T]> {
    if stride == 1 {
        std::borrow::Cow::Borrowed(std::slice::from_raw_parts(ptr, len))
    } else {
        std::borrow::Cow::Owned((0..len).map(|p| *ptr.offset(p as isize * stride)).collect())
    }
}

/// `m == 1` or `n == 1`, when a layout without packing exists; false otherwise.
///
/// # Safety
/// As [`direct_product`].
unsafe fn vector_product<T: FloatElement>(Product { whole, m, k, n, a, b, out }: Product<T>) -> bool {
    // `m == 1` is `n == 1` transposed: c^T = b^T @ a^T, with output `i` at (0, i).
    // (A whole product with one row is split by columns, one with one column by rows,
    // so the block has that one row or column too.)
    let (rows, vector, matrix, transposed) = match (whole[0], whole[2]) {
        (1, _) => (n, a, MatRef { ptr: b.ptr, rs: b.cs, cs: b.rs }, true),
        (_, 1) => (m, MatRef { ptr: b.ptr, rs: b.cs, cs: b.rs }, a, false),
        _ => return false,
    };
    // Now output `i` (+)= sum_p matrix[i, p] * vector[0, p] for `i < rows`.
    if matrix.cs != 1 && matrix.rs != 1 || k == 0 {
        return false;
    }
    // SAFETY: the vector operand has `k` elements `vector.cs` apart (the caller's contract).
    let x = &*gather(vector.ptr, vector.cs, k);
    let mut sums = vec![T::zero(); rows];
    with_simd(
        #[inline(always)]
        || {
            if matrix.cs == 1 {
                for (i, o) in sums.iter_mut().enumerate() {
                    // SAFETY: row `i` of the matrix has `k` adjacent elements.
                    *o = lane_dot(std::slice::from_raw_parts(matrix.ptr.offset(i as isize * matrix.rs), k), x);
                }
            } else {
                for (p, &xp) in x.iter().enumerate() {
                    // SAFETY: column `p` of the matrix has `rows` adjacent elements.
                    let column = std::slice::from_raw_parts(matrix.ptr.offset(p as isize * matrix.cs), rows);
                    for (o, &v) in sums.iter_mut().zip(column) {
                        *o += v * xp;
                    }
                }
            }
        },
    );
    for (i, v) in sums.into_iter().enumerate() {
        // SAFETY: output `i` is inside `c` (the caller's contract).
        if transposed {
            out.put(0, i, v);
        } else {
            out.put(i, 0, v);
        }
    }
    true
}

/// `k == 1`: output row `i` (+)= `a[i, 0] * b[0, ..]`, written straight into `c`;
/// false otherwise.
///
/// # Safety
/// As [`direct_product`].
unsafe fn outer_product<T: FloatElement>(Product { m, k, n, a, b, out, .. }: Product<T>) -> bool {
    if k != 1 {
        return false;
    }
    // SAFETY: `b`'s one row has `n` elements `b.cs` apart (the caller's contract).
    let y = gather(b.ptr, b.cs, n);
    with_simd(
        #[inline(always)]
        || {
            for i in 0..m {
                // SAFETY: `a`'s one column has `m` elements `a.rs` apart, and output row
                // `i < m` has `n` columns (the caller's contract); only `row` refers to them.
                let (x, row) = (*a.ptr.offset(i as isize * a.rs), out.row(i, n));
                if out.accumulate {
                    row.iter_mut().zip(y.iter()).for_each(|(c, &v)| *c += x * v);
                } else {
                    row.iter_mut().zip(y.iter()).for_each(|(c, &v)| *c = x * v);
                }
            }
        },
    );
    true
}

/// Output rows (or columns) below which [`thin_product`] computes a product: under one
/// micro-kernel tile of `matrixmultiply` (16 wide with AVX-512), where most of a tile
/// would be padding.
const THIN: usize = 16;

/// One dot product per output, when the output has fewer than [`THIN`] rows or
/// columns and both operands run along `k` in memory (`a`'s rows and `b`'s columns are
/// contiguous); false otherwise. The outputs are computed [`BLOCK`] rows by [`BLOCK`]
/// columns at a time, so each loaded chunk of `a` and `b` serves three dot products.
///
/// # Safety
/// As [`direct_product`].
unsafe fn thin_product<T: FloatElement>(Product { whole, m, k, n, a, b, out }: Product<T>) -> bool {
    if whole[0].min(whole[2]) >= THIN || a.cs != 1 || b.rs != 1 || k == 0 {
        return false;
    }
    // SAFETY (both): row `i < m` of `a` and column `j < n` of `b` have `k` adjacent
    // elements (the caller's contract, and the strides checked above).
    let row = |i: usize| std::slice::from_raw_parts(a.ptr.offset(i as isize * a.rs), k);
    let col = |j: usize| std::slice::from_raw_parts(b.ptr.offset(j as isize * b.cs), k);
    // SAFETY: every (i, j) below is inside the `m x n` output (the caller's contract).
    let put = |i: usize, j: usize, v: T| out.put(i, j, v);
    with_simd(
        #[inline(always)]
        || {
            let full = |len: usize| len - len % BLOCK;
            for i in (0..full(m)).step_by(BLOCK) {
                let rows = [row(i), row(i + 1), row(i + 2)];
                for j in (0..full(n)).step_by(BLOCK) {
                    let dots = block_dots(rows, [col(j), col(j + 1), col(j + 2)]);
                    dots.iter()
                        .enumerate()
                        .for_each(|(r, d)| d.iter().enumerate().for_each(|(s, &v)| put(i + r, j + s, v)));
                }
                for j in full(n)..n {
                    let dots = block_dots(rows, [col(j)]);
                    dots.iter().enumerate().for_each(|(r, d)| put(i + r, j, d[0]));
                }
            }
            for i in full(m)..m {
                for j in (0..full(n)).step_by(BLOCK) {
                    let [dots] = block_dots([row(i)], [col(j), col(j + 1), col(j + 2)]);
                    dots.iter().enumerate().for_each(|(s, &v)| put(i, j + s, v));
                }
                for j in full(n)..n {
                    put(i, j, block_dots([row(i)], [col(j)])[0][0]);
                }
            }
        },
    );
    true
}

/// Rows (and columns) of one block of [`thin_product`]: 3x3 running sums of 8 lanes
/// and the three rows loaded fit the 16 vector registers of AVX2.
const BLOCK: usize = 3;

/// Lanes of each running sum in [`block_dots`].
const LANES: usize = 8;

/// The dot products of every row in `rows` with every column in `cols` (all of one
/// length): `LANES` running sums each, added pairwise at the end, then the tail.
#[inline(always)]
fn block_dots<T: FloatElement, const R: usize, const C: usize>(rows: [&[T]; R], cols: [&[T]; C]) -> [[T; C]; R] {
    let chunks = rows[0].len() / LANES;
    let mut lanes = [[[T::zero(); LANES]; C]; R];
    let chunk = |v: &[T], p: usize| -> [T; LANES] { v[p * LANES..][..LANES].try_into().expect("a whole chunk") };
    for p in 0..chunks {
        let xs: [[T; LANES]; R] = rows.map(|r| chunk(r, p));
        let ys: [[T; LANES]; C] = cols.map(|c| chunk(c, p));
        for r in 0..R {
            for s in 0..C {
                let acc = &mut lanes[r][s];
                for l in 0..LANES {
                    acc[l] += xs[r][l] * ys[s][l];
                }
            }
        }
    }
    let body = chunks * LANES;
    let mut dots = [[T::zero(); C]; R];
    for (r, row) in rows.iter().enumerate() {
        for (s, col) in cols.iter().enumerate() {
            let l = &lanes[r][s];
            let tail = row[body..].iter().zip(&col[body..]).fold(T::zero(), |t, (&y, &x)| t + y * x);
            dots[r][s] = ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7])) + tail;
        }
    }
    dots
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

    type Kernel = unsafe fn(Product<f64>) -> bool;

    /// Runs `product` on random operands of each `(m, k, n)` shape, laid out as each of
    /// `layouts` says (`true`: row-major, `false`: column-major, as a transposed view
    /// gives it, for `a` then `b`), accumulating onto ones in an output two columns
    /// wider than the product; checks it took the product, matches the definition and
    /// wrote nothing outside.
    fn check_against_the_definition(kernel: Kernel, shapes: &[(usize, usize, usize)], layouts: &[(bool, bool)]) {
        let mut rng = 1u64;
        let mut next = || {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (rng >> 33) as f64 / (1u64 << 31) as f64 - 0.5
        };
        for &(m, k, n) in shapes {
            let a: Vec<f64> = (0..m * k).map(|_| next()).collect();
            let b: Vec<f64> = (0..k * n).map(|_| next()).collect();
            let (at, bt) = (transpose(&a, m, k), transpose(&b, k, n));
            let want = naive(&a, &b, m, k, n);
            for &(a_rows, b_rows) in layouts {
                let a_ref = match a_rows {
                    true => MatRef { ptr: a.as_ptr(), rs: k as isize, cs: 1 },
                    false => MatRef { ptr: at.as_ptr(), rs: 1, cs: m as isize },
                };
                let b_ref = match b_rows {
                    true => MatRef { ptr: b.as_ptr(), rs: n as isize, cs: 1 },
                    false => MatRef { ptr: bt.as_ptr(), rs: 1, cs: k as isize },
                };
                let ldc = n + 2;
                let mut c = vec![1.0; m * ldc];
                // SAFETY: the operands and `c` (`m` rows of `ldc`) cover the extents.
                let out = Output { c: c.as_mut_ptr(), ldc, accumulate: true };
                assert!(unsafe { kernel(Product { whole: [m, k, n], m, k, n, a: a_ref, b: b_ref, out }) });
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

    #[test]
    fn every_vector_layout_matches_the_definition() {
        let shapes = [(1, 37, 5), (6, 37, 1), (1, 1, 3), (1, 16, 1), (4, 33, 1)];
        check_against_the_definition(vector_product, &shapes, &[(true, true), (false, false)]);
    }

    #[test]
    fn outer_products_match_the_definition_in_every_layout() {
        let shapes = [(2, 1, 2), (256, 1, 37), (3, 1, 100)];
        let layouts = [(true, true), (false, false), (true, false), (false, true)];
        check_against_the_definition(outer_product, &shapes, &layouts);
    }

    #[test]
    fn thin_products_match_the_definition_at_every_block_edge() {
        // Full 3x3 blocks, leftover rows and columns, k below one chunk of lanes, and
        // the weight gradient of the MNIST CNN's first convolution (32 x 676 x 9).
        let shapes = [(32, 676, 9), (9, 8, 3), (5, 70, 7), (17, 9, 4), (2, 3, 20), (15, 64, 15), (1, 13, 1)];
        check_against_the_definition(thin_product, &shapes, &[(true, false)]);
    }

    #[test]
    fn wide_outputs_and_other_layouts_are_not_thin_products() {
        let x = [0.0f32; 16 * 16];
        let mut c = [0.0f32; 16 * 16];
        let rows = MatRef { ptr: x.as_ptr(), rs: 16, cs: 1 };
        let cols = MatRef { ptr: x.as_ptr(), rs: 1, cs: 16 };
        for (m, n, a, b) in [(16, 16, rows, cols), (4, 4, rows, rows), (4, 4, cols, cols)] {
            // SAFETY: every operand and the output fit in 16x16 buffers.
            let out = Output { c: c.as_mut_ptr(), ldc: 16, accumulate: false };
            assert!(!unsafe { thin_product(Product { whole: [m, 16, n], m, k: 16, n, a, b, out }) }, "{m}x{n}");
        }
        assert!(c.iter().all(|&v| v == 0.0));
    }

    fn transpose(x: &[f64], rows: usize, cols: usize) -> Vec<f64> {
        (0..rows * cols).map(|i| x[i % rows * cols + i / rows]).collect()
    }

    #[test]
    fn a_matrix_times_a_matrix_is_neither_a_vector_nor_an_outer_product() {
        let x = [0.0f32; 4];
        let r = MatRef { ptr: x.as_ptr(), rs: 2, cs: 1 };
        let mut c = [0.0f32; 4];
        // SAFETY: 2x2 operands and output inside the 4-element buffers.
        let out = Output { c: c.as_mut_ptr(), ldc: 2, accumulate: false };
        let product = Product { whole: [2, 2, 2], m: 2, k: 2, n: 2, a: r, b: r, out };
        assert!(!unsafe { vector_product(product) });
        assert!(!unsafe { outer_product(product) });
        assert_eq!(c, [0.0; 4]);
    }
}
