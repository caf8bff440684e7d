//! `+ - * /` and unary `-` on tensors and scalars, for owned and borrowed operands:
//! `&a + &b`, `&a * 2.0`, `1.0 - &a`, `-&a`.

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::tensor::Tensor;

macro_rules! tensor_ops {
    ($($trait:ident, $method:ident, $scalar:ident);*) => {$(
        impl $trait<&Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor { Tensor::$method(self, rhs) }
        }
        impl $trait<Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor { Tensor::$method(self, &rhs) }
        }
        impl $trait<&Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor { Tensor::$method(&self, rhs) }
        }
        impl $trait<Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor { Tensor::$method(&self, &rhs) }
        }
        impl $trait<f64> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: f64) -> Tensor { self.$scalar(rhs) }
        }
        impl $trait<f64> for Tensor {
            type Output = Tensor;
            fn $method(self, rhs: f64) -> Tensor { self.$scalar(rhs) }
        }
        impl $trait<&Tensor> for f64 {
            type Output = Tensor;
            fn $method(self, rhs: &Tensor) -> Tensor { Tensor::$method(&rhs.scalar_like(self), rhs) }
        }
        impl $trait<Tensor> for f64 {
            type Output = Tensor;
            fn $method(self, rhs: Tensor) -> Tensor { Tensor::$method(&rhs.scalar_like(self), &rhs) }
        }
    )*};
}

tensor_ops!(Add, add, add_scalar; Sub, sub, sub_scalar; Mul, mul, mul_scalar; Div, div, div_scalar);

impl Neg for &Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}

impl Neg for Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(&self)
    }
}
