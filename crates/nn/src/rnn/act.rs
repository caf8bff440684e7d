//! The gate nonlinearities of the recurrent cells, as branch-free `f32` code that the
//! compiler vectorises.
//!
//! libm's `tanhf`/`expf` are scalar calls (~10-20 ns each); an LSTM step evaluates five
//! of them per hidden unit and sample, which at batch 32, hidden 64 and 64 steps would
//! cost more than all the GEMMs of the layer. These are Cephes' `expf` and `tanhf`
//! (range reduction plus a minimax polynomial, within 2 ulp), rewritten without
//! branches or calls so a loop over a gate row becomes SIMD code. `f64` (gradient
//! checks) uses the standard library.

use nabla_tensor::FloatElement;

/// A float type the cells compute in: `f32` (fast approximations) or `f64` (libm).
pub(crate) trait CellFloat: FloatElement {
    /// `1 / (1 + e^-x)`.
    fn sigmoid(x: Self) -> Self;
    /// The hyperbolic tangent (named apart from `Float::tanh`, which is libm's).
    fn tanh_(x: Self) -> Self;
}

impl CellFloat for f64 {
    #[inline]
    fn sigmoid(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }
    #[inline]
    fn tanh_(x: f64) -> f64 {
        x.tanh()
    }
}

impl CellFloat for f32 {
    #[inline(always)]
    fn sigmoid(x: f32) -> f32 {
        1.0 / (1.0 + exp_f32(-x))
    }
    #[inline(always)]
    fn tanh_(x: f32) -> f32 {
        tanh_f32(x)
    }
}

/// `e^x` for `f32` (Cephes `expf`): `x = n ln2 + r` with `|r| <= ln2 / 2`, `e^r` by a
/// degree-6 polynomial, `2^n` built in the exponent bits. Saturates to `0` / `inf`
/// beyond the float range.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 * 2^23: adding it rounds to an integer (in the low mantissa bits) without a
    // `round` call, which would not vectorise on baseline x86-64.
    const SHIFTER: f32 = 12_582_912.0;
    let x = if x > 88.0 { 88.0 } else { x };
    let x = if x < -87.0 { -87.0 } else { x };
    let t = x * LOG2E + SHIFTER;
    let n = t - SHIFTER;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4f32;
    let p = p * r + 1.398_2e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 5e-1;
    let er = p * r * r + r + 1.0;
    // `t`'s low mantissa bits hold `n` offset by the shifter's bits 0x4B40_0000; move
    // `n + 127` into the exponent field.
    let two_n = f32::from_bits(t.to_bits().wrapping_sub(0x4B40_0000 - 127) << 23);
    er * two_n
}

/// `tanh(x)` for `f32` (Cephes `tanhf`): an odd polynomial below `|x| = 0.625`, where
/// `1 - 2 / (e^2x + 1)` would lose relative precision, that formula above.
#[inline(always)]
fn tanh_f32(x: f32) -> f32 {
    let a = x.abs();
    let z = x * x;
    let p = -5.704_988_7e-3f32;
    let p = p * z + 2.063_909e-2;
    let p = p * z - 5.373_971_6e-2;
    let p = p * z + 1.333_144_2e-1;
    let p = p * z - 3.333_328e-1;
    let small = p * z * x + x;
    let large = 1.0 - 2.0 / (exp_f32(a + a) + 1.0);
    let large = if x < 0.0 { -large } else { large };
    if a < 0.625 {
        small
    } else {
        large
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f32, b: f64) -> f64 {
        (a as f64 - b).abs() / b.abs().max(1e-30)
    }

    #[test]
    fn close_to_libm_over_the_useful_range() {
        let mut worst = (0.0f64, 0.0f64, 0.0f64);
        for i in -40_000..=40_000 {
            let x = i as f32 * 1e-3;
            let (xd, e, t, s) = (x as f64, exp_f32(x), tanh_f32(x), <f32 as CellFloat>::sigmoid(x));
            worst.0 = worst.0.max(rel(e, xd.exp()));
            if x != 0.0 {
                worst.1 = worst.1.max(rel(t, xd.tanh()));
            }
            worst.2 = worst.2.max(rel(s, 1.0 / (1.0 + (-xd).exp())));
        }
        assert!(worst.0 < 3e-7 && worst.1 < 3e-7 && worst.2 < 3e-7, "max relative errors {worst:?}");
    }

    #[test]
    fn saturates_without_nan() {
        for x in [-1e30f32, -200.0, -88.5, 88.5, 200.0, 1e30, f32::INFINITY, f32::NEG_INFINITY] {
            let (t, s) = (tanh_f32(x), <f32 as CellFloat>::sigmoid(x));
            assert_eq!(t, x.signum(), "tanh({x})");
            assert!((0.0..=1.0).contains(&s) && (s - (x > 0.0) as u8 as f32).abs() < 1e-30, "sigmoid({x}) = {s}");
        }
    }
}
