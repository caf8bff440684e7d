//! Elementwise functions of one tensor. The value and derivative of each live once, in
//! `nabla_tensor::Unary`; this file only wires them to the tape.

use nabla_tensor::{DType, Unary};

use crate::graph::{record, record_with_output, Saved};
use crate::tensor::Tensor;

impl Tensor {
    /// Applies an elementwise function with its derivative.
    pub fn unary(&self, op: Unary) -> Tensor {
        let x = self.data();
        let out = x.unary(op);
        let name = op.name();
        if op.is_piecewise_constant() || !out.dtype().is_float() {
            // Zero almost everywhere, as PyTorch defines these.
            return record(name, out, &[self], || move |g, _| Ok(vec![Some(g.zeros_like())]));
        }
        if op.derivative_uses_output() {
            record_with_output(name, out, &[self], |y: Saved| {
                move |g, _| Ok(vec![Some(nabla_tensor::NdArray::unary_backward(op, y.get()?, g))])
            })
        } else {
            let saved = Saved::new(name, self);
            record(name, out, &[self], || {
                move |g, _| Ok(vec![Some(nabla_tensor::NdArray::unary_backward(op, saved.get()?, g))])
            })
        }
    }

    /// Converts to `dtype` (`Tensor.to(dtype)`); float-to-float casts are
    /// differentiable, a cast to `i64` leaves the graph.
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        let from = self.dtype();
        if from == dtype {
            return self.clone();
        }
        let out = self.data().cast(dtype);
        if !dtype.is_float() {
            return Tensor::new(out);
        }
        record("to_dtype", out, &[self], || move |g, _| Ok(vec![Some(g.cast(from))]))
    }

    /// Cast to `f64` (`Tensor.double()`).
    pub fn double(&self) -> Tensor {
        self.to_dtype(DType::F64)
    }

    /// Cast to `f32` (`Tensor.float()`).
    pub fn float(&self) -> Tensor {
        self.to_dtype(DType::F32)
    }

    /// Cast to `i64` (`Tensor.long()`); not differentiable.
    pub fn long(&self) -> Tensor {
        self.to_dtype(DType::I64)
    }

    /// `x^exponent` elementwise.
    pub fn pow_scalar(&self, exponent: f64) -> Tensor {
        self.unary(Unary::Pow(exponent))
    }

    /// Clamps into `[min, max]`; `None` leaves that side open (`torch.clamp`). The
    /// gradient passes where the input is strictly inside the range, as in PyTorch 2.15
    /// (at a bound it is 0).
    pub fn clamp(&self, min: Option<f64>, max: Option<f64>) -> Tensor {
        self.unary(Unary::Clamp(min.unwrap_or(f64::NEG_INFINITY), max.unwrap_or(f64::INFINITY)))
    }

    /// Leaky ReLU with the given negative slope.
    pub fn leaky_relu(&self, negative_slope: f64) -> Tensor {
        self.unary(Unary::LeakyRelu(negative_slope))
    }
}

macro_rules! unary_methods {
    ($($(#[$doc:meta])* $name:ident => $op:expr;)*) => {
        impl Tensor {
            $($(#[$doc])* pub fn $name(&self) -> Tensor { self.unary($op) })*
        }
    };
}

nabla_tensor::for_each_unary_op!(unary_methods);
