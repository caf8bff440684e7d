//! Adam, with optional AMSGrad and L2 or decoupled weight decay (the rule behind AdamW too).

use nabla_tensor::simd::with_simd;
use nabla_tensor::FloatElement;
use serde::{Deserialize, Serialize};

use crate::core::{impl_optimizer, lerp, Buffers, Core, Rule};
use crate::error::check;
use crate::{OptimError, OptimizerConfig};

/// Hyperparameters of [`Adam`]; `Default` gives PyTorch's defaults. ([`AdamW`](crate::AdamW)
/// is this rule with `decoupled_weight_decay` set; its defaults are [`AdamWConfig`](crate::AdamWConfig).)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    /// Learning rate γ (default 1e-3). Must be >= 0.
    pub lr: f64,
    /// Coefficients (β₁, β₂) of the running averages of the gradient and its square
    /// (default (0.9, 0.999)). Each must be in [0, 1).
    pub betas: (f64, f64),
    /// Term ε added to the denominator for numerical stability (default 1e-8). Must be >= 0.
    pub eps: f64,
    /// Weight decay λ (default 0). Must be >= 0.
    pub weight_decay: f64,
    /// Use the AMSGrad variant (default false).
    pub amsgrad: bool,
    /// Decay the weights directly (AdamW) instead of adding λθ to the gradient (default false).
    pub decoupled_weight_decay: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            decoupled_weight_decay: false,
        }
    }
}

/// The Adam algorithm (`torch.optim.Adam`), from "Adam: A Method for Stochastic Optimization".
///
/// ```text
/// input: γ (lr), β₁, β₂ (betas), θ₀ (params), f(θ) (objective), λ (weight decay),
///        ε (epsilon), amsgrad, decoupled_weight_decay
/// initialize: m₀ ← 0, v₀ ← 0, v₀^max ← 0
/// for t = 1, 2, ...
///     g_t ← ∇θ f_t(θ_{t−1})
///     if λ ≠ 0:
///         if decoupled_weight_decay: θ_{t−1} ← θ_{t−1} − γ λ θ_{t−1}
///         else:                      g_t ← g_t + λ θ_{t−1}
///     m_t ← β₁ m_{t−1} + (1 − β₁) g_t
///     v_t ← β₂ v_{t−1} + (1 − β₂) g_t²
///     m̂_t ← m_t / (1 − β₁^t)
///     if amsgrad:
///         v_t^max ← max(v_{t−1}^max, v_t)
///         v̂_t ← v_t^max / (1 − β₂^t)
///     else:
///         v̂_t ← v_t / (1 − β₂^t)
///     θ_t ← θ_{t−1} − γ m̂_t / (√v̂_t + ε)
/// ```
///
/// State per parameter: `"exp_avg"` (m), `"exp_avg_sq"` (v) and, with amsgrad,
/// `"max_exp_avg_sq"` (v^max).
///
/// `Adam::new(params, 1e-3).betas(0.9, 0.999).amsgrad(true)`, or [`Adam::try_new`] with an
/// [`AdamConfig`].
pub struct Adam {
    core: Core<AdamConfig>,
}

impl Adam {
    /// Sets (β₁, β₂).
    ///
    /// # Panics
    /// If either is outside [0, 1) ("Adam: Invalid beta parameter at index 1: 1 (expected in [0, 1))").
    #[track_caller]
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.core.configure(|c| c.betas = (beta1, beta2));
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

    /// Turns AMSGrad on or off.
    ///
    /// # Panics
    /// If the optimizer has already taken a step (the state it keeps would change).
    #[track_caller]
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.core.configure(|c| c.amsgrad = amsgrad);
        self
    }

    /// Decays weights directly instead of through the gradient; on, this is [`AdamW`](crate::AdamW).
    pub fn decoupled_weight_decay(mut self, decoupled: bool) -> Self {
        self.core.configure(|c| c.decoupled_weight_decay = decoupled);
        self
    }

    /// The current hyperparameters.
    pub fn config(&self) -> &AdamConfig {
        &self.core.rule
    }
}

impl_optimizer!(Adam, AdamConfig);

impl Rule for AdamConfig {
    fn name(&self) -> &'static str {
        if self.decoupled_weight_decay {
            "AdamW"
        } else {
            "Adam"
        }
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn lr_mut(&mut self) -> &mut f64 {
        &mut self.lr
    }

