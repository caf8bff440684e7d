//! The F(4x4, 3x3) transforms and their adjoints, written out as 1-D kernels over SIMD
//! lanes. The matrices are the specification (the tests below hold each kernel to its
//! matrix); the kernels share subexpressions and leave out the zero terms, which a
//! loop over the matrix entries did not do: the compiler neither unrolled it nor folded
//! the constants, and the transforms took longer than the products.

use std::ops::{Add, Mul, Neg, Sub};

use crate::dtype::FloatElement;

/// Side of an output tile.
pub(super) const M: usize = 4;
/// Side of an input tile: an output tile widened by the kernel's reach, `M + 3 - 1`.
pub(super) const N: usize = 6;
/// Tiles (or kernels) transformed together, one per SIMD lane.
pub(super) const L: usize = 8;

/// One value per lane: the same element of `L` tiles.
#[derive(Clone, Copy, Debug)]
pub(super) struct Lanes<T>(pub(super) [T; L]);

impl<T: FloatElement> Lanes<T> {
    pub(super) fn zero() -> Self {
        Lanes([T::zero(); L])
    }

    /// The first `lanes` values of `src`, and zeros. A full vector moves as one block;
    /// the rest goes through a separate function, else the compiler merges both into one
    /// `memcpy` call of a variable length, which cost as much as the transforms.
    #[inline(always)]
    pub(super) fn load(src: &[T], lanes: usize) -> Self {
        if lanes == L {
            Lanes(src[..L].try_into().expect("L values"))
        } else {
            Self::load_part(&src[..lanes])
        }
    }

    #[inline(never)]
    fn load_part(src: &[T]) -> Self {
        let mut out = Self::zero();
        out.0[..src.len()].copy_from_slice(src);
        out
    }

    /// Writes the first `lanes` values to `dst` (see [`Lanes::load`]).
    #[inline(always)]
    pub(super) fn store(&self, dst: &mut [T], lanes: usize) {
        if lanes == L {
            let dst: &mut [T; L] = (&mut dst[..L]).try_into().expect("L slots");
            *dst = self.0;
        } else {
            self.store_part(&mut dst[..lanes]);
        }
    }

    #[inline(never)]
    fn store_part(&self, dst: &mut [T]) {
        dst.copy_from_slice(&self.0[..dst.len()]);
    }

    #[inline(always)]
    fn zip(self, other: Self, f: impl Fn(T, T) -> T) -> Self {
        let mut out = self;
        for (o, (&a, &b)) in out.0.iter_mut().zip(self.0.iter().zip(&other.0)) {
            *o = f(a, b);
        }
        out
    }
}

impl<T: FloatElement> Add for Lanes<T> {
    type Output = Self;
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        self.zip(other, |a, b| a + b)
    }
}

impl<T: FloatElement> Sub for Lanes<T> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        self.zip(other, |a, b| a - b)
    }
}

impl<T: FloatElement> Neg for Lanes<T> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        let mut out = self;
        for o in &mut out.0 {
            *o = -*o;
        }
        out
    }
}

/// A constant times every lane.
impl<T: FloatElement> Mul<Lanes<T>> for f64 {
    type Output = Lanes<T>;
    #[inline(always)]
    fn mul(self, v: Lanes<T>) -> Lanes<T> {
        let (c, mut out) = (T::from_f64(self), v);
        for o in &mut out.0 {
            *o = *o * c;
        }
        out
    }
}

