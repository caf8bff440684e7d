//! Elementwise functions of one array. Each op is declared once, with its value and
//! its derivative, and one generic loop runs both (forward here, backward in autograd).

use num_traits::Zero;

use crate::array::NdArray;
use crate::dtype::{DType, Element, FloatElement};
use crate::kernels::{map1, map2, map3};
use crate::storage::Storage;
use crate::{dispatch, dispatch_float};

/// An elementwise function with a known derivative.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unary {
    /// `-x`
    Neg,
    /// `e^x`
    Exp,
    /// natural log
    Log,
    /// `ln(1 + x)`
    Log1p,
    /// `e^x - 1`
    Expm1,
    /// square root
    Sqrt,
    /// `1 / sqrt(x)`
    Rsqrt,
    /// `|x|`
    Abs,
    /// `max(x, 0)`
    Relu,
    /// `1 / (1 + e^-x)`
    Sigmoid,
    /// hyperbolic tangent
    Tanh,
    /// sine
    Sin,
    /// cosine
    Cos,
    /// `1 / x`
    Recip,
    /// `x * x`
    Square,
    /// `x^p` for a fixed exponent
    Pow(f64),
    /// clamp into `[lo, hi]` (use infinities for a one-sided clamp)
    Clamp(f64, f64),
    /// `x` if `x > 0` else `slope * x`
    LeakyRelu(f64),
    /// round down (derivative 0)
    Floor,
    /// round up (derivative 0)
    Ceil,
    /// round half to even (derivative 0)
    Round,
    /// `-1`, `0` or `1` (derivative 0)
    Sign,
}

