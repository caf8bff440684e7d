//! Stateless forms of layers and the losses (`torch.nn.functional`).
mod activation;
mod batch_norm;
mod dropout;
mod linear;
mod loss;

pub use activation::*;
pub use batch_norm::{batch_norm, RunningStats};
pub(crate) use dropout::check_probability;
pub use dropout::dropout;
pub use linear::linear;
pub use loss::*;