/// `Bᵀ d`: input tile to transform domain (rows are the points 0, 1, -1, 2, -2, ∞).
#[cfg(test)]
const BT: [[f64; N]; N] = [
    [4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
    [0.0, -4.0, -4.0, 1.0, 1.0, 0.0],
    [0.0, 4.0, -4.0, -1.0, 1.0, 0.0],
    [0.0, -2.0, -1.0, 2.0, 1.0, 0.0],
    [0.0, 2.0, -1.0, -2.0, 1.0, 0.0],
    [0.0, 4.0, 0.0, -5.0, 0.0, 1.0],
];

/// `G g`: kernel to transform domain.
#[cfg(test)]
const G: [[f64; 3]; N] = [
    [1.0 / 4.0, 0.0, 0.0],
    [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
    [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
    [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
    [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
    [0.0, 0.0, 1.0],
];

/// `Aᵀ m`: transform domain to output tile.
#[cfg(test)]
const AT: [[f64; N]; M] = [
    [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
    [0.0, 1.0, -1.0, 2.0, -2.0, 0.0],
    [0.0, 1.0, 1.0, 4.0, 4.0, 0.0],
    [0.0, 1.0, -1.0, 8.0, -8.0, 1.0],
];

/// A 1-D transform from `C` values to `R`, applied to every lane. A trait rather than a
/// closure so that it is always inlined: a closure the compiler kept out of line took
/// its arrays through `memcpy` and cost more than the products.
pub(super) trait Transform<const C: usize, const R: usize> {
    fn apply<T: FloatElement>(x: [Lanes<T>; C]) -> [Lanes<T>; R];
}

/// Declares a unit type implementing [`Transform`] with the function of the same job.
macro_rules! transform {
    ($name:ident: $c:expr => $r:expr, $f:ident) => {
        pub(super) struct $name;
        impl Transform<{ $c }, { $r }> for $name {
            #[inline(always)]
            fn apply<T: FloatElement>(x: [Lanes<T>; $c]) -> [Lanes<T>; $r] {
                $f(x)
            }
        }
    };
}

transform!(Input: N => N, input);
transform!(InputAdjoint: N => N, input_adjoint);
transform!(Kernel: 3 => N, kernel);
transform!(KernelAdjoint: N => 3, kernel_adjoint);
transform!(Output: N => M, output);
transform!(OutputAdjoint: M => N, output_adjoint);

/// `Bᵀ d` (see the matrix `BT` in the tests).
#[inline(always)]
fn input<T: FloatElement>([d0, d1, d2, d3, d4, d5]: [Lanes<T>; N]) -> [Lanes<T>; N] {
    let (s, t) = (d4 - d2, 2.0 * (d3 - d1));
    [
        4.0 * d0 - 5.0 * d2 + d4,
        (d3 + d4) - 4.0 * (d1 + d2),
        (d4 - d3) + 4.0 * (d1 - d2),
        s + t,
        s - t,
        4.0 * d1 - 5.0 * d3 + d5,
    ]
}

/// `B x`, the adjoint of [`input`].
#[inline(always)]
fn input_adjoint<T: FloatElement>([x0, x1, x2, x3, x4, x5]: [Lanes<T>; N]) -> [Lanes<T>; N] {
    [
        4.0 * x0,
        4.0 * (x2 - x1 + x5) + 2.0 * (x4 - x3),
        -(5.0 * x0) - 4.0 * (x1 + x2) - (x3 + x4),
        (x1 - x2) + 2.0 * (x3 - x4) - 5.0 * x5,
        x0 + (x1 + x2) + (x3 + x4),
        x5,
    ]
}

/// `G g`: a kernel row or column to transform domain.
#[inline(always)]
fn kernel<T: FloatElement>([g0, g1, g2]: [Lanes<T>; 3]) -> [Lanes<T>; N] {
    let (outer, far) = (g0 + g2, (1.0 / 24.0) * (g0 + 4.0 * g2));
    [
        0.25 * g0,
        (-1.0 / 6.0) * (outer + g1),
        (-1.0 / 6.0) * (outer - g1),
        far + (1.0 / 12.0) * g1,
        far - (1.0 / 12.0) * g1,
        g2,
    ]
}

/// `Gᵀ x`, the adjoint of [`kernel`].
#[inline(always)]
fn kernel_adjoint<T: FloatElement>([x0, x1, x2, x3, x4, x5]: [Lanes<T>; N]) -> [Lanes<T>; 3] {
    let (inner, outer) = (x1 + x2, x3 + x4);
    [
        0.25 * x0 - (1.0 / 6.0) * inner + (1.0 / 24.0) * outer,
        (1.0 / 6.0) * (x2 - x1) + (1.0 / 12.0) * (x3 - x4),
        (1.0 / 6.0) * (outer - inner) + x5,
    ]
}

/// `Aᵀ m`: transform domain to an output row or column.
#[inline(always)]
fn output<T: FloatElement>([x0, x1, x2, x3, x4, x5]: [Lanes<T>; N]) -> [Lanes<T>; M] {
    let (even, odd) = ((x1 + x2, x3 + x4), (x1 - x2, x3 - x4));
    [x0 + even.0 + even.1, odd.0 + 2.0 * odd.1, even.0 + 4.0 * even.1, odd.0 + 8.0 * odd.1 + x5]
}

/// `A y`, the adjoint of [`output`].
#[inline(always)]
fn output_adjoint<T: FloatElement>([y0, y1, y2, y3]: [Lanes<T>; M]) -> [Lanes<T>; N] {
    let (near, far) = ((y0 + y2, y1 + y3), (y0 + 4.0 * y2, 2.0 * y1 + 8.0 * y3));
    [y0, near.0 + near.1, near.0 - near.1, far.0 + far.1, far.0 - far.1, y3]
}

/// `F x Fᵀ` for the 1-D transform `F`, in every lane: `F` applied to each column of
/// the square tile `x`, then to each row of the result.
#[inline(always)]
pub(super) fn sandwich<F: Transform<C, R>, T: FloatElement, const C: usize, const R: usize>(
    x: &[[Lanes<T>; C]; C],
    out: &mut [[Lanes<T>; R]; R],
) {
    let mut left = [[Lanes::zero(); C]; R];
    for b in 0..C {
        let mut column = [Lanes::zero(); C];
        for (v, row) in column.iter_mut().zip(x) {
            *v = row[b];
        }
        for (row, v) in left.iter_mut().zip(F::apply(column)) {
            row[b] = v;
        }
    }
    for (row, out) in left.iter().zip(out) {
        *out = F::apply(*row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lanes(seed: usize) -> Lanes<f64> {
        Lanes(std::array::from_fn(|l| ((seed * 31 + l * 7) % 17) as f64 / 3.0 - 2.5))
    }

    /// `mat x`, lane by lane.
    fn by_matrix<const R: usize, const C: usize>(mat: &[[f64; C]; R], x: &[Lanes<f64>; C]) -> [Lanes<f64>; R] {
        std::array::from_fn(|i| Lanes(std::array::from_fn(|l| (0..C).map(|j| mat[i][j] * x[j].0[l]).sum())))
    }

    fn transpose<const R: usize, const C: usize>(m: &[[f64; C]; R]) -> [[f64; R]; C] {
        std::array::from_fn(|j| std::array::from_fn(|i| m[i][j]))
    }

    fn assert_same<const R: usize>(what: &str, got: [Lanes<f64>; R], want: [Lanes<f64>; R]) {
        for (g, w) in got.iter().zip(&want) {
            for (g, w) in g.0.iter().zip(&w.0) {
                assert!((g - w).abs() < 1e-12, "{what}: {g} vs {w}");
            }
        }
    }

    #[test]
    fn each_kernel_multiplies_by_its_matrix() {
        let six: [Lanes<f64>; N] = std::array::from_fn(lanes);
        assert_same("input", input(six), by_matrix(&BT, &six));
        assert_same("input_adjoint", input_adjoint(six), by_matrix(&transpose(&BT), &six));
        assert_same("kernel_adjoint", kernel_adjoint(six), by_matrix(&transpose(&G), &six));
        assert_same("output", output(six), by_matrix(&AT, &six));
        let three: [Lanes<f64>; 3] = std::array::from_fn(lanes);
        assert_same("kernel", kernel(three), by_matrix(&G, &three));
        let four: [Lanes<f64>; M] = std::array::from_fn(lanes);
        assert_same("output_adjoint", output_adjoint(four), by_matrix(&transpose(&AT), &four));
    }

    #[test]
    fn the_transforms_compute_a_3x3_correlation() {
        // Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d Bᵀᵀ)] A is the 4x4 valid correlation of the 6x6 d with the 3x3 g.
        let d: [[Lanes<f64>; N]; N] = std::array::from_fn(|a| std::array::from_fn(|b| lanes(a * N + b)));
        let g: [[Lanes<f64>; 3]; 3] = std::array::from_fn(|a| std::array::from_fn(|b| lanes(100 + a * 3 + b)));
        let (mut v, mut u) = ([[Lanes::zero(); N]; N], [[Lanes::zero(); N]; N]);
        sandwich::<Input, _, N, N>(&d, &mut v);
        sandwich::<Kernel, _, 3, N>(&g, &mut u);
        let product: [[Lanes<f64>; N]; N] =
            std::array::from_fn(|i| std::array::from_fn(|j| u[i][j].zip(v[i][j], |a, b| a * b)));
        let mut y = [[Lanes::zero(); M]; M];
        sandwich::<Output, _, N, M>(&product, &mut y);
        for (i, row) in y.iter().enumerate() {
            for (j, got) in row.iter().enumerate() {
                for l in 0..L {
                    let want: f64 = (0..9).map(|t| d[i + t / 3][j + t % 3].0[l] * g[t / 3][t % 3].0[l]).sum();
                    assert!((got.0[l] - want).abs() < 1e-12, "y[{i}][{j}] lane {l}: {} vs {want}", got.0[l]);
                }
            }
        }
    }
}
