//! Activation layers: ReLU, Sigmoid, Tanh, Softmax, LogSoftmax. They hold no tensors;
//! each forwards to the `Tensor` method of the same name.

use nabla_autograd::Tensor;

use crate::module::Forward;

/// `max(x, 0)` elementwise (`torch.nn.ReLU`).
///
/// # Shape
/// - input: any shape
/// - output: the same shape
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{Forward, ReLU};
/// let y = ReLU::new().forward(&Tensor::from_vec(vec![-1.0f32, 2.0], &[2]));
/// assert_eq!(y.to_vec::<f32>(), vec![0.0, 2.0]);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ReLU;

/// `1 / (1 + e^-x)` elementwise (`torch.nn.Sigmoid`).
///
/// # Shape
/// - input: any shape
/// - output: the same shape
#[derive(Clone, Copy, Debug, Default)]
pub struct Sigmoid;

/// Hyperbolic tangent elementwise (`torch.nn.Tanh`).
///
/// # Shape
/// - input: any shape
/// - output: the same shape
#[derive(Clone, Copy, Debug, Default)]
pub struct Tanh;

/// `exp(x) / sum(exp(x))` along a dim, so that slices along it sum to 1
/// (`torch.nn.Softmax`).
///
/// # Args
/// - `dim`: the dim along which the values sum to 1 (negative counts from the end).
///   PyTorch's implicit-dim form is deprecated, so the dim is required.
///
/// # Shape
/// - input: any shape with `dim`
/// - output: the same shape, values in `[0, 1]`
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{Forward, Softmax};
/// let p = Softmax::new(1).forward(&Tensor::randn(&[2, 3]));
/// let total: f32 = p.to_vec::<f32>()[..3].iter().sum();
/// assert!((total - 1.0).abs() < 1e-6);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Softmax {
    /// The dim along which the values sum to 1.
    pub dim: isize,
}

/// `x - log(sum(exp(x)))` along a dim, in one numerically stable op
/// (`torch.nn.LogSoftmax`); pair it with `nll_loss`.
///
/// # Args
/// - `dim`: the dim to normalise over (negative counts from the end)
///
/// # Shape
/// - input: any shape with `dim`
/// - output: the same shape, values in `(-inf, 0]`
#[derive(Clone, Copy, Debug)]
pub struct LogSoftmax {
    /// The dim to normalise over.
    pub dim: isize,
}

impl ReLU {
    /// The layer (`nn.ReLU()`).
    pub const fn new() -> Self {
        ReLU
    }
}

impl Sigmoid {
    /// The layer (`nn.Sigmoid()`).
    pub const fn new() -> Self {
        Sigmoid
    }
}

impl Tanh {
    /// The layer (`nn.Tanh()`).
    pub const fn new() -> Self {
        Tanh
    }
}

impl Softmax {
    /// Softmax over `dim` (`nn.Softmax(dim)`).
    pub const fn new(dim: isize) -> Self {
        Softmax { dim }
    }
}

impl LogSoftmax {
    /// Log-softmax over `dim` (`nn.LogSoftmax(dim)`).
    pub const fn new(dim: isize) -> Self {
        LogSoftmax { dim }
    }
}

stateless_module!(ReLU, Sigmoid, Tanh, Softmax, LogSoftmax);

impl Forward for ReLU {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.relu()
    }
}

impl Forward for Sigmoid {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.sigmoid()
    }
}

impl Forward for Tanh {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.tanh()
    }
}

impl Forward for Softmax {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.softmax(self.dim)
    }
}

impl Forward for LogSoftmax {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.log_softmax(self.dim)
    }
}