    fn validate(&self) -> Result<(), OptimError> {
        let name = self.name();
        let (beta1, beta2) = self.betas;
        check(self.lr >= 0.0, name, "learning rate", self.lr, ">= 0")?;
        check(self.eps >= 0.0, name, "epsilon value", self.eps, ">= 0")?;
        check((0.0..1.0).contains(&beta1), name, "beta parameter at index 0", beta1, "in [0, 1)")?;
        check((0.0..1.0).contains(&beta2), name, "beta parameter at index 1", beta2, "in [0, 1)")?;
        check(self.weight_decay >= 0.0, name, "weight_decay value", self.weight_decay, ">= 0")
    }

    fn buffers(&self) -> &'static [&'static str] {
        if self.amsgrad {
            &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        } else {
            &["exp_avg", "exp_avg_sq"]
        }
    }

    fn update<T: FloatElement>(&self, step: u64, param: &mut [T], grad: &[T], mut bufs: Buffers<'_, T>) {
        let (exp_avg, exp_avg_sq) = (bufs.take(), bufs.take());
        let mut max_exp_avg_sq = bufs.take_if(self.amsgrad);
        // Scalars in f64 first, in PyTorch's order, then once to T.
        let (beta1, beta2) = self.betas;
        let bias_correction1 = 1.0 - beta1.powf(step as f64);
        let bias_correction2 = 1.0 - beta2.powf(step as f64);
        let neg_step_size = T::from_f64(-(self.lr / bias_correction1));
        // PyTorch divides √v by √(1 − β₂^t); multiplying by the reciprocal differs by at
        // most an ulp of the denominator and spares a division per element, which made a
        // batch-1 step of the tutorial's MLP ~10% faster.
        let inv_bias_correction2_sqrt = T::from_f64(1.0 / bias_correction2.sqrt());
        let decay = T::from_f64(1.0 - self.lr * self.weight_decay);
        let weight_decay = T::from_f64(self.weight_decay);
        let (one_minus_beta1, one_minus_beta2) = (T::from_f64(1.0 - beta1), T::from_f64(1.0 - beta2));
        let (beta2, eps) = (T::from_f64(beta2), T::from_f64(self.eps));
        if self.weight_decay == 0.0 && max_exp_avg_sq.is_none() {
            // The common case as a branch-free loop the compiler vectorises; the same
            // operations in the same order as the general loop below, so bit-identical.
            // `lerp` picks its formula by the weight, a loop constant: choose it once, so
            // each loop body is branch-free; indexing over slices cut to one length lets
            // the compiler drop bounds checks and vectorise.
            let n = param.len();
            let (grad, m, v) = (&grad[..n], &mut exp_avg[..n], &mut exp_avg_sq[..n]);
            let w = one_minus_beta1;
            macro_rules! adam_loop {
                ($lerp:expr) => {
                    for i in 0..n {
                        let g = grad[i];
                        m[i] = $lerp(m[i], g);
                        v[i] = v[i] * beta2 + one_minus_beta2 * g * g;
                        let denom = v[i].sqrt() * inv_bias_correction2_sqrt + eps;
                        param[i] += neg_step_size * m[i] / denom;
                    }
                };
            }
            // With AVX2 the loop runs 8 lanes wide.
            with_simd(
                #[inline(always)]
                || {
                    if w.abs() < T::from_f64(0.5) {
                        adam_loop!(|m: T, g: T| m + w * (g - m));
                    } else {
                        adam_loop!(|m: T, g: T| g - (g - m) * (T::one() - w));
                    }
                },
            );
            return;
        }
        for (i, p) in param.iter_mut().enumerate() {
            let mut g = grad[i];
            if self.weight_decay != 0.0 {
                if self.decoupled_weight_decay {
                    *p = *p * decay;
                } else {
                    g += weight_decay * *p;
                }
            }
            exp_avg[i] = lerp(exp_avg[i], g, one_minus_beta1);
            exp_avg_sq[i] = exp_avg_sq[i] * beta2 + one_minus_beta2 * g * g;
            let v = match max_exp_avg_sq.as_deref_mut() {
                Some(max) => {
                    max[i] = max[i].max(exp_avg_sq[i]);
                    max[i]
                }
                None => exp_avg_sq[i],
            };
            let denom = v.sqrt() * inv_bias_correction2_sqrt + eps;
            *p += neg_step_size * exp_avg[i] / denom;
        }
    }

    fn to_config(&self) -> OptimizerConfig {
        OptimizerConfig::Adam(self.clone())
    }

    fn from_config(config: &OptimizerConfig) -> Option<Self> {
        match config {
            OptimizerConfig::Adam(c) => Some(c.clone()),
            _ => None,
        }
    }
}
