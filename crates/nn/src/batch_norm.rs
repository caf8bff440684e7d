//! `BatchNorm1d` / `BatchNorm2d`: per-channel normalisation with learned scale and
//! shift and running statistics for evaluation.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use nabla_autograd::{no_grad, DType, Tensor};

use crate::functional::{self, RunningStats};
use crate::module::{Forward, Module, Visitor};

/// The options of a batch-norm layer, with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormOptions {
    /// Added to the variance for numerical stability (default `1e-5`).
    pub eps: f64,
    /// Weight of the newest batch in the running statistics (default `Some(0.1)`);
    /// `None` makes them the cumulative average over all batches so far.
    pub momentum: Option<f64>,
    /// Whether the layer has a learned per-channel `weight` and `bias` (default true).
    pub affine: bool,
    /// Whether the layer keeps running statistics for evaluation (default true); without
    /// them it normalises with the batch's statistics in evaluation too.
    pub track_running_stats: bool,
}

impl Default for BatchNormOptions {
    fn default() -> Self {
        BatchNormOptions { eps: 1e-5, momentum: Some(0.1), affine: true, track_running_stats: true }
    }
}

/// Normalises each channel over the batch (and, for 2-d, over height and width), then
/// scales and shifts it (`torch.nn.BatchNorm1d` / `BatchNorm2d`); the const parameter is
/// the number of spatial dims the layer is for, so use the aliases [`BatchNorm1d`] and
/// [`BatchNorm2d`].
///
/// In training mode a forward pass normalises with the batch's mean and biased variance
/// and updates the running statistics with the *unbiased* variance; in evaluation mode
/// (`model.eval()`) it normalises with the running statistics.
///
/// # Args
/// - `num_features`: the number of channels `C`
/// - [`BatchNormOptions`]: `eps`, `momentum`, `affine`, `track_running_stats`
///
/// # State
/// Parameters `weight` (ones) and `bias` (zeros), `[C]`, when affine; buffers
/// `running_mean` (zeros), `running_var` (ones), `[C]`, and `num_batches_tracked` (`i64`
/// scalar) when tracking running statistics: the names of a PyTorch state dict.
///
/// # Shape
/// - `BatchNorm1d`: input `[N, C]` or `[N, C, L]`; `BatchNorm2d`: input `[N, C, H, W]`
/// - output: the same shape
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{BatchNorm2d, Forward, ModuleExt};
/// let bn = BatchNorm2d::new(3);
/// let y = bn.forward(&Tensor::randn(&[4, 3, 5, 5]));
/// assert_eq!(y.shape(), vec![4, 3, 5, 5]);
/// let names: Vec<String> = bn.state_dict().into_keys().collect(); // sorted
/// assert_eq!(names, ["bias", "num_batches_tracked", "running_mean", "running_var", "weight"]);
/// bn.eval(); // now normalises with running_mean and running_var
/// ```
pub struct BatchNorm<const SPATIAL_DIMS: usize> {
    /// `[C]` scale, when affine.
    pub weight: Option<Tensor>,
    /// `[C]` shift, when affine.
    pub bias: Option<Tensor>,
    /// `[C]` running mean, when tracking running statistics.
    pub running_mean: Option<Tensor>,
    /// `[C]` running variance, when tracking running statistics.
    pub running_var: Option<Tensor>,
    /// The number of training batches seen (`i64` scalar), when tracking.
    pub num_batches_tracked: Option<Tensor>,
    num_features: usize,
    options: BatchNormOptions,
    training: AtomicBool,
}

/// Batch normalisation of `[N, C]` or `[N, C, L]` inputs (`torch.nn.BatchNorm1d`).
pub type BatchNorm1d = BatchNorm<1>;
/// Batch normalisation of `[N, C, H, W]` inputs (`torch.nn.BatchNorm2d`).
pub type BatchNorm2d = BatchNorm<2>;

impl<const SPATIAL_DIMS: usize> BatchNorm<SPATIAL_DIMS> {
    /// A layer for `num_features` channels with the default options
    /// (`nn.BatchNorm2d(num_features)`).
    pub fn new(num_features: usize) -> Self {
        Self::with_options(num_features, BatchNormOptions::default())
    }

