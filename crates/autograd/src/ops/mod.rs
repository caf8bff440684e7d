//! Differentiable ops on [`Tensor`](crate::Tensor), one family per file: each op's
//! forward calls a `nabla-tensor` kernel and its backward rule sits right beside it.

mod binary;
mod conv;
mod index;
mod matmul;
mod pool;
mod reduce;
mod softmax;
mod unary;
mod views;
