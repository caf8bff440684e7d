//! 2-D convolution as one recorded op: the forward and all three gradients come from
//! the im2col + GEMM kernels of `nabla-tensor` (the bias gradient is summed in the same
//! pass over the images).

use nabla_tensor::Conv2dSpec;

use crate::graph::{record, Saved};
use crate::tensor::Tensor;

impl Tensor {
    /// 2-D convolution of this `[N, C_in, H, W]` input with `weight`
    /// `[C_out, C_in/groups, kH, kW]` and an optional `bias` `[C_out]`
    /// (`torch.nn.functional.conv2d`), giving `[N, C_out, oH, oW]`.
    ///
    /// ```
    /// use nabla_autograd::{Conv2dSpec, Tensor};
    /// let x = Tensor::ones(&[2, 3, 8, 8]);
    /// let w = Tensor::ones(&[4, 3, 3, 3]).requires_grad_(true);
    /// let y = x.conv2d(&w, None, &Conv2dSpec::new([2, 2], [1, 1], [1, 1], 1));
    /// assert_eq!(y.shape(), vec![2, 4, 4, 4]);
    /// y.sum().backward();
    /// assert_eq!(w.grad().unwrap().shape(), vec![4, 3, 3, 3]);
    /// ```
    ///
    /// # Panics
    /// If the shapes do not fit (naming them), or for integer operands.
    #[track_caller]
    pub fn conv2d(&self, weight: &Tensor, bias: Option<&Tensor>, spec: &Conv2dSpec) -> Tensor {
        let (x, w) = (self.data(), weight.data());
        let out = x.conv2d(&w, bias.map(Tensor::data).as_ref(), spec);
        let spec = *spec;
        let dtypes = (x.dtype(), w.dtype(), bias.map(Tensor::dtype));
        let (sx, sw) = (Saved::new("conv2d", self), Saved::new("conv2d", weight));
        let mut inputs = vec![self, weight];
        inputs.extend(bias);
        record("conv2d", out, &inputs, || {
            move |g, n| {
                let needs = [n[0], n[1], n.get(2) == Some(&true)];
                let [gx, gw, gb] = sx.get()?.conv2d_backward(sw.get()?, g, &spec, needs);
                let mut grads = vec![gx.map(|a| a.cast(dtypes.0)), gw.map(|a| a.cast(dtypes.1))];
                if let Some(b_dtype) = dtypes.2 {
                    grads.push(gb.map(|a| a.cast(b_dtype)));
                }
                Ok(grads)
            }
        })
    }
}
