//! Stateless forms of layers and the losses (`torch.nn.functional`).
mod activation;
mod dropout;
mod embedding;
mod linear;
mod loss;
mod rnn;
mod saved;

pub use activation::*;
pub(crate) use dropout::check_probability;
pub use dropout::dropout;
pub use embedding::embedding;
pub use linear::linear;
pub use loss::*;
pub use rnn::{gru, lstm, rnn};
pub(crate) use saved::Saved;
