//! # nabla-autograd
//!
//! The user-facing [`Tensor`]: an n-dimensional array (from `nabla-tensor`) that
//! records the differentiable ops applied to it on a dynamic tape, so that
//! `loss.backward()` fills every parameter's `.grad()`, as in PyTorch.
//!
//! ```
//! use nabla_autograd::{no_grad, Tensor};
//! let w = Tensor::from_vec(vec![0.5f32, -1.0], &[2]).requires_grad_(true);
//! let x = Tensor::from_vec(vec![2.0f32, 3.0], &[2]);
//! let loss = (&w * &x).sum().square();
//! loss.backward();
//! // d/dw (w.x)^2 = 2 (w.x) x = 2 * (-2) * [2, 3]
//! assert_eq!(w.grad().unwrap().to_vec::<f32>(), vec![-8.0, -12.0]);
//! {
//!     let _g = no_grad();
//!     w.add_(&w.grad().unwrap(), -0.1); // an SGD step
//! }
//! ```
//!
//! Gradients accumulate across `backward` calls until cleared with `zero_grad`. The
//! graph frees its saved tensors when `backward` ends (or when its output is dropped).
#![warn(missing_docs)]

mod custom;
mod engine;
mod error;
mod gradcheck;
mod graph;
mod operators;
mod ops;
mod tensor;

pub use error::AutogradError;
pub use gradcheck::{gradcheck, gradcheck_with, GradcheckError, GradcheckOptions};
pub use graph::{is_grad_enabled, no_grad, NoGradGuard};
pub use nabla_tensor::{
    get_num_threads, manual_seed, rng_state, set_num_threads, set_rng_state, Binary, Compare, Conv2dSpec, DType,
    NdArray, Pool2dSpec, RngState, Unary,
};
pub use tensor::Tensor;
