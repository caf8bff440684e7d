//! RMSprop, optionally centered and with momentum.

use nabla_tensor::FloatElement;
use serde::{Deserialize, Serialize};

use crate::core::{impl_optimizer, lerp, Buffers, Core, Rule};
use crate::error::check;
use crate::{OptimError, OptimizerConfig};

/// Hyperparameters of [`RMSprop`]; `Default` gives PyTorch's defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RMSpropConfig {
    /// Learning rate γ (default 1e-2). Must be >= 0.
    pub lr: f64,
    /// Smoothing constant α of the running average of the squared gradient (default 0.99).
    /// Must be >= 0.
    pub alpha: f64,
    /// Term ε added to the denominator for numerical stability (default 1e-8). Must be >= 0.
    pub eps: f64,
    /// Weight decay λ, an L2 penalty (default 0). Must be >= 0.
    pub weight_decay: f64,
    /// Momentum factor μ (default 0). Must be >= 0.
    pub momentum: f64,
    /// Normalise by an estimate of the gradient's variance instead of its second moment
    /// (default false).
    pub centered: bool,
}

impl Default for RMSpropConfig {
    fn default() -> Self {
        RMSpropConfig { lr: 1e-2, alpha: 0.99, eps: 1e-8, weight_decay: 0.0, momentum: 0.0, centered: false }
    }
}

/// The RMSprop algorithm (`torch.optim.RMSprop`), as proposed by G. Hinton.
///
/// ```text
/// input: α (alpha), γ (lr), θ₀ (params), f(θ) (objective), λ (weight decay),
///        μ (momentum), ε (epsilon), centered
/// initialize: v₀ ← 0 (square average), b₀ ← 0 (buffer), g₀^ave ← 0
/// for t = 1, 2, ...
///     g_t ← ∇θ f_t(θ_{t−1})
///     if λ ≠ 0:   g_t ← g_t + λ θ_{t−1}
///     v_t ← α v_{t−1} + (1 − α) g_t²
///     ṽ_t ← v_t
///     if centered:
///         g_t^ave ← α g_{t−1}^ave + (1 − α) g_t
///         ṽ_t ← ṽ_t − (g_t^ave)²
///     if μ > 0:
///         b_t ← μ b_{t−1} + g_t / (√ṽ_t + ε)
///         θ_t ← θ_{t−1} − γ b_t
///     else:
///         θ_t ← θ_{t−1} − γ g_t / (√ṽ_t + ε)
/// ```
///
/// State per parameter: `"square_avg"` (v), `"momentum_buffer"` (b) when μ > 0 and
/// `"grad_avg"` (g^ave) when centered.
///
/// `RMSprop::new(params, 1e-2).momentum(0.9).centered(true)`, or [`RMSprop::try_new`].
pub struct RMSprop {
    core: Core<RMSpropConfig>,
}

impl RMSprop {
    /// Sets the smoothing constant α.
    ///
    /// # Panics
    /// If it is negative.
    #[track_caller]
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.core.configure(|c| c.alpha = alpha);
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

    /// Sets the weight decay λ.
    ///
    /// # Panics
    /// If it is negative.
    #[track_caller]
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.core.configure(|c| c.weight_decay = weight_decay);
        self
    }

    /// Sets the momentum factor μ.
    ///
    /// # Panics
    /// If it is negative, or turns momentum on or off after the first step.
    #[track_caller]
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.core.configure(|c| c.momentum = momentum);
        self
    }

    /// Turns the centered variant on or off.
    ///
    /// # Panics
    /// If the optimizer has already taken a step.
    #[track_caller]
    pub fn centered(mut self, centered: bool) -> Self {
        self.core.configure(|c| c.centered = centered);
        self
    }

    /// The current hyperparameters.
    pub fn config(&self) -> &RMSpropConfig {
        &self.core.rule
    }
}

impl_optimizer!(RMSprop, RMSpropConfig);

impl Rule for RMSpropConfig {
    fn name(&self) -> &'static str {
        "RMSprop"
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn lr_mut(&mut self) -> &mut f64 {
        &mut self.lr
    }

    fn validate(&self) -> Result<(), OptimError> {
        check(self.lr >= 0.0, "RMSprop", "learning rate", self.lr, ">= 0")?;
        check(self.eps >= 0.0, "RMSprop", "epsilon value", self.eps, ">= 0")?;
        check(self.momentum >= 0.0, "RMSprop", "momentum value", self.momentum, ">= 0")?;
        check(self.weight_decay >= 0.0, "RMSprop", "weight_decay value", self.weight_decay, ">= 0")?;
        check(self.alpha >= 0.0, "RMSprop", "alpha value", self.alpha, ">= 0")
    }

    fn buffers(&self) -> &'static [&'static str] {
        match (self.momentum > 0.0, self.centered) {
            (false, false) => &["square_avg"],
            (true, false) => &["square_avg", "momentum_buffer"],
            (false, true) => &["square_avg", "grad_avg"],
            (true, true) => &["square_avg", "momentum_buffer", "grad_avg"],
        }
    }

    fn update<T: FloatElement>(&self, _step: u64, param: &mut [T], grad: &[T], mut bufs: Buffers<'_, T>) {
        let square_avg = bufs.take();
        let mut momentum_buffer = bufs.take_if(self.momentum > 0.0);
        let mut grad_avg = bufs.take_if(self.centered);
        let (alpha, one_minus_alpha) = (T::from_f64(self.alpha), T::from_f64(1.0 - self.alpha));
        let (weight_decay, momentum) = (T::from_f64(self.weight_decay), T::from_f64(self.momentum));
        let (eps, neg_lr) = (T::from_f64(self.eps), T::from_f64(-self.lr));
        for (i, p) in param.iter_mut().enumerate() {
            let mut g = grad[i];
            if self.weight_decay != 0.0 {
                g += weight_decay * *p;
            }
            square_avg[i] = square_avg[i] * alpha + one_minus_alpha * g * g;
            let avg = match grad_avg.as_deref_mut() {
                Some(ave) => {
                    ave[i] = lerp(ave[i], g, one_minus_alpha);
                    (square_avg[i] - ave[i] * ave[i]).sqrt()
                }
                None => square_avg[i].sqrt(),
            } + eps;
            match momentum_buffer.as_deref_mut() {
                Some(buf) => {
                    buf[i] = buf[i] * momentum + g / avg;
                    *p += neg_lr * buf[i];
                }
                None => *p += neg_lr * g / avg,
            }
        }
    }

    fn to_config(&self) -> OptimizerConfig {
        OptimizerConfig::RMSprop(self.clone())
    }

    fn from_config(config: &OptimizerConfig) -> Option<Self> {
        match config {
            OptimizerConfig::RMSprop(c) => Some(c.clone()),
            _ => None,
        }
    }
}
