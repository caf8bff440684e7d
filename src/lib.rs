//! # nabla
//!
//! A deep-learning framework in the style of PyTorch, for the CPU. This facade crate
//! re-exports the workspace crates:
//!
//! - [`tensor`]: strided n-d arrays and kernels (`nabla-tensor`), no autograd;
//! - the user-facing [`Tensor`] with its dynamic tape (`nabla-autograd`).
//!
//! ```
//! use nabla::prelude::*;
//! manual_seed(0);
//! let w = Tensor::randn(&[3, 1]).requires_grad_(true);
//! let x = Tensor::randn(&[8, 3]);
//! let loss = x.matmul(&w).square().mean();
//! loss.backward();
//! assert_eq!(w.grad().unwrap().shape(), vec![3, 1]);
//! ```
#![warn(missing_docs)]

pub use nabla_autograd::*;
pub use nabla_tensor as tensor;

/// The names a training script needs, for `use nabla::prelude::*`.
pub mod prelude {
    pub use nabla_autograd::{
        get_num_threads, gradcheck, manual_seed, no_grad, set_num_threads, DType, NdArray, Tensor,
    };
}