impl Unary {
    /// The op's name, as used in error messages and graph dumps.
    pub fn name(self) -> &'static str {
        match self {
            Unary::Neg => "neg",
            Unary::Exp => "exp",
            Unary::Log => "log",
            Unary::Log1p => "log1p",
            Unary::Expm1 => "expm1",
            Unary::Sqrt => "sqrt",
            Unary::Rsqrt => "rsqrt",
            Unary::Abs => "abs",
            Unary::Relu => "relu",
            Unary::Sigmoid => "sigmoid",
            Unary::Tanh => "tanh",
            Unary::Sin => "sin",
            Unary::Cos => "cos",
            Unary::Recip => "reciprocal",
            Unary::Square => "square",
            Unary::Pow(_) => "pow",
            Unary::Clamp(..) => "clamp",
            Unary::LeakyRelu(_) => "leaky_relu",
            Unary::Floor => "floor",
            Unary::Ceil => "ceil",
            Unary::Round => "round",
            Unary::Sign => "sign",
        }
    }

    /// True when an integer input gives an integer result (otherwise integers are
    /// promoted to `f32` first, as PyTorch does for `exp` and friends).
    fn keeps_integers(self) -> bool {
        matches!(
            self,
            Unary::Neg
                | Unary::Abs
                | Unary::Relu
                | Unary::Square
                | Unary::Sign
                | Unary::Floor
                | Unary::Ceil
                | Unary::Round
                | Unary::Clamp(..)
        )
    }

    /// True when the derivative is best written from the output `y` (so backward saves
    /// the output instead of the input).
    pub fn derivative_uses_output(self) -> bool {
        matches!(self, Unary::Exp | Unary::Sigmoid | Unary::Tanh | Unary::Sqrt | Unary::Expm1 | Unary::Recip)
    }

    /// True when the derivative is zero everywhere it exists.
    pub fn is_piecewise_constant(self) -> bool {
        matches!(self, Unary::Floor | Unary::Ceil | Unary::Round | Unary::Sign)
    }

    #[inline(always)]
    fn f<T: FloatElement>(self, x: T) -> T {
        let c = |v: f64| T::from_f64(v);
        match self {
            Unary::Neg => -x,
            Unary::Exp => x.exp(),
            Unary::Log => x.ln(),
            Unary::Log1p => x.ln_1p(),
            Unary::Expm1 => x.exp_m1(),
            Unary::Sqrt => x.sqrt(),
            Unary::Rsqrt => x.sqrt().recip(),
            Unary::Abs => x.abs(),
            Unary::Relu => {
                // The order of `max_ps`: NaN and -0.0 pass through, as in PyTorch.
                if T::zero() > x {
                    T::zero()
                } else {
                    x
                }
            }
            Unary::Sigmoid => T::one() / (T::one() + (-x).exp()),
            Unary::Tanh => x.tanh(),
            Unary::Sin => x.sin(),
            Unary::Cos => x.cos(),
            Unary::Recip => x.recip(),
            Unary::Square => x * x,
            Unary::Pow(p) => {
                if p == 2.0 {
                    x * x
                } else {
                    x.powf(c(p))
                }
            }
            Unary::Clamp(lo, hi) => {
                // `min(max(x, lo), hi)` as PyTorch: NaN passes through, and `lo > hi`
                // gives `hi` everywhere.
                let v = if x < c(lo) { c(lo) } else { x };
                if v > c(hi) {
                    c(hi)
                } else {
                    v
                }
            }
            Unary::LeakyRelu(s) => {
                if x > T::zero() {
                    x
                } else {
                    x * c(s)
                }
            }
            Unary::Floor => x.floor(),
            Unary::Ceil => x.ceil(),
            Unary::Round => {
                let r = x.round();
                // `round` rounds half away from zero; PyTorch rounds half to even.
                if (x - x.trunc()).abs() == c(0.5) {
                    c(2.0) * (x / c(2.0)).round()
                } else {
                    r
                }
            }
            Unary::Sign => {
                // Zero for ±0 and NaN alike, as `torch.sign`.
                if x > T::zero() {
                    T::one()
                } else if x < T::zero() {
                    -T::one()
                } else {
                    T::zero()
                }
            }
        }
    }

    /// The input gradient `g * dy/dx` at input `x` with output `y`. Where PyTorch's
    /// backward selects instead of multiplying (ReLU's `threshold_backward`, clamp's mask,
    /// the zeros of `pow(x, 0)` and the piecewise-constant ops), so does this: a NaN or
    /// infinite `g` where the derivative is zero gives 0, not NaN.
    #[inline(always)]
    fn grad<T: FloatElement>(self, x: T, y: T, g: T) -> T {
        let c = |v: f64| T::from_f64(v);
        match self {
            Unary::Neg => -g,
            Unary::Exp => g * y,
            Unary::Log => g * x.recip(),
            Unary::Log1p => g * (T::one() + x).recip(),
            Unary::Expm1 => g * (y + T::one()),
            Unary::Sqrt => g * (c(0.5) / y),
            Unary::Rsqrt => g * (c(-0.5) * (x * x.sqrt()).recip()),
            Unary::Abs => {
                let sign = if x > T::zero() {
                    T::one()
                } else if x < T::zero() {
                    -T::one()
                } else {
                    T::zero()
                };
                g * sign
            }
            Unary::Relu => {
                if x <= T::zero() {
                    T::zero()
                } else {
                    g
                }
            }
            Unary::Sigmoid => g * (y * (T::one() - y)),
            Unary::Tanh => g * (T::one() - y * y),
            Unary::Sin => g * x.cos(),
            Unary::Cos => g * -x.sin(),
            Unary::Recip => g * (-y * y),
            Unary::Square => g * (c(2.0) * x),
            Unary::Pow(p) => {
                if p == 0.0 {
                    T::zero()
                } else {
                    g * (c(p) * x.powf(c(p - 1.0)))
                }
            }
            Unary::Clamp(lo, hi) => {
                // Strictly inside a bound that is set, as PyTorch 2.15: at a bound the
                // gradient is 0 (the subgradient of least norm).
                let above = lo == f64::NEG_INFINITY || x > c(lo);
                let below = hi == f64::INFINITY || x < c(hi);
                if above && below {
                    g
                } else {
                    T::zero()
                }
            }
            Unary::LeakyRelu(s) => {
                if x > T::zero() {
                    g
                } else {
                    g * c(s)
                }
            }
            Unary::Floor | Unary::Ceil | Unary::Round | Unary::Sign => T::zero(),
        }
    }
}

