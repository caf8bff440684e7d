//! Loss functions, as in `torch.nn.functional`: negative log-likelihood and cross
//! entropy over class indices ([`nll_loss`], [`cross_entropy`]), squared and absolute
//! error ([`mse_loss`], [`l1_loss`]), and binary cross entropy on probabilities or
//! logits ([`binary_cross_entropy`], [`binary_cross_entropy_with_logits`]).
//!
//! Every loss comes in three forms:
//! - `loss(input, target)` with PyTorch's defaults (mean reduction, no weights);
//! - `loss_with(input, target, options)` for the keyword arguments (weights,
//!   `ignore_index`, `label_smoothing`, `pos_weight`, the [`Reduction`]);
//! - `try_loss(input, target, options)`, which returns a [`LossError`] instead of
//!   panicking, for targets that come from data.
//!
//! Targets are checked before anything is computed, under every reduction: class
//! indices must lie in `[0, C)` or equal `ignore_index`, probabilities in `[0, 1]`, and
//! shapes must fit. The error names the op, the first bad value, its position and the
//! valid range, e.g. `cross_entropy: target 12 at position [3] is out of range [0, 10)
//! (ignore_index = -100)`.
//!
//! Values and gradients match PyTorch's (see `tests/losses.rs`, whose golden values
//! come from `tools/fixtures/gen_losses.py`). The losses are built from the public
//! differentiable ops of `Tensor` (`log_softmax` is already one fused node), so no loss
//! needs private access to the tape.

mod binary;
mod class;
mod error;
mod regression;

use nabla_autograd::Tensor;

pub use binary::{
    binary_cross_entropy, binary_cross_entropy_with, binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_with, try_binary_cross_entropy, try_binary_cross_entropy_with_logits, BceOptions,
    BceWithLogitsOptions,
};
pub use class::{
    cross_entropy, cross_entropy_with, nll_loss, nll_loss_with, try_cross_entropy, try_nll_loss, CrossEntropyOptions,
    NllLossOptions,
};
pub use error::LossError;
pub use regression::{l1_loss, l1_loss_with, mse_loss, mse_loss_with, try_l1_loss, try_mse_loss};

/// How a loss combines its per-element values (PyTorch's `reduction=` argument).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// No reduction (`'none'`): one loss per element, shaped like the target.
    None,
    /// The average (`'mean'`, the default). Class losses with weights or ignored
    /// targets divide by the sum of the weights of the targets that count, not by
    /// their number.
    #[default]
    Mean,
    /// The sum (`'sum'`).
    Sum,
}

/// Applies an elementwise loss's reduction.
fn reduce(loss: Tensor, reduction: Reduction) -> Tensor {
    match reduction {
        Reduction::None => loss,
        Reduction::Mean => loss.mean(),
        Reduction::Sum => loss.sum(),
    }
}

/// The row-major multi-index of flat element `k` in `shape`.
fn position(mut k: usize, shape: &[usize]) -> Vec<usize> {
    let mut pos = vec![0; shape.len()];
    for (p, &extent) in pos.iter_mut().zip(shape).rev() {
        *p = k % extent;
        k /= extent;
    }
    pos
}

/// Fails unless `t` holds floating-point values.
fn expect_float(op: &'static str, arg: &'static str, t: &Tensor) -> Result<(), LossError> {
    match t.dtype() {
        d if d.is_float() => Ok(()),
        got => Err(LossError::DType { op, arg, expected: "floating point", got }),
    }
}

/// Fails at the first element of `t` outside `[0, 1]` (NaN included).
fn expect_probabilities(op: &'static str, arg: &'static str, t: &Tensor) -> Result<(), LossError> {
    let values = t.data().to_vec::<f64>();
    match values.iter().position(|v| !(0.0..=1.0).contains(v)) {
        None => Ok(()),
        Some(k) => Err(LossError::NotAProbability { op, arg, value: values[k], position: position(k, &t.shape()) }),
    }
}

/// Checks a float target of an elementwise loss against the input and returns it in
/// the input's dtype.
fn elementwise_target(op: &'static str, input: &Tensor, target: &Tensor) -> Result<Tensor, LossError> {
    expect_float(op, "input", input)?;
    expect_float(op, "target", target)?;
    let (shape, target_shape) = (input.shape(), target.shape());
    // Stricter than PyTorch, which broadcasts with a warning: a [N, 1] input against a
    // [N] target silently becomes an [N, N] loss there.
    if target_shape != shape {
        return Err(LossError::ShapeMismatch { op, input: shape.clone(), target: target_shape, expected: shape });
    }
    Ok(target.to_dtype(input.dtype()))
}

/// Checks an optional elementwise weight (`weight`, `pos_weight`) that must broadcast to
/// the input's shape, and returns it in the input's dtype.
fn broadcast_weight(
    op: &'static str,
    arg: &'static str,
    weight: Option<&Tensor>,
    input: &Tensor,
) -> Result<Option<Tensor>, LossError> {
    let Some(w) = weight else { return Ok(None) };
    expect_float(op, arg, w)?;
    let shape = input.shape();
    if nabla_tensor::broadcast_shapes(&w.shape(), &shape).as_ref() != Some(&shape) {
        return Err(LossError::NotBroadcastable { op, arg, shape: w.shape(), input: shape });
    }
    Ok(Some(w.to_dtype(input.dtype())))
}

/// Unwraps a loss or panics with its error, reported at the user's call site.
#[track_caller]
fn or_panic(result: Result<Tensor, LossError>) -> Tensor {
    result.unwrap_or_else(|e| panic!("{e}"))
}