    /// A layer with explicit options
    /// (`nn.BatchNorm2d(num_features, eps, momentum, affine, track_running_stats)`).
    ///
    /// # Panics
    /// If `eps` is negative or `momentum` is outside `[0, 1]`.
    #[track_caller]
    pub fn with_options(num_features: usize, options: BatchNormOptions) -> Self {
        assert!(options.eps >= 0.0, "{}: eps {} must be >= 0", Self::NAME, options.eps);
        if let Some(m) = options.momentum {
            assert!((0.0..=1.0).contains(&m), "{}: momentum {m} must be in [0, 1]", Self::NAME);
        }
        let filled = |value: f64| Tensor::full(&[num_features], value);
        let tracking = options.track_running_stats;
        BatchNorm {
            weight: options.affine.then(|| filled(1.0).requires_grad_(true)),
            bias: options.affine.then(|| filled(0.0).requires_grad_(true)),
            running_mean: tracking.then(|| filled(0.0)),
            running_var: tracking.then(|| filled(1.0)),
            num_batches_tracked: tracking.then(|| Tensor::zeros(&[]).to_dtype(DType::I64)),
            num_features,
            options,
            training: AtomicBool::new(true),
        }
    }

    const NAME: &'static str = if SPATIAL_DIMS == 1 { "BatchNorm1d" } else { "BatchNorm2d" };

    /// The number of channels.
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// The options the layer was built with.
    pub fn options(&self) -> BatchNormOptions {
        self.options
    }

    /// True in training mode (`module.training`).
    pub fn is_training(&self) -> bool {
        self.training.load(Ordering::Relaxed)
    }

    /// The momentum of this training step: the fixed one, or `1 / batches seen` for
    /// the cumulative average (after counting this batch).
    fn step_momentum(&self) -> f64 {
        let Some(count) = &self.num_batches_tracked else { return 0.0 };
        let seen = {
            let _guard = no_grad();
            count.fill_(count.item() + 1.0);
            count.item()
        };
        self.options.momentum.unwrap_or(1.0 / seen)
    }
}

impl<const SPATIAL_DIMS: usize> Module for BatchNorm<SPATIAL_DIMS> {
    fn visit(&self, v: &mut dyn Visitor) {
        let params = [("weight", &self.weight), ("bias", &self.bias)];
        for (name, t) in params.into_iter().filter_map(|(n, t)| Some((n, t.as_ref()?))) {
            v.param(name, t);
        }
        let buffers = [
            ("running_mean", &self.running_mean),
            ("running_var", &self.running_var),
            ("num_batches_tracked", &self.num_batches_tracked),
        ];
        for (name, t) in buffers.into_iter().filter_map(|(n, t)| Some((n, t.as_ref()?))) {
            v.buffer(name, t);
        }
    }

    fn set_training(&self, on: bool) {
        self.training.store(on, Ordering::Relaxed);
    }
}

impl<const SPATIAL_DIMS: usize> Forward for BatchNorm<SPATIAL_DIMS> {
    #[track_caller]
    fn forward(&self, x: &Tensor) -> Tensor {
        let ranks: &[usize] = if SPATIAL_DIMS == 1 { &[2, 3] } else { &[SPATIAL_DIMS + 2] };
        let shape = x.shape();
        assert!(ranks.contains(&shape.len()), "{}: expected a {ranks:?}-D input, got shape {shape:?}", Self::NAME);
        assert!(
            shape[1] == self.num_features,
            "{}: input {shape:?} has {} channels (dim 1), expected {}",
            Self::NAME,
            shape[1],
            self.num_features
        );
        let running = match (&self.running_mean, &self.running_var) {
            (Some(mean), Some(var)) => Some(RunningStats { mean, var }),
            _ => None,
        };
        let training = self.is_training();
        let momentum = if training && running.is_some() { self.step_momentum() } else { 0.0 };
        functional::batch_norm(
            x,
            running,
            self.weight.as_ref(),
            self.bias.as_ref(),
            training,
            momentum,
            self.options.eps,
        )
    }
}

impl<const SPATIAL_DIMS: usize> fmt::Debug for BatchNorm<SPATIAL_DIMS> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let BatchNormOptions { eps, momentum, affine, track_running_stats } = self.options;
        write!(
            f,
            "{}({}, eps={eps}, momentum={momentum:?}, affine={affine}, track_running_stats={track_running_stats})",
            Self::NAME,
            self.num_features
        )
    }
}
