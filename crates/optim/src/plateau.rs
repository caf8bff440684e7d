//! ReduceLROnPlateau: cut the learning rate when a monitored metric stops improving.

use serde::{Deserialize, Serialize};

use crate::error::check;
use crate::{OptimError, Optimizer, SchedulerState};

/// Whether the monitored metric should go down (a loss) or up (an accuracy).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlateauMode {
    /// Lower is better (PyTorch's `mode="min"`, the default).
    #[default]
    Min,
    /// Higher is better (`mode="max"`).
    Max,
}

/// How `threshold` measures a significant improvement over the best value so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThresholdMode {
    /// Relative: better than `best · (1 ∓ threshold)` (`threshold_mode="rel"`, the default).
    #[default]
    Rel,
    /// Absolute: better than `best ∓ threshold` (`threshold_mode="abs"`).
    Abs,
}

/// Reduces the learning rate when a metric has stopped improving
/// (`torch.optim.lr_scheduler.ReduceLROnPlateau`).
///
/// Each [`step`](ReduceLROnPlateau::step) takes the epoch's metric. An epoch is *bad* unless
/// the metric beats the best so far by the threshold:
/// ```text
/// min, rel: metric < best · (1 − threshold)      max, rel: metric > best · (1 + threshold)
/// min, abs: metric < best − threshold            max, abs: metric > best + threshold
/// ```
/// After more than `patience` bad epochs in a row the rate becomes
/// `max(lr · factor, min_lr)` (unless that changes it by no more than `eps`), and the
/// next `cooldown` epochs do not count as bad.
///
/// Defaults as PyTorch: mode min, factor 0.1, patience 10, threshold 1e-4 relative,
/// cooldown 0, min_lr 0, eps 1e-8.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_optim::{Optimizer, ReduceLROnPlateau, SGD};
///
/// let w = Tensor::from_vec(vec![1.0f32], &[1]).requires_grad_(true);
/// let mut opt = SGD::new(vec![w], 0.1);
/// let mut sched = ReduceLROnPlateau::new(&opt).factor(0.5).patience(1);
/// for val_loss in [1.0, 0.8, 0.8, 0.8] {
///     sched.step(val_loss, &mut opt);
/// }
/// assert_eq!(opt.lr(), 0.05); // two epochs without improvement
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReduceLROnPlateau {
    mode: PlateauMode,
    factor: f64,
    patience: usize,
    threshold: f64,
    threshold_mode: ThresholdMode,
    cooldown: usize,
    min_lr: f64,
    eps: f64,
    best: f64,
    num_bad_epochs: usize,
    cooldown_counter: usize,
    last_epoch: u64,
    last_lr: f64,
}

impl ReduceLROnPlateau {
    /// Watches a metric for `opt`, with PyTorch's defaults; adjust them with the builder options.
    pub fn new(opt: &dyn Optimizer) -> Self {
        ReduceLROnPlateau {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
            best: f64::INFINITY,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            last_epoch: 0,
            last_lr: opt.lr(),
        }
    }

    /// Whether lower or higher metrics are better (resets the best value seen).
    pub fn mode(mut self, mode: PlateauMode) -> Self {
        self.mode = mode;
        self.best = match mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        };
        self
    }

    /// The factor the rate is multiplied by on a plateau.
    ///
    /// # Panics
    /// If it is not below 1.
    #[track_caller]
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self.validated()
    }

    /// Bad epochs tolerated before the rate is reduced.
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// The margin by which the metric must beat the best value to count as an improvement.
    ///
    /// # Panics
    /// If it is negative.
    #[track_caller]
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self.validated()
    }

    /// Whether `threshold` is relative or absolute.
    pub fn threshold_mode(mut self, threshold_mode: ThresholdMode) -> Self {
        self.threshold_mode = threshold_mode;
        self
    }

    /// Epochs after a reduction during which bad epochs are not counted.
    pub fn cooldown(mut self, cooldown: usize) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The floor of the rate.
    ///
    /// # Panics
    /// If it is negative.
    #[track_caller]
    pub fn min_lr(mut self, min_lr: f64) -> Self {
        self.min_lr = min_lr;
        self.validated()
    }

    /// The smallest change of rate worth applying.
    ///
    /// # Panics
    /// If it is negative.
    #[track_caller]
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self.validated()
    }

    /// Ends an epoch whose monitored value was `metric`, reducing `opt`'s rate on a plateau.
    pub fn step(&mut self, metric: f64, opt: &mut dyn Optimizer) {
        self.last_epoch += 1;
        if self.is_better(metric) {
            self.best = metric;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.patience {
            let old = opt.lr();
            let new = (old * self.factor).max(self.min_lr);
            if old - new > self.eps {
                opt.set_lr(new);
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        self.last_lr = opt.lr();
    }

    /// The optimizer's rate after the last `step` (at construction before any).
    pub fn get_last_lr(&self) -> f64 {
        self.last_lr
    }

    /// A snapshot of the scheduler, including the best metric and the counters.
    pub fn state_dict(&self) -> SchedulerState {
        SchedulerState::ReduceLROnPlateau(self.clone())
    }

    /// Restores a snapshot taken by [`ReduceLROnPlateau::state_dict`]. On error nothing is changed.
    pub fn load_state_dict(&mut self, state: &SchedulerState) -> Result<(), OptimError> {
        let SchedulerState::ReduceLROnPlateau(s) = state else { return Err(state.wrong_kind("ReduceLROnPlateau")) };
        s.validate()?;
        *self = s.clone();
        Ok(())
    }

    fn is_better(&self, metric: f64) -> bool {
        let (best, threshold) = (self.best, self.threshold);
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => metric < best * (1.0 - threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => metric < best - threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => metric > best * (threshold + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => metric > best + threshold,
        }
    }

    #[track_caller]
    fn validated(self) -> Self {
        self.validate().unwrap_or_else(|e| panic!("{e}"));
        self
    }

    fn validate(&self) -> Result<(), OptimError> {
        check(self.factor < 1.0, "ReduceLROnPlateau", "factor value", self.factor, "< 1")?;
        check(self.threshold >= 0.0, "ReduceLROnPlateau", "threshold value", self.threshold, ">= 0")?;
        check(self.min_lr >= 0.0, "ReduceLROnPlateau", "min_lr value", self.min_lr, ">= 0")?;
        check(self.eps >= 0.0, "ReduceLROnPlateau", "eps value", self.eps, ">= 0")
    }
}
