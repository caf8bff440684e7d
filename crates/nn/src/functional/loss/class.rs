//! Losses over class indices: [`nll_loss`] on log-probabilities and [`cross_entropy`]
//! on logits, with class weights, `ignore_index` and label smoothing as in PyTorch.

use nabla_autograd::{DType, NdArray, Tensor};

use super::{expect_float, or_panic, position, LossError, Reduction};

/// PyTorch's default `ignore_index`.
const DEFAULT_IGNORE_INDEX: i64 = -100;

/// Options of [`nll_loss_with`] (the keyword arguments of `torch.nn.functional.nll_loss`).
/// `Default` gives PyTorch's defaults.
#[derive(Clone, Debug)]
pub struct NllLossOptions {
    /// A weight per class, shape `[C]` (`weight=`). Class weights are constants: as in
    /// PyTorch, no gradient flows to them.
    pub weight: Option<Tensor>,
    /// Targets equal to this contribute 0 to the loss and nothing to the mean's
    /// denominator (default `-100`). It may also be a valid class.
    pub ignore_index: i64,
    /// How to combine the per-target losses (default [`Reduction::Mean`]).
    pub reduction: Reduction,
}

impl Default for NllLossOptions {
    fn default() -> Self {
        NllLossOptions { weight: None, ignore_index: DEFAULT_IGNORE_INDEX, reduction: Reduction::Mean }
    }
}

/// Options of [`cross_entropy_with`] (the keyword arguments of
/// `torch.nn.functional.cross_entropy`). `Default` gives PyTorch's defaults.
#[derive(Clone, Debug)]
pub struct CrossEntropyOptions {
    /// A weight per class, shape `[C]` (`weight=`); constants, as in [`NllLossOptions`].
    pub weight: Option<Tensor>,
    /// Targets equal to this are skipped (default `-100`); see [`NllLossOptions`].
    pub ignore_index: i64,
    /// `ε` in `[0, 1]`: the target becomes `1 - ε` on the true class plus `ε / C` on
    /// every class (default `0`).
    pub label_smoothing: f64,
    /// How to combine the per-target losses (default [`Reduction::Mean`]).
    pub reduction: Reduction,
}

impl Default for CrossEntropyOptions {
    fn default() -> Self {
        CrossEntropyOptions {
            weight: None,
            ignore_index: DEFAULT_IGNORE_INDEX,
            label_smoothing: 0.0,
            reduction: Reduction::Mean,
        }
    }
}

/// The negative log-likelihood loss with PyTorch's defaults (`F.nll_loss(input, target)`);
/// see [`nll_loss_with`].
///
/// # Panics
/// On a bad target or shape; see [`try_nll_loss`].
#[track_caller]
pub fn nll_loss(input: &Tensor, target: &Tensor) -> Tensor {
    nll_loss_with(input, target, &NllLossOptions::default())
}

/// The negative log-likelihood loss of log-probabilities `input` for class indices
/// `target` (`torch.nn.functional.nll_loss`).
///
/// For targets `y_i`, class weights `w` (all 1 when not given) and `w_{y_i} = 0` where
/// `y_i = ignore_index`:
///
/// ```text
/// l_i  = -w_{y_i} · input[i, y_i]
/// mean = Σ_i l_i / Σ_i w_{y_i}      sum = Σ_i l_i      none = l (the target's shape)
/// ```
///
/// The mean divides by the total weight of the targets that count, so it is NaN when
/// every target is ignored, as in PyTorch.
///
/// # Shapes
/// - `input`: `[N, C]`, `[N, C, d1, ...]` (per-pixel classes), or `[C]` (one sample);
///   floating point, usually the output of `log_softmax(1)`.
/// - `target`: `i64` class indices shaped `[N]`, `[N, d1, ...]`, or `[]` respectively.
///
/// # Panics
/// If a target is outside `[0, C)` and not `ignore_index`, or on a shape or dtype
/// mismatch; see [`try_nll_loss`].
#[track_caller]
pub fn nll_loss_with(input: &Tensor, target: &Tensor, options: &NllLossOptions) -> Tensor {
    or_panic(try_nll_loss(input, target, options))
}

/// [`nll_loss_with`], returning an error instead of panicking on bad targets, shapes or
/// dtypes.
pub fn try_nll_loss(input: &Tensor, target: &Tensor, options: &NllLossOptions) -> Result<Tensor, LossError> {
    let targets = ClassTargets::new("nll_loss", input, target, options.weight.as_ref(), options.ignore_index)?;
    Ok(targets.reduce(targets.nll(input), options.reduction))
}

