//! # nabla-nn
//!
//! Neural-network building blocks in the style of `torch.nn`:
//!
//! - the [`Module`] trait (a tree of layers visiting their tensors) with
//!   `#[derive(Module)]`, and [`ModuleExt`] on top of it: `parameters()`,
//!   `named_parameters()` with dotted names, `train()`/`eval()` through `&self`,
//!   `zero_grad()`, `state_dict()`/`load_state_dict()`, `save`/`load`;
//! - layers with PyTorch's names, arguments and default initialisation: [`Linear`],
//!   [`ReLU`], [`Sigmoid`], [`Tanh`], [`Softmax`], [`LogSoftmax`], [`Dropout`],
//!   [`BatchNorm1d`], [`BatchNorm2d`], [`Flatten`], [`Identity`], [`Sequential`];
//!   convolution and pooling: [`Conv2d`], [`Conv1d`], [`MaxPool2d`], [`AvgPool2d`],
//!   [`AdaptiveAvgPool2d`]; sequences: [`Embedding`], [`LSTM`], [`GRU`], [`RNN`];
//! - [`functional`] (stateless forms and the losses), [`init`] (initialisers),
//!   [`l1_penalty`]/[`l2_penalty`], and [`checkpoint`] files.
//!
//! ```
//! use nabla_autograd::{manual_seed, no_grad, Tensor};
//! use nabla_nn::{functional as F, Dropout, Forward, Linear, Module, ModuleExt};
//!
//! #[derive(Module)]
//! #[module(crate = "nabla_nn")] // user code on the `nabla` facade leaves this out
//! struct Net {
//!     fc1: Linear,
//!     fc2: Linear,
//!     dropout: Dropout,
//! }
//!
//! impl Net {
//!     fn forward(&self, x: &Tensor) -> Tensor {
//!         let x = self.dropout.forward(&self.fc1.forward(x).relu());
//!         self.fc2.forward(&x).log_softmax(1)
//!     }
//! }
//!
//! manual_seed(0);
//! let model = Net { fc1: Linear::new(4, 16), fc2: Linear::new(16, 3), dropout: Dropout::new(0.1) };
//! assert_eq!(model.parameters().len(), 4);
//! assert_eq!(model.named_parameters()[0].0, "fc1.weight");
//!
//! let x = Tensor::randn(&[8, 4]);
//! let loss = model.forward(&x).mean().neg();
//! loss.backward();
//! {
//!     let _guard = no_grad();
//!     for p in model.parameters() {
//!         p.add_(&p.grad().unwrap(), -0.1); // a hand-written SGD step
//!     }
//! }
//! model.zero_grad();
//! model.eval();
//! ```
#![warn(missing_docs)]

/// Implements `Module` with no tensors and no training behaviour for layers that
/// hold only configuration.
macro_rules! stateless_module {
    ($($layer:ty),*) => {$(
        impl $crate::Module for $layer {
            fn visit(&self, _: &mut dyn $crate::Visitor) {}
        }
    )*};
}

mod activation;
mod batch_norm;
pub mod checkpoint;
mod conv;
mod dropout;
mod embedding;
pub mod functional;
pub mod init;
mod linear;
mod module;
mod module_ext;
mod pool;
mod regularizer;
mod rnn;
mod sequential;
mod shape;
mod state_dict;

pub use activation::{LogSoftmax, ReLU, Sigmoid, Softmax, Tanh};
pub use batch_norm::{BatchNorm, BatchNorm1d, BatchNorm2d, BatchNormOptions};
pub use checkpoint::CheckpointError;
pub use conv::{Conv1d, Conv2d, ConvOptions};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use functional::{IntoPair, Padding};
pub use linear::Linear;
#[doc(hidden)]
pub use module::__private;
pub use module::{Forward, Layer, Module, Visitor};
pub use module_ext::ModuleExt;
pub use nabla_derive::Module;
pub use pool::{AdaptiveAvgPool2d, AvgPool2d, MaxPool2d};
pub use regularizer::{l1_penalty, l2_penalty};
pub use rnn::{RnnConfig, RnnNonlinearity, GRU, LSTM, RNN};
pub use sequential::Sequential;
pub use shape::{Flatten, Identity};
pub use state_dict::{IncompatibleKeys, Mismatch, StateDict, StateDictError};
