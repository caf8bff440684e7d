//! Activations as functions (`F.relu`, `F.softmax`, ...). Each is the `Tensor` method
//! of the same name; they exist here so code ported from PyTorch reads the same.

use nabla_autograd::Tensor;

/// `max(x, 0)` elementwise (`F.relu`).
pub fn relu(input: &Tensor) -> Tensor {
    input.relu()
}

/// `1 / (1 + e^-x)` elementwise (`F.sigmoid`).
pub fn sigmoid(input: &Tensor) -> Tensor {
    input.sigmoid()
}

/// Hyperbolic tangent elementwise (`F.tanh`).
pub fn tanh(input: &Tensor) -> Tensor {
    input.tanh()
}

/// `exp(x) / sum(exp(x))` along `dim` (`F.softmax(input, dim)`).
#[track_caller]
pub fn softmax(input: &Tensor, dim: isize) -> Tensor {
    input.softmax(dim)
}

/// `x - log(sum(exp(x)))` along `dim` (`F.log_softmax(input, dim)`), computed stably
/// in one fused op.
#[track_caller]
pub fn log_softmax(input: &Tensor, dim: isize) -> Tensor {
    input.log_softmax(dim)
}