/// The cross-entropy loss with PyTorch's defaults (`F.cross_entropy(input, target)`);
/// see [`cross_entropy_with`].
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::functional::{cross_entropy, cross_entropy_with, CrossEntropyOptions, Reduction};
///
/// let logits = Tensor::from_vec(vec![2.0f64, 0.5, -1.0, 0.1, 1.5, 0.3], &[2, 3]).requires_grad_(true);
/// let targets = Tensor::from_vec(vec![0i64, 2], &[2]);
/// let loss = cross_entropy(&logits, &targets);
///
/// // The mean over samples of logsumexp(row) - row[target].
/// let lse = |r: &[f64]| r.iter().map(|v| v.exp()).sum::<f64>().ln();
/// let expected = ((lse(&[2.0, 0.5, -1.0]) - 2.0) + (lse(&[0.1, 1.5, 0.3]) - 0.3)) / 2.0;
/// assert!((loss.item() - expected).abs() < 1e-12);
///
/// // The gradient is (softmax - one_hot) / N.
/// loss.backward();
/// let p = logits.softmax(1).to_vec::<f64>();
/// let g = logits.grad().unwrap().to_vec::<f64>();
/// assert!((g[0] - (p[0] - 1.0) / 2.0).abs() < 1e-12);
///
/// // Options as keyword arguments: per-sample losses with label smoothing.
/// let options = CrossEntropyOptions { label_smoothing: 0.1, reduction: Reduction::None, ..Default::default() };
/// assert_eq!(cross_entropy_with(&logits, &targets, &options).shape(), vec![2]);
/// ```
///
/// # Panics
/// On a bad target or shape; see [`try_cross_entropy`].
#[track_caller]
pub fn cross_entropy(input: &Tensor, target: &Tensor) -> Tensor {
    cross_entropy_with(input, target, &CrossEntropyOptions::default())
}

/// The cross-entropy loss of unnormalized logits `input` for class indices `target`
/// (`torch.nn.functional.cross_entropy`): `log_softmax` over the class dim followed by
/// [`nll_loss_with`], plus label smoothing.
///
/// With `p = log_softmax(input)` over the class dim, smoothing `ε`, `C` classes, class
/// weights `w` (all 1 when not given), and `l_i = 0` where `y_i = ignore_index`:
///
/// ```text
/// l_i  = (1 - ε) · (-w_{y_i} · p[i, y_i]) + (ε / C) · Σ_c (-w_c · p[i, c])
/// mean = Σ_i l_i / Σ_{i not ignored} w_{y_i}      sum = Σ_i l_i      none = l
/// ```
///
/// which is PyTorch's definition: the smoothing term weighs each class by its own
/// weight, and the mean shares the denominator of the unsmoothed loss.
///
/// # Shapes
/// - `input`: floating-point logits `[N, C]`, `[N, C, d1, ...]`, or `[C]`.
/// - `target`: `i64` class indices `[N]`, `[N, d1, ...]`, or `[]` respectively.
///   (PyTorch's class-probability targets are not supported.)
///
/// # Panics
/// If a target is outside `[0, C)` and not `ignore_index`, if `label_smoothing` is
/// outside `[0, 1]`, or on a shape or dtype mismatch; see [`try_cross_entropy`].
#[track_caller]
pub fn cross_entropy_with(input: &Tensor, target: &Tensor, options: &CrossEntropyOptions) -> Tensor {
    or_panic(try_cross_entropy(input, target, options))
}

/// [`cross_entropy_with`], returning an error instead of panicking on bad targets,
/// options, shapes or dtypes.
pub fn try_cross_entropy(input: &Tensor, target: &Tensor, options: &CrossEntropyOptions) -> Result<Tensor, LossError> {
    let op = "cross_entropy";
    let eps = options.label_smoothing;
    if !(0.0..=1.0).contains(&eps) {
        return Err(LossError::LabelSmoothing { op, value: eps });
    }
    let targets = ClassTargets::new(op, input, target, options.weight.as_ref(), options.ignore_index)?;
    let log_probs = input.log_softmax(targets.class_dim as isize);
    let nll = targets.nll(&log_probs);
    let loss = if eps > 0.0 {
        let uniform = targets.smoothing(&log_probs);
        nll.mul_scalar(1.0 - eps).add(&uniform.mul_scalar(eps / targets.classes as f64))
    } else {
        nll
    };
    Ok(targets.reduce(loss, options.reduction))
}

/// Validated class targets and the constants the forward needs, computed in one pass
/// over the targets on the host.
struct ClassTargets {
    /// The input's class dim: 1, or 0 for an unbatched `[C]` input.
    class_dim: usize,
    /// The number of classes `C`.
    classes: usize,
    /// The target's shape, which the per-target loss takes.
    shape: Vec<isize>,
    /// The targets with ignored entries replaced by class 0 (so that `gather` stays in
    /// range; they are masked afterwards), shaped like the input with a class dim of 1.
    index: Tensor,
    /// The class weights in the input's dtype, shaped to broadcast along the class dim.
    class_weight: Option<Tensor>,
    /// `w_{y_i}` for each target (0 where ignored), if class weights were given.
    target_weight: Option<Tensor>,
    /// 1 where the target is `ignore_index`, if any target is.
    ignored: Option<Tensor>,
    /// `Σ w_{y_i}` over the targets that count: the mean's denominator.
    total_weight: f64,
}

