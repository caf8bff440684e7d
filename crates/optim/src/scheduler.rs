//! Learning-rate schedulers driven by the epoch count: StepLR, ExponentialLR and
//! CosineAnnealingLR, plus the `LrScheduler` trait and the serialisable `SchedulerState`.
//!
//! Each computes the next rate from the optimizer's *current* rate with PyTorch's
//! recursive formulas (`get_lr`), not the closed forms, so the values match PyTorch's to
//! the last bit and schedulers compose when several drive one optimizer.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::error::check;
use crate::{OptimError, Optimizer, ReduceLROnPlateau};

/// Adjusts an optimizer's learning rate once per epoch (PyTorch's `LRScheduler`).
///
/// A scheduler does not hold its optimizer (that would lock it for the whole loop); it
/// reads the starting rate at construction and is handed the optimizer at each `step`.
/// [`ReduceLROnPlateau`] is driven by a metric instead and has its own `step`.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_optim::{LrScheduler, Optimizer, StepLR, SGD};
///
/// let w = Tensor::from_vec(vec![1.0f32], &[1]).requires_grad_(true);
/// let mut opt = SGD::new(vec![w.clone()], 0.1);
/// let mut sched = StepLR::new(&opt, 2, 0.5);
/// let mut lrs = vec![];
/// for _epoch in 0..5 {
///     // ... train: opt.zero_grad(); loss.backward(); opt.step(); ...
///     sched.step(&mut opt);
///     lrs.push(sched.get_last_lr());
/// }
/// assert_eq!(lrs, [0.1, 0.05, 0.05, 0.025, 0.025]);
/// assert_eq!(opt.lr(), 0.025);
/// ```
pub trait LrScheduler {
    /// Ends an epoch: advances the epoch count and writes the new rate into `opt`.
    /// Call it after the epoch's `opt.step()` calls, as in PyTorch.
    fn step(&mut self, opt: &mut dyn Optimizer);

    /// The rate set by the last `step` (the optimizer's rate at construction before any).
    fn get_last_lr(&self) -> f64;

    /// A snapshot of the scheduler (hyperparameters, epoch count, last rate).
    fn state_dict(&self) -> SchedulerState;

    /// Restores a snapshot of the same kind of scheduler. On error nothing is changed.
    fn load_state_dict(&mut self, state: &SchedulerState) -> Result<(), OptimError>;
}

/// The serialisable state of any scheduler, as returned by `state_dict`.
///
/// [`ReduceLROnPlateau`] keeps an infinite `best` until its first step, which JSON cannot
/// represent; use a binary format such as bincode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SchedulerState {
    /// A [`StepLR`].
    StepLR(StepLR),
    /// An [`ExponentialLR`].
    ExponentialLR(ExponentialLR),
    /// A [`CosineAnnealingLR`].
    CosineAnnealingLR(CosineAnnealingLR),
    /// A [`ReduceLROnPlateau`].
    ReduceLROnPlateau(ReduceLROnPlateau),
}

impl SchedulerState {
    /// The error for loading this state into a scheduler of kind `expected`.
    pub(crate) fn wrong_kind(&self, expected: &'static str) -> OptimError {
        let found = match self {
            SchedulerState::StepLR(_) => "StepLR",
            SchedulerState::ExponentialLR(_) => "ExponentialLR",
            SchedulerState::CosineAnnealingLR(_) => "CosineAnnealingLR",
            SchedulerState::ReduceLROnPlateau(_) => "ReduceLROnPlateau",
        };
        OptimError::WrongKind { expected, found }
    }
}

/// Multiplies the learning rate by `gamma` every `step_size` epochs (`torch.optim.lr_scheduler.StepLR`).
///
/// ```text
/// η_e = η_{e−1} · γ   if e mod step_size = 0
/// η_e = η_{e−1}       otherwise
/// ```
/// that is, `η_e = η₀ · γ^⌊e / step_size⌋` when nothing else changes the rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepLR {
    step_size: usize,
    gamma: f64,
    last_epoch: u64,
    last_lr: f64,
}

impl StepLR {
    /// Decays `opt`'s rate by `gamma` every `step_size` epochs (PyTorch's default gamma is 0.1).
    ///
    /// # Panics
    /// If `step_size` is 0 or `gamma` is negative.
    #[track_caller]
    pub fn new(opt: &dyn Optimizer, step_size: usize, gamma: f64) -> Self {
        let s = StepLR { step_size, gamma, last_epoch: 0, last_lr: opt.lr() };
        s.validate().unwrap_or_else(|e| panic!("{e}"));
        s
    }

    fn validate(&self) -> Result<(), OptimError> {
        check(self.step_size > 0, "StepLR", "step_size value", self.step_size as f64, "> 0")?;
        check(self.gamma >= 0.0, "StepLR", "gamma value", self.gamma, ">= 0")
    }
}

impl LrScheduler for StepLR {
    fn step(&mut self, opt: &mut dyn Optimizer) {
        self.last_epoch += 1;
        let lr = opt.lr();
        let lr = if self.last_epoch.is_multiple_of(self.step_size as u64) { lr * self.gamma } else { lr };
        opt.set_lr(lr);
        self.last_lr = lr;
    }

    fn get_last_lr(&self) -> f64 {
        self.last_lr
    }

    fn state_dict(&self) -> SchedulerState {
        SchedulerState::StepLR(self.clone())
    }

