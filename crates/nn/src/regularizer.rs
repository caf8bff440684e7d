//! L1/L2 penalties on chosen parameters, to add to the loss (Keras's kernel
//! regularizers; PyTorch users write them by hand or use `weight_decay`).

use nabla_autograd::Tensor;

/// `sum(|w|)` over every element of `params`, as a differentiable scalar (0 for no
/// parameter).
///
/// Keras's `regularizers.L1(l1)` adds `l1 * sum(|w|)`, so `loss + l1 * l1_penalty(&ws)`
/// matches it.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::l1_penalty;
/// let w = Tensor::from_vec(vec![1.0f32, -2.0], &[2]);
/// assert_eq!(l1_penalty(&[w]).item(), 3.0);
/// ```
pub fn l1_penalty(params: &[Tensor]) -> Tensor {
    penalty(params, |p| p.abs().sum())
}

/// `sum(w^2)` over every element of `params`, as a differentiable scalar (0 for no
/// parameter).
///
/// Factor conventions differ: Keras's `regularizers.L2(l2)` adds `l2 * sum(w^2)`, so
/// `loss + l2 * l2_penalty(&ws)` matches it; SGD's `weight_decay = wd` in PyTorch
/// adds `wd * w` to the gradient, which is `(wd / 2) * l2_penalty`.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{l2_penalty, Linear, ModuleExt};
/// let fc = Linear::new(3, 2);
/// // Penalise weights, not biases.
/// let weights: Vec<Tensor> =
///     fc.named_parameters().into_iter().filter(|(n, _)| n.ends_with("weight")).map(|(_, t)| t).collect();
/// let reg = l2_penalty(&weights) * 1e-4;
/// reg.backward();
/// assert!(fc.bias.as_ref().unwrap().grad().is_none());
/// ```
pub fn l2_penalty(params: &[Tensor]) -> Tensor {
    penalty(params, |p| p.square().sum())
}

fn penalty(params: &[Tensor], term: impl Fn(&Tensor) -> Tensor) -> Tensor {
    params.iter().map(term).reduce(|a, b| a + b).unwrap_or_else(|| Tensor::scalar(0.0))
}
