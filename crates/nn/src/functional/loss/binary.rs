//! Binary cross entropy, on probabilities ([`binary_cross_entropy`]) and, numerically
//! stable, on logits ([`binary_cross_entropy_with_logits`]).

use nabla_autograd::Tensor;

use super::{broadcast_weight, elementwise_target, expect_probabilities, or_panic, reduce, LossError, Reduction};

/// The floor PyTorch puts under each log of [`binary_cross_entropy`], so that an input
/// of exactly 0 or 1 gives a finite loss.
const LOG_FLOOR: f64 = -100.0;

/// Options of [`binary_cross_entropy_with`] (the keyword arguments of
/// `torch.nn.functional.binary_cross_entropy`). `Default` gives PyTorch's defaults.
#[derive(Clone, Debug, Default)]
pub struct BceOptions {
    /// A weight per element, broadcast to the input's shape (`weight=`), e.g. `[C]` for
    /// an `[N, C]` input.
    pub weight: Option<Tensor>,
    /// How to combine the per-element losses (default [`Reduction::Mean`]).
    pub reduction: Reduction,
}

/// Options of [`binary_cross_entropy_with_logits_with`] (the keyword arguments of
/// `torch.nn.functional.binary_cross_entropy_with_logits`). `Default` gives PyTorch's
/// defaults.
#[derive(Clone, Debug, Default)]
pub struct BceWithLogitsOptions {
    /// A weight per element, broadcast to the input's shape (`weight=`).
    pub weight: Option<Tensor>,
    /// A weight on the positive term, broadcast to the input's shape (`pos_weight=`):
    /// usually `[C]`, one per class of a multi-label `[N, C]` input, set to
    /// `negatives / positives` to balance rare labels.
    pub pos_weight: Option<Tensor>,
    /// How to combine the per-element losses (default [`Reduction::Mean`]).
    pub reduction: Reduction,
}

/// Binary cross entropy with PyTorch's defaults (`F.binary_cross_entropy(input, target)`);
/// see [`binary_cross_entropy_with`].
///
/// # Panics
/// On values outside `[0, 1]` or a shape mismatch; see [`try_binary_cross_entropy`].
#[track_caller]
pub fn binary_cross_entropy(input: &Tensor, target: &Tensor) -> Tensor {
    binary_cross_entropy_with(input, target, &BceOptions::default())
}

/// Binary cross entropy between probabilities `input` and `target`
/// (`torch.nn.functional.binary_cross_entropy`):
///
/// ```text
/// l_i = -w_i · (y_i · max(log x_i, -100) + (1 - y_i) · max(log(1 - x_i), -100))
/// ```
///
/// reduced by the options' reduction (`w` is 1 when no weight is given). The clamped
/// logs keep the loss finite at `x = 0` or `1`, as in PyTorch. Gradients are those of
/// this formula, so they agree with PyTorch's wherever `x (1 - x) >= 1e-12`; closer to 0
/// or 1, PyTorch bounds the gradient's denominator `x (1 - x)` below by `1e-12`, while
/// here the gradient is exact, and 0 where a log is clamped. Use
/// [`binary_cross_entropy_with_logits_with`] on logits: it is stable everywhere.
///
/// # Shapes
/// `input` and `target` the same shape, floating point; `weight` broadcasts to it.
///
/// # Panics
/// If an element of `target` or `input` is outside `[0, 1]` (or NaN), or on a shape or
/// dtype mismatch; see [`try_binary_cross_entropy`].
#[track_caller]
pub fn binary_cross_entropy_with(input: &Tensor, target: &Tensor, options: &BceOptions) -> Tensor {
    or_panic(try_binary_cross_entropy(input, target, options))
}

/// [`binary_cross_entropy_with`], returning an error instead of panicking on values
/// outside `[0, 1]`, shapes or dtypes.
pub fn try_binary_cross_entropy(input: &Tensor, target: &Tensor, options: &BceOptions) -> Result<Tensor, LossError> {
    let op = "binary_cross_entropy";
    let y = elementwise_target(op, input, target)?;
    expect_probabilities(op, "target", target)?;
    expect_probabilities(op, "input", input)?;
    let weight = broadcast_weight(op, "weight", options.weight.as_ref(), input)?;
    let log_x = clamped_log(input);
    let log_1mx = clamped_log(&input.neg().add_scalar(1.0));
    // (y - 1) · log(1 - x) - y · log x: PyTorch's order of operations.
    let loss = y.sub_scalar(1.0).mul(&log_1mx).sub(&y.mul(&log_x));
    Ok(reduce(weighted(loss, weight), options.reduction))
}

