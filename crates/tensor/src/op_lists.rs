//! The lists of elementwise ops that both `NdArray` and autograd's `Tensor` expose as
//! methods, written once: each crate passes its own method-writing macro, so the names,
//! the docs and the op they map to cannot drift apart.

/// Calls `$m!` with every binary arithmetic op: `doc, name, scalar_name => op;`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_binary_op {
    ($m:ident) => {
        $m! {
            /// `self + other` with broadcasting.
            add, add_scalar => $crate::Binary::Add;
            /// `self - other` with broadcasting.
            sub, sub_scalar => $crate::Binary::Sub;
            /// `self * other` with broadcasting.
            mul, mul_scalar => $crate::Binary::Mul;
            /// `self / other` with broadcasting (true division).
            div, div_scalar => $crate::Binary::Div;
            /// `self ^ other` with broadcasting.
            pow, pow_tensor_scalar => $crate::Binary::Pow;
            /// Elementwise maximum with broadcasting.
            maximum, maximum_scalar => $crate::Binary::Maximum;
            /// Elementwise minimum with broadcasting.
            minimum, minimum_scalar => $crate::Binary::Minimum;
        }
    };
}

/// Calls `$m!` with every comparison: `doc, name, scalar_name => op;`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_compare_op {
    ($m:ident) => {
        $m! {
            /// `self == other` as a 0/1 mask.
            eq, eq_scalar => $crate::Compare::Eq;
            /// `self != other` as a 0/1 mask.
            ne, ne_scalar => $crate::Compare::Ne;
            /// `self < other` as a 0/1 mask.
            lt, lt_scalar => $crate::Compare::Lt;
            /// `self <= other` as a 0/1 mask.
            le, le_scalar => $crate::Compare::Le;
            /// `self > other` as a 0/1 mask.
            gt, gt_scalar => $crate::Compare::Gt;
            /// `self >= other` as a 0/1 mask.
            ge, ge_scalar => $crate::Compare::Ge;
        }
    };
}

/// Calls `$m!` with every argument-free elementwise function: `doc, name => op;`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_unary_op {
    ($m:ident) => {
        $m! {
            /// `-x` elementwise.
            neg => $crate::Unary::Neg;
            /// `e^x` elementwise.
            exp => $crate::Unary::Exp;
            /// Natural logarithm elementwise.
            log => $crate::Unary::Log;
            /// `ln(1 + x)` elementwise, accurate near 0.
            log1p => $crate::Unary::Log1p;
            /// `e^x - 1` elementwise, accurate near 0.
            expm1 => $crate::Unary::Expm1;
            /// Square root elementwise.
            sqrt => $crate::Unary::Sqrt;
            /// `1 / sqrt(x)` elementwise.
            rsqrt => $crate::Unary::Rsqrt;
            /// Absolute value elementwise.
            abs => $crate::Unary::Abs;
            /// `max(x, 0)` elementwise.
            relu => $crate::Unary::Relu;
            /// Logistic sigmoid elementwise.
            sigmoid => $crate::Unary::Sigmoid;
            /// Hyperbolic tangent elementwise.
            tanh => $crate::Unary::Tanh;
            /// Sine elementwise.
            sin => $crate::Unary::Sin;
            /// Cosine elementwise.
            cos => $crate::Unary::Cos;
            /// `1 / x` elementwise.
            reciprocal => $crate::Unary::Recip;
            /// `x * x` elementwise.
            square => $crate::Unary::Square;
            /// Rounds down elementwise.
            floor => $crate::Unary::Floor;
            /// Rounds up elementwise.
            ceil => $crate::Unary::Ceil;
            /// Rounds half to even elementwise, as `torch.round`.
            round => $crate::Unary::Round;
            /// Sign elementwise: -1, 0 or 1.
            sign => $crate::Unary::Sign;
        }
    };
}
