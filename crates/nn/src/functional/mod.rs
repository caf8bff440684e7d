//! Stateless forms of layers and the losses (`torch.nn.functional`).
mod activation;
mod dropout;
mod linear;
mod loss;

pub use activation::*;
pub(crate) use dropout::check_probability;
pub use dropout::dropout;
pub use linear::linear;
pub use loss::*;
