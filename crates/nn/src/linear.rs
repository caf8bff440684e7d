//! `Linear`: a fully connected layer.

use std::fmt;

use nabla_autograd::Tensor;

use crate::functional;
use crate::init::{self, FanMode, Nonlinearity};
use crate::module::{Forward, Module, Visitor};

/// Applies `y = x W^T + b` (`torch.nn.Linear`).
///
/// # Args
/// - `in_features`: size of each input sample
/// - `out_features`: size of each output sample
/// - bias: [`Linear::new`] learns an additive bias; [`Linear::new_no_bias`] does not
///   (`bias=False`).
///
/// # Shape
/// - input: `[*, in_features]`, any number of leading dims
/// - output: `[*, out_features]`
///
/// # Variables
/// - `weight`: `[out_features, in_features]`, initialised from
///   `U(-1/sqrt(in_features), 1/sqrt(in_features))` (PyTorch's default:
///   `kaiming_uniform_` with `a = sqrt(5)`)
/// - `bias`: `[out_features]`, from the same distribution
///
/// Both are `f32` leaves that require grad. The fields are public, as in PyTorch
/// (`fc.weight`); a replacement must keep the shapes.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{Forward, Linear};
/// let fc = Linear::new(20, 30);
/// let y = fc.forward(&Tensor::randn(&[128, 20]));
/// assert_eq!(y.shape(), vec![128, 30]);
/// ```
pub struct Linear {
    /// `[out_features, in_features]`.
    pub weight: Tensor,
    /// `[out_features]`, or `None` for a layer without bias.
    pub bias: Option<Tensor>,
}

impl Linear {
    /// A layer with bias (`nn.Linear(in_features, out_features)`).
    pub fn new(in_features: usize, out_features: usize) -> Self {
        Self::with_bias(in_features, out_features, true)
    }

    /// A layer without bias (`nn.Linear(in_features, out_features, bias=False)`).
    pub fn new_no_bias(in_features: usize, out_features: usize) -> Self {
        Self::with_bias(in_features, out_features, false)
    }

    /// A layer with or without bias (`nn.Linear(in_features, out_features, bias=bias)`).
    pub fn with_bias(in_features: usize, out_features: usize, bias: bool) -> Self {
        let weight = Tensor::zeros(&[out_features, in_features]);
        init::kaiming_uniform_(&weight, 5f64.sqrt(), FanMode::FanIn, Nonlinearity::LeakyRelu);
        let bias = bias.then(|| {
            let b = Tensor::zeros(&[out_features]);
            let bound = if in_features > 0 { 1.0 / (in_features as f64).sqrt() } else { 0.0 };
            init::uniform_(&b, -bound, bound);
            b.requires_grad_(true)
        });
        Linear { weight: weight.requires_grad_(true), bias }
    }

    /// Size of each input sample.
    pub fn in_features(&self) -> usize {
        self.weight.size(1)
    }

    /// Size of each output sample.
    pub fn out_features(&self) -> usize {
        self.weight.size(0)
    }
}

impl Module for Linear {
    fn visit(&self, v: &mut dyn Visitor) {
        v.param("weight", &self.weight);
        if let Some(b) = &self.bias {
            v.param("bias", b);
        }
    }
}

impl Forward for Linear {
    fn forward(&self, x: &Tensor) -> Tensor {
        functional::linear(x, &self.weight, self.bias.as_ref())
    }
}

impl fmt::Debug for Linear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Linear(in_features={}, out_features={}, bias={})",
            self.in_features(),
            self.out_features(),
            self.bias.is_some()
        )
    }
}