/// Runs `$body` with `$o` bound to `$op`, so each op gets its own monomorphised loop (a
/// runtime `match` per element would block vectorising). Unit variants are bound as
/// `const`s: a closure that captured a `let` would carry the variant as data, and the
/// loop behind `fill_chunks` would still dispatch on it per element (measured 35x slower
/// for `relu` on 692K elements).
macro_rules! specialize {
    ($op:expr, $o:ident => $body:expr) => {
        match $op {
            Unary::Pow(p) => {
                let $o = Unary::Pow(p);
                $body
            }
            Unary::Clamp(lo, hi) => {
                let $o = Unary::Clamp(lo, hi);
                $body
            }
            Unary::LeakyRelu(s) => {
                let $o = Unary::LeakyRelu(s);
                $body
            }
            Unary::Neg => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Neg;
                $body
            }
            Unary::Exp => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Exp;
                $body
            }
            Unary::Log => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Log;
                $body
            }
            Unary::Log1p => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Log1p;
                $body
            }
            Unary::Expm1 => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Expm1;
                $body
            }
            Unary::Sqrt => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Sqrt;
                $body
            }
            Unary::Rsqrt => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Rsqrt;
                $body
            }
            Unary::Abs => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Abs;
                $body
            }
            Unary::Relu => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Relu;
                $body
            }
            Unary::Sigmoid => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Sigmoid;
                $body
            }
            Unary::Tanh => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Tanh;
                $body
            }
            Unary::Sin => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Sin;
                $body
            }
            Unary::Cos => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Cos;
                $body
            }
            Unary::Recip => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Recip;
                $body
            }
            Unary::Square => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Square;
                $body
            }
            Unary::Floor => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Floor;
                $body
            }
            Unary::Ceil => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Ceil;
                $body
            }
            Unary::Round => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Round;
                $body
            }
            Unary::Sign => {
                #[allow(non_upper_case_globals)]
                const $o: Unary = Unary::Sign;
                $body
            }
        }
    };
}

impl NdArray {
    /// Applies `op` elementwise.
    pub fn unary(&self, op: Unary) -> NdArray {
        if self.dtype() == DType::I64 {
            let promoted = self.cast(DType::F64).unary(op);
            return if op.keeps_integers() { promoted.cast(DType::I64) } else { promoted.cast(DType::F32) };
        }
        let storage = dispatch_float!(op.name(), &*self.storage, s, T => {
            T::into_storage(specialize!(op, o => map1(s, &self.layout, move |x: T| o.f(x))))
        });
        NdArray::from_storage(storage, self.shape())
    }

    /// The input gradient of `op`: `grad * op'(x)` (0 where the derivative is, whatever
    /// `grad`; see [`Unary::grad`]), where `saved` is the input `x`, or
    /// the output `y` when [`Unary::derivative_uses_output`] (all three of one shape).
    pub fn unary_backward(op: Unary, saved: &NdArray, grad: &NdArray) -> NdArray {
        let dt = grad.dtype();
        let saved = saved.cast(dt);
        let storage = dispatch_float!(op.name(), (&*saved.storage, &*grad.storage), (s, g), T => {
            let v = if op.derivative_uses_output() {
                specialize!(op, o => map2(s, &saved.layout, g, &grad.layout, move |y: T, g: T| o.grad(T::zero(), y, g)))
            } else {
                specialize!(op, o => map2(s, &saved.layout, g, &grad.layout, move |x: T, g: T| o.grad(x, T::zero(), g)))
            };
            T::into_storage(v)
        });
        NdArray::from_storage(storage, grad.shape())
    }

    /// The input gradient of `op` for derivatives that need both `x` and `y`.
    pub fn unary_backward_xy(op: Unary, x: &NdArray, y: &NdArray, grad: &NdArray) -> NdArray {
        let (x, y) = (x.cast(grad.dtype()), y.cast(grad.dtype()));
        let storage = dispatch_float!(op.name(), (&*x.storage, &*y.storage, &*grad.storage), (xs, ys, gs), T => {
            T::into_storage(map3((xs, &x.layout), (ys, &y.layout), (gs, &grad.layout), |x: T, y: T, g: T| op.grad(x, y, g))
            )
        });
        NdArray::from_storage(storage, grad.shape())
    }
}

