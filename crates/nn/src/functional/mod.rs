//! Stateless forms of layers and the losses (`torch.nn.functional`).
mod loss;
pub use loss::*;