    fn load_state_dict(&mut self, state: &SchedulerState) -> Result<(), OptimError> {
        let SchedulerState::StepLR(s) = state else { return Err(state.wrong_kind("StepLR")) };
        s.validate()?;
        *self = s.clone();
        Ok(())
    }
}

/// Multiplies the learning rate by `gamma` every epoch (`torch.optim.lr_scheduler.ExponentialLR`).
///
/// ```text
/// η_e = η_{e−1} · γ
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExponentialLR {
    gamma: f64,
    last_epoch: u64,
    last_lr: f64,
}

impl ExponentialLR {
    /// Decays `opt`'s rate by `gamma` each epoch.
    ///
    /// # Panics
    /// If `gamma` is negative.
    #[track_caller]
    pub fn new(opt: &dyn Optimizer, gamma: f64) -> Self {
        let s = ExponentialLR { gamma, last_epoch: 0, last_lr: opt.lr() };
        s.validate().unwrap_or_else(|e| panic!("{e}"));
        s
    }

    fn validate(&self) -> Result<(), OptimError> {
        check(self.gamma >= 0.0, "ExponentialLR", "gamma value", self.gamma, ">= 0")
    }
}

impl LrScheduler for ExponentialLR {
    fn step(&mut self, opt: &mut dyn Optimizer) {
        self.last_epoch += 1;
        let lr = opt.lr() * self.gamma;
        opt.set_lr(lr);
        self.last_lr = lr;
    }

    fn get_last_lr(&self) -> f64 {
        self.last_lr
    }

    fn state_dict(&self) -> SchedulerState {
        SchedulerState::ExponentialLR(self.clone())
    }

    fn load_state_dict(&mut self, state: &SchedulerState) -> Result<(), OptimError> {
        let SchedulerState::ExponentialLR(s) = state else { return Err(state.wrong_kind("ExponentialLR")) };
        s.validate()?;
        *self = s.clone();
        Ok(())
    }
}

/// Anneals the learning rate along a cosine from its initial value η_max down to
/// `eta_min` over `t_max` epochs, then back up, and so on
/// (`torch.optim.lr_scheduler.CosineAnnealingLR`, from "SGDR: Stochastic Gradient Descent
/// with Warm Restarts" without the restarts).
///
/// PyTorch's recursive form, used here:
/// ```text
/// η_e = η_{e−1} + (η_max − η_min) (1 − cos(π / T_max)) / 2          if (e − 1 − T_max) mod 2T_max = 0
/// η_e = (1 + cos(π e / T_max)) / (1 + cos(π (e − 1) / T_max)) (η_{e−1} − η_min) + η_min   otherwise
/// ```
/// which, when nothing else changes the rate, equals the closed form
/// `η_e = η_min + (η_max − η_min) (1 + cos(π e / T_max)) / 2`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CosineAnnealingLR {
    t_max: usize,
    eta_min: f64,
    base_lr: f64,
    last_epoch: u64,
    last_lr: f64,
}

impl CosineAnnealingLR {
    /// Anneals `opt`'s rate to 0 over `t_max` epochs; set the floor with [`CosineAnnealingLR::eta_min`].
    ///
    /// # Panics
    /// If `t_max` is 0.
    #[track_caller]
    pub fn new(opt: &dyn Optimizer, t_max: usize) -> Self {
        let s = CosineAnnealingLR { t_max, eta_min: 0.0, base_lr: opt.lr(), last_epoch: 0, last_lr: opt.lr() };
        s.validate().unwrap_or_else(|e| panic!("{e}"));
        s
    }

    /// Sets the minimum rate η_min (default 0).
    ///
    /// # Panics
    /// If it is negative.
    #[track_caller]
    pub fn eta_min(mut self, eta_min: f64) -> Self {
        self.eta_min = eta_min;
        self.validate().unwrap_or_else(|e| panic!("{e}"));
        self
    }

    fn validate(&self) -> Result<(), OptimError> {
        check(self.t_max > 0, "CosineAnnealingLR", "T_max value", self.t_max as f64, "> 0")?;
        check(self.eta_min >= 0.0, "CosineAnnealingLR", "eta_min value", self.eta_min, ">= 0")
    }
}

impl LrScheduler for CosineAnnealingLR {
    fn step(&mut self, opt: &mut dyn Optimizer) {
        self.last_epoch += 1;
        let (lr, eta_min) = (opt.lr(), self.eta_min);
        let (e, t_max) = (self.last_epoch as f64, self.t_max as f64);
        // (e − 1 − T_max) mod 2T_max = 0, kept in unsigned arithmetic.
        let lr = if (self.last_epoch - 1) % (2 * self.t_max as u64) == self.t_max as u64 {
            lr + (self.base_lr - eta_min) * (1.0 - (PI / t_max).cos()) / 2.0
        } else {
            (1.0 + (PI * e / t_max).cos()) / (1.0 + (PI * (e - 1.0) / t_max).cos()) * (lr - eta_min) + eta_min
        };
        opt.set_lr(lr);
        self.last_lr = lr;
    }

    fn get_last_lr(&self) -> f64 {
        self.last_lr
    }

    fn state_dict(&self) -> SchedulerState {
        SchedulerState::CosineAnnealingLR(self.clone())
    }

    fn load_state_dict(&mut self, state: &SchedulerState) -> Result<(), OptimError> {
        let SchedulerState::CosineAnnealingLR(s) = state else { return Err(state.wrong_kind("CosineAnnealingLR")) };
        s.validate()?;
        *self = s.clone();
        Ok(())
    }
}
