//! `Dropout`: random zeroing while training, the identity in evaluation.

use std::sync::atomic::{AtomicBool, Ordering};

use nabla_autograd::Tensor;

use crate::functional;
use crate::module::{Forward, Module, Visitor};

/// While training, zeroes each element with probability `p` and scales the others by
/// `1 / (1 - p)`; in evaluation mode, returns the input (`torch.nn.Dropout`).
///
/// A new layer is in training mode; `model.eval()` / `model.train()` switch it through
/// `&self`. The mask comes from the seeded generator (`manual_seed`).
///
/// # Args
/// - `p`: probability of an element to be zeroed, in `[0, 1]` (PyTorch's default 0.5
///   is [`Dropout::default`])
///
/// # Shape
/// - input: any shape
/// - output: the same shape
///
/// # Panics
/// `new` panics if `p` is outside `[0, 1]`.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{Dropout, Forward, ModuleExt};
/// let drop = Dropout::new(0.2);
/// let x = Tensor::ones(&[4, 5]);
/// drop.eval();
/// assert_eq!(drop.forward(&x).to_vec::<f32>(), x.to_vec::<f32>());
/// ```
#[derive(Debug)]
pub struct Dropout {
    p: f64,
    training: AtomicBool,
}

impl Dropout {
    /// A dropout layer zeroing with probability `p`, in training mode.
    #[track_caller]
    pub fn new(p: f64) -> Self {
        functional::check_probability(p);
        Dropout { p, training: AtomicBool::new(true) }
    }

    /// The probability of zeroing an element.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// True in training mode (`module.training`).
    pub fn is_training(&self) -> bool {
        self.training.load(Ordering::Relaxed)
    }
}

impl Default for Dropout {
    /// `p = 0.5`, PyTorch's default.
    fn default() -> Self {
        Dropout::new(0.5)
    }
}

impl Module for Dropout {
    fn visit(&self, _: &mut dyn Visitor) {}
    fn set_training(&self, on: bool) {
        self.training.store(on, Ordering::Relaxed);
    }
}

impl Forward for Dropout {
    fn forward(&self, x: &Tensor) -> Tensor {
        functional::dropout(x, self.p, self.is_training())
    }
}
