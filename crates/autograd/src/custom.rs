//! Custom ops from outside this crate (PyTorch's `torch.autograd.Function`): a forward
//! computed with `NdArray` kernels plus a hand-written backward, recorded as one node.

use nabla_tensor::NdArray;

use crate::error::AutogradError;
use crate::graph::record;
use crate::tensor::Tensor;

impl Tensor {
    /// Records `out` as the result of a custom op `name` on `inputs`. `backward` maps
    /// the output gradient and a mask of which inputs need a gradient to one gradient
    /// per input (each in that input's shape; `None` where not needed).
    ///
    /// Nothing is recorded when grad mode is off or no input requires grad.
    ///
    /// ```
    /// use nabla_autograd::Tensor;
    /// // y = 3x, with its derivative written by hand.
    /// let x = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).requires_grad_(true);
    /// let y = Tensor::from_op("triple", x.data().mul_scalar(3.0), &[&x], |g, _| Ok(vec![Some(g.mul_scalar(3.0))]));
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![3.0, 3.0]);
    /// ```
    pub fn from_op<F>(name: &'static str, out: NdArray, inputs: &[&Tensor], backward: F) -> Tensor
    where
        F: Fn(&NdArray, &[bool]) -> Result<Vec<Option<NdArray>>, AutogradError> + Send + Sync + 'static,
    {
        record(name, out, inputs, || backward)
    }

    /// Records `out` as the result of an op that has no derivative: a backward pass
    /// that reaches it fails with [`AutogradError::NotDifferentiable`] instead of
    /// silently treating the gradient as zero.
    pub fn from_op_not_differentiable(name: &'static str, out: NdArray, inputs: &[&Tensor]) -> Tensor {
        record(name, out, inputs, || move |_: &NdArray, _: &[bool]| Err(AutogradError::NotDifferentiable { op: name }))
    }
}
