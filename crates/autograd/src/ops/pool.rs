//! 2-D pooling as recorded ops. Max pooling saves its argmax indices (not the input),
//! the average poolings save only the input shape.

use nabla_tensor::{NdArray, Pool2dSpec};

use crate::graph::record;
use crate::tensor::Tensor;

impl Tensor {
    /// Max pooling over the last two dims of a `[N, C, H, W]` or `[C, H, W]` tensor
    /// (`F.max_pool2d(..., return_indices=True)`): the maxima, and their `i64` positions
    /// within each `H x W` plane.
    ///
    /// ```
    /// use nabla_autograd::{Pool2dSpec, Tensor};
    /// let x = Tensor::randn(&[2, 3, 9, 9]).requires_grad_(true);
    /// let spec = Pool2dSpec { stride: [2, 2], ceil_mode: true, ..Pool2dSpec::new([3, 3]) };
    /// let (y, idx) = x.max_pool2d_with_indices(&spec);
    /// assert_eq!(y.shape(), vec![2, 3, 4, 4]);
    /// assert_eq!(idx.shape(), vec![2, 3, 4, 4]);
    /// ```
    #[track_caller]
    pub fn max_pool2d_with_indices(&self, spec: &Pool2dSpec) -> (Tensor, Tensor) {
        let x = self.data();
        let (out, idx) = x.max_pool2d(spec);
        let (shape, dtype) = (x.shape().to_vec(), x.dtype());
        let saved = idx.clone();
        let y = record("max_pool2d", out, &[self], || {
            move |g, _| Ok(vec![Some(NdArray::max_pool2d_backward(g, &saved, &shape).cast(dtype))])
        });
        (y, Tensor::new(idx))
    }

    /// Max pooling (`F.max_pool2d`); see [`Tensor::max_pool2d_with_indices`].
    #[track_caller]
    pub fn max_pool2d(&self, spec: &Pool2dSpec) -> Tensor {
        self.max_pool2d_with_indices(spec).0
    }

    /// Average pooling over the last two dims (`F.avg_pool2d`); with
    /// `count_include_pad` (PyTorch's default) padded zeros count in the divisor.
    /// `spec.dilation` must be `[1, 1]`.
    ///
    /// ```
    /// use nabla_autograd::{Pool2dSpec, Tensor};
    /// let y = Tensor::ones(&[1, 1, 4, 4]).avg_pool2d(&Pool2dSpec::new([2, 2]), true);
    /// assert_eq!(y.to_vec::<f32>(), vec![1.0; 4]);
    /// ```
    #[track_caller]
    pub fn avg_pool2d(&self, spec: &Pool2dSpec, count_include_pad: bool) -> Tensor {
        let x = self.data();
        let out = x.avg_pool2d(spec, count_include_pad);
        let (shape, spec) = (x.shape().to_vec(), *spec);
        record("avg_pool2d", out, &[self], || {
            move |g, _| Ok(vec![Some(NdArray::avg_pool2d_backward(g, &shape, &spec, count_include_pad))])
        })
    }

    /// Adaptive average pooling of the last two dims to `output_size`
    /// (`F.adaptive_avg_pool2d`).
    ///
    /// ```
    /// use nabla_autograd::Tensor;
    /// assert_eq!(Tensor::ones(&[2, 3, 7, 5]).adaptive_avg_pool2d([3, 2]).shape(), vec![2, 3, 3, 2]);
    /// ```
    #[track_caller]
    pub fn adaptive_avg_pool2d(&self, output_size: [usize; 2]) -> Tensor {
        let x = self.data();
        let out = x.adaptive_avg_pool2d(output_size);
        let shape = x.shape().to_vec();
        record("adaptive_avg_pool2d", out, &[self], || {
            move |g, _| Ok(vec![Some(NdArray::adaptive_avg_pool2d_backward(g, &shape))])
        })
    }
}
