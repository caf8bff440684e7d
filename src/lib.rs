//! # nabla
//!
//! A deep-learning framework in the style of PyTorch, for the CPU. This facade crate
//! re-exports the workspace crates under the names a PyTorch user expects:
//!
//! - [`Tensor`] with its dynamic tape, `backward()`, `no_grad()` (`nabla-autograd`);
//! - [`nn`]: `Module`, layers, `nn::functional` (losses included), `nn::init`,
//!   checkpoints (`nabla-nn`, with `#[derive(Module)]` from `nabla-derive`);
//! - [`optim`]: optimizers, schedulers, gradient clipping (`nabla-optim`);
//! - [`data`]: `Dataset`, `DataLoader`, MNIST, the embedded digits set (`nabla-data`);
//! - [`tensor`]: the raw strided arrays and kernels (`nabla-tensor`).
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

use std::fmt;

pub use nabla_autograd::*;
pub use nabla_data as data;
pub use nabla_nn as nn;
pub use nabla_optim as optim;
pub use nabla_tensor as tensor;

/// Every error a training script can meet from the outside world (files, data,
/// checkpoints, configuration), so `main` can return `Result<(), nabla::Error>` and
/// use `?` throughout. Misuse inside the math (shape mismatches) panics instead.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading a data set failed.
    Data(data::DataError),
    /// Saving or loading a checkpoint failed.
    Checkpoint(nn::CheckpointError),
    /// A state dict did not fit the model.
    StateDict(nn::StateDictError),
    /// An optimizer was misconfigured or given an incompatible state.
    Optim(optim::OptimError),
    /// A shape or length from data did not fit.
    Tensor(tensor::TensorError),
    /// Any other I/O failure.
    Io(std::io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Data(e) => e.fmt(f),
            Error::Checkpoint(e) => e.fmt(f),
            Error::StateDict(e) => e.fmt(f),
            Error::Optim(e) => e.fmt(f),
            Error::Tensor(e) => e.fmt(f),
            Error::Io(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Data(e) => Some(e),
            Error::Checkpoint(e) => Some(e),
            Error::StateDict(e) => Some(e),
            Error::Optim(e) => Some(e),
            Error::Tensor(e) => Some(e),
            Error::Io(e) => Some(e),
        }
    }
}

macro_rules! from_errors {
    ($($variant:ident($t:ty)),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::$variant(e)
            }
        }
    )*};
}

from_errors!(
    Data(data::DataError),
    Checkpoint(nn::CheckpointError),
    StateDict(nn::StateDictError),
    Optim(optim::OptimError),
    Tensor(tensor::TensorError),
    Io(std::io::Error)
);

/// The names a training script needs: `use nabla::prelude::*`.
pub mod prelude {
    pub use crate::{data, nn, optim};
    pub use nabla_autograd::{
        get_num_threads, gradcheck, manual_seed, no_grad, set_num_threads, DType, NdArray, Tensor,
    };
    pub use nabla_data::Dataset;
    pub use nabla_nn::{Forward, Module, ModuleExt};
    pub use nabla_optim::Optimizer;
}
