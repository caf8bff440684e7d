//! Stateless forms of layers and the losses (`torch.nn.functional`).
mod activation;
mod batch_norm;
mod conv;
mod dropout;
mod embedding;
mod linear;
mod loss;
mod rnn;
mod saved;

pub use activation::*;
pub use batch_norm::{batch_norm, RunningStats};
pub(crate) use conv::single_number;
pub use conv::{adaptive_avg_pool2d, avg_pool2d, conv1d, conv2d, max_pool2d, IntoPair, Padding};
pub(crate) use dropout::check_probability;
pub use dropout::dropout;
pub use embedding::embedding;
pub use linear::linear;
pub use loss::*;
pub use rnn::{gru, lstm, rnn};
pub(crate) use saved::Saved;
