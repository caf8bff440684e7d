//! 2-D convolution as one recorded op: the forward and all three gradients come from
//! the im2col + GEMM kernels of `nabla-tensor` (the bias gradient is summed in the same
//! pass over the images). When the weight needs a gradient, the forward pass keeps its
//! column matrices for it, so the backward pass does not unroll the input again.

use nabla_tensor::{Conv2dSpec, DType, NdArray};

use crate::graph::{is_grad_enabled, record, Saved};
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
        let bias_data = bias.map(Tensor::data);
        let dtypes = (x.dtype(), w.dtype(), bias.map(Tensor::dtype));
        let (sx, sw) = (Saved::new("conv2d", self), Saved::new("conv2d", weight));
        let mut inputs = vec![self, weight];
        inputs.extend(bias);
        let spec = *spec;
        if is_grad_enabled() && weight.requires_grad() {
            let (out, context) = x.conv2d_for_backward(&w, bias_data.as_ref(), &spec);
            return record("conv2d", out, &inputs, || {
                move |g, n| {
                    // The context holds the operands; these calls check that neither
                    // was modified in place since.
                    sx.get()?;
                    sw.get()?;
                    Ok(cast_grads(context.backward(g, [n[0], n[1], n.get(2) == Some(&true)]), dtypes))
                }
            });
        }
        let out = x.conv2d(&w, bias_data.as_ref(), &spec);
        record("conv2d", out, &inputs, || {
            move |g, n| {
                let needs = [n[0], n[1], n.get(2) == Some(&true)];
                Ok(cast_grads(sx.get()?.conv2d_backward(sw.get()?, g, &spec, needs), dtypes))
            }
        })
    }
}

/// The input, weight and (when there is a bias) bias gradients, each in its operand's dtype.
fn cast_grads([gx, gw, gb]: [Option<NdArray>; 3], dtypes: (DType, DType, Option<DType>)) -> Vec<Option<NdArray>> {
    let mut grads = vec![gx.map(|a| a.cast(dtypes.0)), gw.map(|a| a.cast(dtypes.1))];
    if let Some(b_dtype) = dtypes.2 {
        grads.push(gb.map(|a| a.cast(b_dtype)));
    }
    grads
}
