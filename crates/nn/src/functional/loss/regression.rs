//! Regression losses: squared ([`mse_loss`]) and absolute ([`l1_loss`]) error.

use nabla_autograd::Tensor;

use super::{elementwise_target, or_panic, reduce, LossError, Reduction};

/// The mean squared error (`F.mse_loss(input, target)`); see [`mse_loss_with`].
///
/// # Panics
/// On a shape or dtype mismatch; see [`try_mse_loss`].
#[track_caller]
pub fn mse_loss(input: &Tensor, target: &Tensor) -> Tensor {
    mse_loss_with(input, target, Reduction::Mean)
}

/// The squared error `l_i = (input_i - target_i)^2`, reduced by `reduction`
/// (`torch.nn.functional.mse_loss`). Both tensors may require grad.
///
/// # Shapes
/// `input` and `target`: the same shape, floating point (the target is converted to
/// the input's dtype). Unlike PyTorch, which broadcasts with a warning, different
/// shapes are an error.
///
/// # Panics
/// On a shape or dtype mismatch; see [`try_mse_loss`].
#[track_caller]
pub fn mse_loss_with(input: &Tensor, target: &Tensor, reduction: Reduction) -> Tensor {
    or_panic(try_mse_loss(input, target, reduction))
}

/// [`mse_loss_with`], returning an error instead of panicking on a shape or dtype mismatch.
pub fn try_mse_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor, LossError> {
    let target = elementwise_target("mse_loss", input, target)?;
    Ok(reduce(input.sub(&target).square(), reduction))
}

/// The mean absolute error (`F.l1_loss(input, target)`); see [`l1_loss_with`].
///
/// # Panics
/// On a shape or dtype mismatch; see [`try_l1_loss`].
#[track_caller]
pub fn l1_loss(input: &Tensor, target: &Tensor) -> Tensor {
    l1_loss_with(input, target, Reduction::Mean)
}

/// The absolute error `l_i = |input_i - target_i|`, reduced by `reduction`
/// (`torch.nn.functional.l1_loss`). Its gradient is `sign(input_i - target_i)`, 0 where
/// they are equal, as in PyTorch.
///
/// # Shapes
/// As [`mse_loss_with`].
///
/// # Panics
/// On a shape or dtype mismatch; see [`try_l1_loss`].
#[track_caller]
pub fn l1_loss_with(input: &Tensor, target: &Tensor, reduction: Reduction) -> Tensor {
    or_panic(try_l1_loss(input, target, reduction))
}

/// [`l1_loss_with`], returning an error instead of panicking on a shape or dtype mismatch.
pub fn try_l1_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor, LossError> {
    let target = elementwise_target("l1_loss", input, target)?;
    Ok(reduce(input.sub(&target).abs(), reduction))
}
