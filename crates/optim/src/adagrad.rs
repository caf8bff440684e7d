//! Adagrad: per-coordinate learning rates from the accumulated squared gradients.

use nabla_tensor::FloatElement;
use serde::{Deserialize, Serialize};

use crate::core::{impl_optimizer, Buffers, Core, Rule};
use crate::error::check;
use crate::{OptimError, OptimizerConfig};

/// Hyperparameters of [`Adagrad`]; `Default` gives PyTorch's defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdagradConfig {
    /// Learning rate γ (default 1e-2). Must be >= 0.
    pub lr: f64,
    /// Learning-rate decay η (default 0). Must be >= 0.
    pub lr_decay: f64,
    /// Weight decay λ, an L2 penalty (default 0). Must be >= 0.
    pub weight_decay: f64,
    /// Starting value τ of the accumulated squares (default 0). Must be >= 0.
    pub initial_accumulator_value: f64,
    /// Term ε added to the denominator for numerical stability (default 1e-10). Must be >= 0.
    pub eps: f64,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig { lr: 1e-2, lr_decay: 0.0, weight_decay: 0.0, initial_accumulator_value: 0.0, eps: 1e-10 }
    }
}

/// The Adagrad algorithm (`torch.optim.Adagrad`), from "Adaptive Subgradient Methods for
/// Online Learning and Stochastic Optimization".
///
/// ```text
/// input: γ (lr), θ₀ (params), f(θ) (objective), λ (weight decay),
///        τ (initial accumulator value), η (lr decay), ε (epsilon)
/// initialize: state_sum₀ ← τ
/// for t = 1, 2, ...
///     g_t ← ∇θ f_t(θ_{t−1})
///     γ̃ ← γ / (1 + (t − 1) η)
///     if λ ≠ 0:   g_t ← g_t + λ θ_{t−1}
///     state_sum_t ← state_sum_{t−1} + g_t²
///     θ_t ← θ_{t−1} − γ̃ g_t / (√state_sum_t + ε)
/// ```
///
/// State per parameter: `"sum"` (state_sum).
///
/// `Adagrad::new(params, 1e-2).lr_decay(1e-4)`, or [`Adagrad::try_new`].
pub struct Adagrad {
    core: Core<AdagradConfig>,
}

impl Adagrad {
    /// Sets the learning-rate decay η.
    ///
    /// # Panics
    /// If it is negative.
    #[track_caller]
    pub fn lr_decay(mut self, lr_decay: f64) -> Self {
        self.core.configure(|c| c.lr_decay = lr_decay);
        self
    }

    /// Sets the weight decay λ.
    ///
    /// # Panics
    /// If it is negative.
    #[track_caller]
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.core.configure(|c| c.weight_decay = weight_decay);
        self
    }

    /// Sets the starting value τ of the accumulated squares (used for parameters without
    /// state yet).
    ///
    /// # Panics
    /// If it is negative.
    #[track_caller]
    pub fn initial_accumulator_value(mut self, value: f64) -> Self {
        self.core.configure(|c| c.initial_accumulator_value = value);
        self
    }

    /// Sets ε.
    ///
    /// # Panics
    /// If it is negative.
    #[track_caller]
    pub fn eps(mut self, eps: f64) -> Self {
        self.core.configure(|c| c.eps = eps);
        self
    }

    /// The current hyperparameters.
    pub fn config(&self) -> &AdagradConfig {
        &self.core.rule
    }
}

impl_optimizer!(Adagrad, AdagradConfig);

impl Rule for AdagradConfig {
    fn name(&self) -> &'static str {
        "Adagrad"
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn lr_mut(&mut self) -> &mut f64 {
        &mut self.lr
    }

    fn validate(&self) -> Result<(), OptimError> {
        let (iav, name) = (self.initial_accumulator_value, "initial_accumulator_value value");
        check(self.lr >= 0.0, "Adagrad", "learning rate", self.lr, ">= 0")?;
        check(self.lr_decay >= 0.0, "Adagrad", "lr_decay value", self.lr_decay, ">= 0")?;
        check(self.weight_decay >= 0.0, "Adagrad", "weight_decay value", self.weight_decay, ">= 0")?;
        check(iav >= 0.0, "Adagrad", name, iav, ">= 0")?;
        check(self.eps >= 0.0, "Adagrad", "epsilon value", self.eps, ">= 0")
    }

    fn buffers(&self) -> &'static [&'static str] {
        &["sum"]
    }

    fn initial_value(&self) -> f64 {
        self.initial_accumulator_value
    }

    fn update<T: FloatElement>(&self, step: u64, param: &mut [T], grad: &[T], mut bufs: Buffers<'_, T>) {
        let sum = bufs.take();
        let clr = self.lr / (1.0 + (step - 1) as f64 * self.lr_decay);
        let (neg_clr, eps, weight_decay) = (T::from_f64(-clr), T::from_f64(self.eps), T::from_f64(self.weight_decay));
        for (i, p) in param.iter_mut().enumerate() {
            let mut g = grad[i];
            if self.weight_decay != 0.0 {
                g += weight_decay * *p;
            }
            sum[i] += g * g;
            *p += neg_clr * g / (sum[i].sqrt() + eps);
        }
    }

    fn to_config(&self) -> OptimizerConfig {
        OptimizerConfig::Adagrad(self.clone())
    }

    fn from_config(config: &OptimizerConfig) -> Option<Self> {
        match config {
            OptimizerConfig::Adagrad(c) => Some(c.clone()),
            _ => None,
        }
    }
}
