//! AdamW: Adam with decoupled weight decay, with its own defaults.

use nabla_autograd::Tensor;
use serde::{Deserialize, Serialize};

use crate::{Adam, AdamConfig, OptimError, Optimizer, OptimizerConfig, OptimizerState};

/// Hyperparameters of [`AdamW`]; `Default` gives PyTorch's defaults, which differ from
/// Adam's in the weight decay (1e-2, not 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdamWConfig {
    /// Learning rate γ (default 1e-3). Must be >= 0.
    pub lr: f64,
    /// Coefficients (β₁, β₂) (default (0.9, 0.999)). Each must be in [0, 1).
    pub betas: (f64, f64),
    /// Term ε added to the denominator (default 1e-8). Must be >= 0.
    pub eps: f64,
    /// Decoupled weight decay λ (default 1e-2). Must be >= 0.
    pub weight_decay: f64,
    /// Use the AMSGrad variant (default false).
    pub amsgrad: bool,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig { lr: 1e-3, betas: (0.9, 0.999), eps: 1e-8, weight_decay: 1e-2, amsgrad: false }
    }
}

/// The AdamW algorithm (`torch.optim.AdamW`), from "Decoupled Weight Decay Regularization":
/// Adam whose weight decay shrinks the weights directly instead of entering the moments.
///
/// ```text
/// input: γ (lr), β₁, β₂ (betas), θ₀ (params), f(θ) (objective), λ (weight decay),
///        ε (epsilon), amsgrad
/// initialize: m₀ ← 0, v₀ ← 0, v₀^max ← 0
/// for t = 1, 2, ...
///     g_t ← ∇θ f_t(θ_{t−1})
///     θ_t ← θ_{t−1} − γ λ θ_{t−1}
///     m_t ← β₁ m_{t−1} + (1 − β₁) g_t
///     v_t ← β₂ v_{t−1} + (1 − β₂) g_t²
///     m̂_t ← m_t / (1 − β₁^t)
///     if amsgrad:
///         v_t^max ← max(v_{t−1}^max, v_t)
///         v̂_t ← v_t^max / (1 − β₂^t)
///     else:
///         v̂_t ← v_t / (1 − β₂^t)
///     θ_t ← θ_t − γ m̂_t / (√v̂_t + ε)
/// ```
///
/// State per parameter: as [`Adam`]. Its state dict is an Adam state with
/// `decoupled_weight_decay` set, and loading any Adam state turns that flag on, as in PyTorch.
pub struct AdamW {
    adam: Adam,
}

impl AdamW {
    /// AdamW over `params` with learning rate `lr` and the other options at their defaults
    /// (weight decay 1e-2).
    ///
    /// # Panics
    /// If `lr` is negative ("AdamW: Invalid learning rate: -0.001 (expected >= 0)"), or
    /// `params` is empty, holds a non-leaf or a non-float tensor. See [`AdamW::try_new`].
    #[track_caller]
    pub fn new(params: impl IntoIterator<Item = Tensor>, lr: f64) -> Self {
        Self::try_new(params, AdamWConfig { lr, ..AdamWConfig::default() }).unwrap_or_else(|e| panic!("{e}"))
    }

    /// AdamW over `params` with `config`, or the reason it is invalid.
    pub fn try_new(params: impl IntoIterator<Item = Tensor>, config: AdamWConfig) -> Result<Self, OptimError> {
        let AdamWConfig { lr, betas, eps, weight_decay, amsgrad } = config;
        let config = AdamConfig { lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay: true };
        Ok(AdamW { adam: Adam::try_new(params, config)? })
    }

    /// Sets (β₁, β₂).
    ///
    /// # Panics
    /// If either is outside [0, 1).
    #[track_caller]
    pub fn betas(self, beta1: f64, beta2: f64) -> Self {
        AdamW { adam: self.adam.betas(beta1, beta2) }
    }

    /// Sets ε.
    ///
    /// # Panics
    /// If it is negative.
    #[track_caller]
    pub fn eps(self, eps: f64) -> Self {
        AdamW { adam: self.adam.eps(eps) }
    }

    /// Sets the weight decay λ.
    ///
    /// # Panics
    /// If it is negative.
    #[track_caller]
    pub fn weight_decay(self, weight_decay: f64) -> Self {
        AdamW { adam: self.adam.weight_decay(weight_decay) }
    }

    /// Turns AMSGrad on or off.
    ///
    /// # Panics
    /// If the optimizer has already taken a step.
    #[track_caller]
    pub fn amsgrad(self, amsgrad: bool) -> Self {
        AdamW { adam: self.adam.amsgrad(amsgrad) }
    }

    /// The current hyperparameters (as an Adam config with `decoupled_weight_decay` set).
    pub fn config(&self) -> &AdamConfig {
        self.adam.config()
    }
}

impl Optimizer for AdamW {
    fn params(&self) -> &[Tensor] {
        self.adam.params()
    }

    fn step(&mut self) {
        self.adam.step()
    }

    fn lr(&self) -> f64 {
        self.adam.lr()
    }

    #[track_caller]
    fn set_lr(&mut self, lr: f64) {
        self.adam.set_lr(lr)
    }

    fn state_dict(&self) -> OptimizerState {
        self.adam.state_dict()
    }

    fn load_state_dict(&mut self, state: &OptimizerState) -> Result<(), OptimError> {
        // PyTorch's AdamW.__setstate__ forces the flag, so old Adam-shaped states load as AdamW.
        let mut state = state.clone();
        if let OptimizerConfig::Adam(c) = &mut state.config {
            c.decoupled_weight_decay = true;
        }
        self.adam.load_state_dict(&state)
    }
}