impl ClassTargets {
    fn new(
        op: &'static str,
        input: &Tensor,
        target: &Tensor,
        weight: Option<&Tensor>,
        ignore_index: i64,
    ) -> Result<Self, LossError> {
        expect_float(op, "input", input)?;
        let input_shape = input.shape();
        if input_shape.is_empty() {
            return Err(LossError::MissingClassDim { op });
        }
        if target.dtype() != DType::I64 {
            return Err(LossError::DType { op, arg: "target", expected: "i64 class indices", got: target.dtype() });
        }
        let class_dim = usize::from(input_shape.len() > 1);
        let classes = input_shape[class_dim];
        let mut expected = input_shape.clone();
        expected.remove(class_dim);
        if target.shape() != expected {
            return Err(LossError::ShapeMismatch { op, input: input_shape, target: target.shape(), expected });
        }
        let weights = match weight {
            None => None,
            Some(w) => {
                expect_float(op, "weight", w)?;
                if w.shape() != [classes] {
                    return Err(LossError::ClassWeightShape { op, weight: w.shape(), classes });
                }
                Some(w.data())
            }
        };
        let weight_values = weights.as_ref().map(|w| w.to_vec::<f64>());

        let values = target.data().to_vec::<i64>();
        let mut index = Vec::with_capacity(values.len());
        let mut target_weight = Vec::with_capacity(values.len());
        let mut ignored = vec![0i64; values.len()];
        for (k, &y) in values.iter().enumerate() {
            if y == ignore_index {
                ignored[k] = 1;
                index.push(0);
                target_weight.push(0.0);
            } else if (0..classes as i64).contains(&y) {
                index.push(y);
                target_weight.push(weight_values.as_ref().map_or(1.0, |w| w[y as usize]));
            } else {
                let position = position(k, &expected);
                return Err(LossError::TargetOutOfRange { op, value: y, position, classes, ignore_index });
            }
        }

        let dtype = input.dtype();
        let total_weight = target_weight.iter().sum();
        let target_weight =
            weights.is_some().then(|| Tensor::new(NdArray::from_vec(target_weight, &expected).cast(dtype)));
        let ignored = ignored.contains(&1).then(|| Tensor::new(NdArray::from_vec(ignored, &expected)));
        let mut index_shape = input_shape.clone();
        index_shape[class_dim] = 1;
        let mut broadcast = vec![1; input_shape.len()];
        broadcast[class_dim] = classes as isize;
        Ok(ClassTargets {
            class_dim,
            classes,
            shape: expected.iter().map(|&d| d as isize).collect(),
            index: Tensor::new(NdArray::from_vec(index, &index_shape)),
            class_weight: weights.map(|w| Tensor::new(w.cast(dtype).reshape(&broadcast))),
            target_weight,
            ignored,
            total_weight,
        })
    }

    /// `-w_{y_i} · log_probs[i, y_i]` per target, 0 where ignored.
    fn nll(&self, log_probs: &Tensor) -> Tensor {
        let picked = log_probs.gather(self.class_dim as isize, &self.index).reshape(&self.shape).neg();
        let weighted = match &self.target_weight {
            Some(w) => picked.mul(w),
            None => picked,
        };
        self.mask_ignored(weighted)
    }

    /// `Σ_c -w_c · log_probs[i, c]` per target, 0 where ignored: the loss against a
    /// uniform target, which label smoothing mixes in.
    fn smoothing(&self, log_probs: &Tensor) -> Tensor {
        let weighted = match &self.class_weight {
            Some(w) => log_probs.mul(w),
            None => log_probs.clone(),
        };
        self.mask_ignored(weighted.sum_dim(&[self.class_dim as isize], false).neg())
    }

    /// Zeroes the entries of ignored targets. `masked_fill`, not a multiplication by
    /// 0, so that an infinite log-probability at an ignored target cannot make a NaN.
    fn mask_ignored(&self, loss: Tensor) -> Tensor {
        match &self.ignored {
            Some(mask) => loss.masked_fill(mask, 0.0),
            None => loss,
        }
    }

    /// Applies the reduction; the mean divides by the total weight of the counted targets.
    fn reduce(&self, loss: Tensor, reduction: Reduction) -> Tensor {
        match reduction {
            Reduction::None => loss,
            Reduction::Mean => loss.sum().div_scalar(self.total_weight),
            Reduction::Sum => loss.sum(),
        }
    }
}
