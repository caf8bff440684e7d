//! # nabla-optim
//!
//! Optimizers, learning-rate schedulers and gradient clipping, with the update formulas,
//! defaults and checks of `torch.optim`:
//!
//! - [`Optimizer`]: `zero_grad`, `step`, `lr`/`set_lr`, `state_dict`/`load_state_dict`
//!   (exact resume), implemented by [`SGD`], [`Adam`], [`AdamW`], [`RMSprop`], [`Adagrad`].
//!   Build one with `new(params, lr)` plus builder options (which panic on invalid values,
//!   as PyTorch raises), or with `try_new(params, config)` from a config struct whose
//!   `Default` is PyTorch's, returning an [`OptimError`].
//! - [`LrScheduler`]: [`StepLR`], [`ExponentialLR`], [`CosineAnnealingLR`]; and
//!   [`ReduceLROnPlateau`], driven by a metric.
//! - [`clip_grad_norm_`] and [`clip_grad_value_`].
//!
//! ```
//! use nabla_autograd::Tensor;
//! use nabla_optim::{Adam, CosineAnnealingLR, LrScheduler, Optimizer};
//!
//! let w = Tensor::from_vec(vec![2.0f64, -1.0], &[2]).requires_grad_(true);
//! let mut opt = Adam::new(vec![w.clone()], 0.1).betas(0.9, 0.99).amsgrad(true);
//! let mut sched = CosineAnnealingLR::new(&opt, 50);
//! for _epoch in 0..50 {
//!     opt.zero_grad();
//!     w.square().sum().backward();
//!     nabla_optim::clip_grad_norm_(opt.params(), 1.0, 2.0);
//!     opt.step();
//!     sched.step(&mut opt);
//! }
//! assert!(w.to_vec::<f64>().iter().all(|v| v.abs() < 0.5));
//! ```
//!
//! Optimizers see only tensors and their gradients; each update is one fused loop over
//! the parameter, its gradient and its state, for `f32` and `f64` parameters alike.
#![warn(missing_docs)]

mod adagrad;
mod adam;
mod adamw;
mod clip;
mod core;
mod error;
mod optimizer;
mod plateau;
mod rmsprop;
mod scheduler;
mod sgd;
mod state;

pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig};
pub use adamw::{AdamW, AdamWConfig};
pub use clip::{clip_grad_norm_, clip_grad_value_};
pub use error::OptimError;
pub use optimizer::Optimizer;
pub use plateau::{PlateauMode, ReduceLROnPlateau, ThresholdMode};
pub use rmsprop::{RMSprop, RMSpropConfig};
pub use scheduler::{CosineAnnealingLR, ExponentialLR, LrScheduler, SchedulerState, StepLR};
pub use sgd::{SgdConfig, SGD};
pub use state::{OptimizerConfig, OptimizerState, ParamState};