macro_rules! unary_methods {
    ($($(#[$doc:meta])* $name:ident => $op:expr;)*) => {
        impl NdArray {
            $($(#[$doc])* pub fn $name(&self) -> NdArray { self.unary($op) })*
        }
    };
}

crate::for_each_unary_op!(unary_methods);

impl NdArray {
    /// `x^exponent` elementwise.
    pub fn pow_scalar(&self, exponent: f64) -> NdArray {
        self.unary(Unary::Pow(exponent))
    }

    /// Clamps into `[min, max]`; `None` leaves that side open (`torch.clamp`).
    pub fn clamp(&self, min: Option<f64>, max: Option<f64>) -> NdArray {
        self.unary(Unary::Clamp(min.unwrap_or(f64::NEG_INFINITY), max.unwrap_or(f64::INFINITY)))
    }

    /// Leaky ReLU with the given negative slope.
    pub fn leaky_relu(&self, negative_slope: f64) -> NdArray {
        self.unary(Unary::LeakyRelu(negative_slope))
    }

    /// True where the element is NaN (as an `i64` 0/1 mask).
    pub fn isnan(&self) -> NdArray {
        let storage = dispatch!(&*self.storage, s, T => Storage::I64(map1(s, &self.layout, |x: T| crate::reduce::is_nan(x) as i64)));
        NdArray::from_storage(storage, self.shape())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_half_to_even_like_torch() {
        let a = NdArray::from_vec(vec![0.5f64, 1.5, 2.5, -0.5, -1.5, 2.4], &[6]);
        assert_eq!(a.round().to_vec::<f64>(), vec![0.0, 2.0, 2.0, -0.0, -2.0, 2.0]);
    }

    /// Values printed by PyTorch 2.15 for the same inputs and gradients.
    #[test]
    fn nan_inf_signed_zero_and_bounds_match_torch() {
        let nan = f64::NAN;
        let inf = f64::INFINITY;
        let x = NdArray::from_vec(vec![nan, -1.0, 0.0, 2.0, inf, -inf], &[6]);
        let g = NdArray::from_vec(vec![1.0, nan, inf, 3.0, 4.0, nan], &[6]);
        let same = |got: NdArray, want: [f64; 6]| {
            let got = got.to_vec::<f64>();
            assert!(got.iter().zip(want).all(|(a, b)| a == &b || (a.is_nan() && b.is_nan())), "{got:?} != {want:?}");
        };
        same(x.relu(), [nan, 0.0, 0.0, 2.0, inf, 0.0]);
        same(NdArray::unary_backward(Unary::Relu, &x, &g), [1.0, 0.0, 0.0, 3.0, 4.0, 0.0]);
        let clamp = Unary::Clamp(-0.5, 1.0);
        same(x.unary(clamp), [nan, -0.5, 0.0, 1.0, 1.0, -0.5]);
        same(NdArray::unary_backward(clamp, &x, &g), [0.0, 0.0, inf, 0.0, 0.0, 0.0]);
        // At a bound the gradient is 0; an unset bound never stops it, even at ±inf.
        let at = NdArray::from_vec(vec![-0.5, 1.0, 0.0, inf, -inf], &[5]);
        let ones = NdArray::from_vec(vec![1.0; 5], &[5]);
        let grad = |op| NdArray::unary_backward(op, &at, &ones).to_vec::<f64>();
        assert_eq!(grad(clamp), [0.0, 0.0, 1.0, 0.0, 0.0]);
        assert_eq!(grad(Unary::Clamp(0.0, inf)), [0.0, 1.0, 0.0, 1.0, 0.0]);
        assert_eq!(grad(Unary::Clamp(-inf, 0.0)), [1.0, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!(at.unary(Unary::Clamp(2.0, 1.0)).to_vec::<f64>(), [1.0; 5], "lo > hi gives hi");
        same(x.sign(), [0.0, -1.0, 0.0, 1.0, 1.0, -1.0]);
        assert!(NdArray::from_vec(vec![-0.0f64], &[1]).sign().to_vec::<f64>()[0].is_sign_positive());
        let leaky = Unary::LeakyRelu(0.1);
        same(NdArray::unary_backward(leaky, &x, &g), [0.1, nan, inf, 3.0, 4.0, nan]);
        same(NdArray::unary_backward(Unary::Abs, &x, &g), [0.0, nan, nan, 3.0, 4.0, nan]);
    }

    #[test]
    fn integer_ops_keep_or_promote() {
        let a = NdArray::from_vec(vec![-2i64, 3], &[2]);
        assert_eq!(a.abs().dtype(), DType::I64);
        assert_eq!(a.exp().dtype(), DType::F32);
    }
}
