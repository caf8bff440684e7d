//! Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay.

use nabla_tensor::FloatElement;
use serde::{Deserialize, Serialize};

use crate::core::{impl_optimizer, Buffers, Core, Rule};
use crate::error::check;
use crate::{OptimError, OptimizerConfig};

/// Hyperparameters of [`SGD`]; `Default` gives PyTorch's defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SgdConfig {
    /// Learning rate γ (default 1e-3). Must be >= 0.
    pub lr: f64,
    /// Momentum factor μ (default 0). Must be >= 0.
    pub momentum: f64,
    /// Dampening τ for momentum (default 0).
    pub dampening: f64,
    /// Weight decay λ, an L2 penalty (default 0). Must be >= 0.
    pub weight_decay: f64,
    /// Nesterov momentum (default false); needs momentum > 0 and zero dampening.
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig { lr: 1e-3, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false }
    }
}

/// Stochastic gradient descent, optionally with momentum (`torch.optim.SGD`).
///
/// ```text
/// input: γ (lr), θ₀ (params), f(θ) (objective), λ (weight decay),
///        μ (momentum), τ (dampening), nesterov
/// for t = 1, 2, ...
///     g_t ← ∇θ f_t(θ_{t−1})
///     if λ ≠ 0:       g_t ← g_t + λ θ_{t−1}
///     if μ ≠ 0:
///         if t > 1:   b_t ← μ b_{t−1} + (1 − τ) g_t
///         else:       b_t ← g_t
///         if nesterov: g_t ← g_t + μ b_t
///         else:        g_t ← b_t
///     θ_t ← θ_{t−1} − γ g_t
/// ```
///
/// State per parameter: `"momentum_buffer"` (b) when μ ≠ 0.
///
/// Build with [`SGD::new`] and the builder options, or from a config with
/// [`SGD::try_new`]: `SGD::new(params, 0.1).momentum(0.9).nesterov(true).weight_decay(1e-4)`.
#[allow(clippy::upper_case_acronyms)] // torch.optim.SGD; users look for this name
pub struct SGD {
    core: Core<SgdConfig>,
}

impl SGD {
    /// Sets the momentum factor μ.
    ///
    /// # Panics
    /// If it is negative, or if it leaves `nesterov` without momentum.
    #[track_caller]
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.core.configure(|c| c.momentum = momentum);
        self
    }

    /// Sets the dampening τ.
    ///
    /// # Panics
    /// If it is nonzero while `nesterov` is on.
    #[track_caller]
    pub fn dampening(mut self, dampening: f64) -> Self {
        self.core.configure(|c| c.dampening = dampening);
        self
    }

    /// Turns Nesterov momentum on or off. Set `momentum` first.
    ///
    /// # Panics
    /// If turned on while momentum is zero or dampening nonzero.
    #[track_caller]
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.core.configure(|c| c.nesterov = nesterov);
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

    /// The current hyperparameters.
    pub fn config(&self) -> &SgdConfig {
        &self.core.rule
    }
}

impl_optimizer!(SGD, SgdConfig);

impl Rule for SgdConfig {
    fn name(&self) -> &'static str {
        "SGD"
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn lr_mut(&mut self) -> &mut f64 {
        &mut self.lr
    }

    fn validate(&self) -> Result<(), OptimError> {
        check(self.lr >= 0.0, "SGD", "learning rate", self.lr, ">= 0")?;
        check(self.momentum >= 0.0, "SGD", "momentum value", self.momentum, ">= 0")?;
        check(self.weight_decay >= 0.0, "SGD", "weight_decay value", self.weight_decay, ">= 0")?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(OptimError::NesterovRequiresMomentum { momentum: self.momentum, dampening: self.dampening });
        }
        Ok(())
    }

    fn buffers(&self) -> &'static [&'static str] {
        if self.momentum != 0.0 {
            &["momentum_buffer"]
        } else {
            &[]
        }
    }

    fn update<T: FloatElement>(&self, step: u64, param: &mut [T], grad: &[T], mut bufs: Buffers<'_, T>) {
        let mut momentum_buffer = bufs.take_if(self.momentum != 0.0);
        let neg_lr = T::from_f64(-self.lr);
        let weight_decay = T::from_f64(self.weight_decay);
        let momentum = T::from_f64(self.momentum);
        let keep = T::from_f64(1.0 - self.dampening);
        for (i, p) in param.iter_mut().enumerate() {
            let mut g = grad[i];
            if self.weight_decay != 0.0 {
                g += weight_decay * *p;
            }
            if let Some(buf) = momentum_buffer.as_deref_mut() {
                buf[i] = if step == 1 { g } else { buf[i] * momentum + keep * g };
                g = if self.nesterov { g + momentum * buf[i] } else { buf[i] };
            }
            *p += neg_lr * g;
        }
    }

    fn to_config(&self) -> OptimizerConfig {
        OptimizerConfig::Sgd(self.clone())
    }

    fn from_config(config: &OptimizerConfig) -> Option<Self> {
        match config {
            OptimizerConfig::Sgd(c) => Some(c.clone()),
            _ => None,
        }
    }
}
