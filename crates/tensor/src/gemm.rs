//! A GEMM on plain slices, `c = a b + beta c`, for fused kernels outside this crate (the
//! recurrence of an RNN layer runs one small product per time step into a buffer it
//! reuses, where `NdArray::matmul`'s fresh output per call would be an allocation per
//! step).

use crate::dtype::{DType, FloatElement};

/// A read-only matrix view of a slice: `rows x cols`, element `(i, j)` at
/// `data[i * rs + j * cs]`. [`Mat::t`] transposes without copying.
#[derive(Clone, Copy, Debug)]
pub struct Mat<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a, T> Mat<'a, T> {
    /// A strided view; panics if an element would fall outside `data`.
    #[track_caller]
    pub fn new(data: &'a [T], rows: usize, cols: usize, rs: usize, cs: usize) -> Self {
        check_extent("gemm", data.len(), rows, cols, rs, cs);
        Mat { data, rows, cols, rs, cs }
    }

    /// A row-major `rows x cols` view of the first `rows * cols` elements.
    #[track_caller]
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self::new(data, rows, cols, cols, 1)
    }

    /// The transpose, as a view.
    pub fn t(self) -> Self {
        Mat { rows: self.cols, cols: self.rows, rs: self.cs, cs: self.rs, ..self }
    }
}

/// A writable row-major matrix view: `rows x cols` with row stride `rs` (so a column
/// block of a wider matrix is a view too).
#[derive(Debug)]
pub struct MatMut<'a, T> {
    data: &'a mut [T],
    rows: usize,
    cols: usize,
    rs: usize,
}

impl<'a, T> MatMut<'a, T> {
    /// A view with row stride `rs`; panics if an element would fall outside `data`.
    #[track_caller]
    pub fn new(data: &'a mut [T], rows: usize, cols: usize, rs: usize) -> Self {
        check_extent("gemm", data.len(), rows, cols, rs, 1);
        MatMut { data, rows, cols, rs }
    }
}

#[track_caller]
fn check_extent(op: &str, len: usize, rows: usize, cols: usize, rs: usize, cs: usize) {
    if rows > 0 && cols > 0 && (rows - 1) * rs + (cols - 1) * cs >= len {
        panic!("{op}: a {rows}x{cols} matrix with strides ({rs}, {cs}) does not fit in {len} elements");
    }
}

/// `c = a b + beta c` (`beta = 0` ignores what `c` held, NaNs included).
///
/// Runs on the calling thread: it is meant for the many small products of a loop,
/// where handing work to the pool costs more than it saves.
///
/// ```
/// use nabla_tensor::gemm::{gemm, Mat, MatMut};
/// let a = [1.0f32, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]]
/// let mut c = [1.0f32; 4];
/// gemm(Mat::row_major(&a, 2, 2), Mat::row_major(&a, 2, 2).t(), 1.0, MatMut::new(&mut c, 2, 2, 2));
/// assert_eq!(c, [6.0, 12.0, 12.0, 26.0]); // a a^T + 1
/// ```
///
/// # Panics
/// If the shapes do not fit, naming them.
#[track_caller]
pub fn gemm<T: FloatElement>(a: Mat<'_, T>, b: Mat<'_, T>, beta: T, c: MatMut<'_, T>) {
    if a.cols != b.rows || a.rows != c.rows || b.cols != c.cols {
        panic!(
            "gemm: [{}, {}] @ [{}, {}] cannot be written into [{}, {}]",
            a.rows, a.cols, b.rows, b.cols, c.rows, c.cols
        );
    }
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 || n == 0 {
        return;
    }
    crate::matmul::pin_matrixmultiply_to_one_thread();
    let (ap, bp, cp) = (a.data.as_ptr(), b.data.as_ptr(), c.data.as_mut_ptr());
    let (rsa, csa, rsb, csb, rsc) = (a.rs as isize, a.cs as isize, b.rs as isize, b.cs as isize, c.rs as isize);
    // SAFETY: the views' constructors checked that every element they address lies in
    // their slices, and the shape check above makes the product address only those;
    // `c` is borrowed mutably, so it aliases neither operand. `T::DTYPE` names `T`
    // exactly (one `Storage` variant per element type), so the pointer casts only
    // restate the type.
    unsafe {
        match T::DTYPE {
            DType::F32 => matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                ap.cast(),
                rsa,
                csa,
                bp.cast(),
                rsb,
                csb,
                beta.to_f64() as f32,
                cp.cast(),
                rsc,
                1,
            ),
            DType::F64 => matrixmultiply::dgemm(
                m,
                k,
                n,
                1.0,
                ap.cast(),
                rsa,
                csa,
                bp.cast(),
                rsb,
                csb,
                beta.to_f64(),
                cp.cast(),
                rsc,
                1,
            ),
            DType::I64 => unreachable!("FloatElement is implemented for f32 and f64 only"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_operands_and_output_block() {
        // a: 2x3 row-major; b = a^T; c: left 2x2 block of a 2x3 buffer.
        let a = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut c = [10.0f64, 10.0, 7.0, 10.0, 10.0, 7.0];
        gemm(Mat::row_major(&a, 2, 3), Mat::row_major(&a, 2, 3).t(), 0.5, MatMut::new(&mut c, 2, 2, 3));
        assert_eq!(c, [19.0, 37.0, 7.0, 37.0, 82.0, 7.0]);
    }

    #[test]
    #[should_panic(expected = "gemm: [2, 3] @ [2, 3] cannot be written into [2, 3]")]
    fn shape_mismatch() {
        let a = [0.0f32; 6];
        let mut c = [0.0f32; 6];
        gemm(Mat::row_major(&a, 2, 3), Mat::row_major(&a, 2, 3), 0.0, MatMut::new(&mut c, 2, 3, 3));
    }

    #[test]
    #[should_panic(expected = "does not fit in 5 elements")]
    fn view_out_of_bounds() {
        Mat::row_major(&[0.0f32; 5], 2, 3);
    }
}