/// `max(log x, -100)`, differentiable without NaNs for `x` in `[0, 1]`. A clamp after
/// the log would give a NaN gradient at `x = 0` (log's `1 / x` times the clamp's 0),
/// and a clamp of `x` to `e^-101` first still overflows `1 / x` in `f32`; so where the
/// log is below the floor, `x` is replaced by 1 before the log and the result by -100
/// after it, and no gradient flows there.
fn clamped_log(x: &Tensor) -> Tensor {
    let below = Tensor::new(x.data().log().lt_scalar(LOG_FLOOR));
    x.masked_fill(&below, 1.0).log().masked_fill(&below, LOG_FLOOR)
}

/// Multiplies by the elementwise weight, if any.
fn weighted(loss: Tensor, weight: Option<Tensor>) -> Tensor {
    match weight {
        Some(w) => loss.mul(&w),
        None => loss,
    }
}

/// Binary cross entropy on logits with PyTorch's defaults
/// (`F.binary_cross_entropy_with_logits(input, target)`); see
/// [`binary_cross_entropy_with_logits_with`].
///
/// # Panics
/// On targets outside `[0, 1]` or a shape mismatch; see
/// [`try_binary_cross_entropy_with_logits`].
#[track_caller]
pub fn binary_cross_entropy_with_logits(input: &Tensor, target: &Tensor) -> Tensor {
    binary_cross_entropy_with_logits_with(input, target, &BceWithLogitsOptions::default())
}

/// Binary cross entropy between `sigmoid(input)` and probabilities `target`, computed
/// from the logits without overflow (`torch.nn.functional.binary_cross_entropy_with_logits`).
///
/// With weight `w` and positive weight `p` (both 1 when not given, broadcast to the
/// input's shape):
///
/// ```text
/// l_i = -w_i · (p_i · y_i · log σ(x_i) + (1 - y_i) · log(1 - σ(x_i)))
///     =  w_i · ((1 - y_i) · x_i - (1 + (p_i - 1) · y_i) · log σ(x_i))
/// log σ(x) = min(x, 0) - log(1 + e^(-|x|))
/// ```
///
/// The last form never exponentiates a positive number, so logits of any size give
/// finite losses and gradients (`σ(x) - y` without weights), as in PyTorch.
///
/// # Shapes
/// `input` and `target` the same shape, floating point; `weight` and `pos_weight`
/// broadcast to it.
///
/// # Panics
/// If an element of `target` is outside `[0, 1]` (or NaN), or on a shape or dtype
/// mismatch; see [`try_binary_cross_entropy_with_logits`].
#[track_caller]
pub fn binary_cross_entropy_with_logits_with(
    input: &Tensor,
    target: &Tensor,
    options: &BceWithLogitsOptions,
) -> Tensor {
    or_panic(try_binary_cross_entropy_with_logits(input, target, options))
}

/// [`binary_cross_entropy_with_logits_with`], returning an error instead of panicking on
/// targets outside `[0, 1]`, shapes or dtypes.
pub fn try_binary_cross_entropy_with_logits(
    input: &Tensor,
    target: &Tensor,
    options: &BceWithLogitsOptions,
) -> Result<Tensor, LossError> {
    let op = "binary_cross_entropy_with_logits";
    let y = elementwise_target(op, input, target)?;
    expect_probabilities(op, "target", target)?;
    let weight = broadcast_weight(op, "weight", options.weight.as_ref(), input)?;
    let pos_weight = broadcast_weight(op, "pos_weight", options.pos_weight.as_ref(), input)?;
    // min(x, 0) splits its gradient at a tie, giving log σ the right slope 1/2 at x = 0
    // (relu's 0 there would give 0).
    let log_sigmoid = input.minimum_scalar(0.0).sub(&input.abs().neg().exp().log1p());
    let log_sigmoid = match pos_weight {
        Some(p) => log_sigmoid.mul(&p.sub_scalar(1.0).mul(&y).add_scalar(1.0)),
        None => log_sigmoid,
    };
    let loss = y.neg().add_scalar(1.0).mul(input).sub(&log_sigmoid);
    Ok(reduce(weighted(loss, weight), options.reduction))
}
