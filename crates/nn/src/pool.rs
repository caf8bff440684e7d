//! Pooling layers: `MaxPool2d`, `AvgPool2d`, `AdaptiveAvgPool2d`. They hold only their
//! window; options are set by chaining, with PyTorch's defaults.

use nabla_autograd::{Pool2dSpec, Tensor};

use crate::functional::IntoPair;
use crate::module::Forward;

/// 2-D max pooling (`torch.nn.MaxPool2d`); NaN wins, as in PyTorch.
///
/// # Args
/// - `kernel_size`: window size, one number or `[kH, kW]`
/// - `stride`: step between windows (default: `kernel_size`)
/// - `padding`: implicit negative infinity on both sides, at most half the window (default 0)
/// - `dilation`: spacing between window taps (default 1)
/// - `ceil_mode`: round the output size up (default false); the last window must
///   still start inside the input or its left padding
///
/// # Shape
/// - input: `[N, C, H, W]` or `[C, H, W]`
/// - output: `[N, C, oH, oW]` with
///   `oH = floor_or_ceil((H + 2 * padding - dilation * (kH - 1) - 1) / stride) + 1`
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{Forward, MaxPool2d};
/// let pool = MaxPool2d::new(2);
/// assert_eq!(pool.forward(&Tensor::randn(&[32, 64, 11, 11])).shape(), vec![32, 64, 5, 5]);
/// let pool = MaxPool2d::new(3).stride(2).padding(1).ceil_mode(true);
/// assert_eq!(pool.forward(&Tensor::randn(&[1, 2, 8, 8])).shape(), vec![1, 2, 5, 5]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPool2d {
    /// The window.
    pub spec: Pool2dSpec,
}

impl MaxPool2d {
    /// Non-overlapping windows of `kernel_size` (`nn.MaxPool2d(kernel_size)`).
    pub fn new(kernel_size: impl IntoPair) -> Self {
        MaxPool2d { spec: Pool2dSpec::new(kernel_size.into_pair()) }
    }

    /// Sets the stride.
    pub fn stride(mut self, stride: impl IntoPair) -> Self {
        self.spec.stride = stride.into_pair();
        self
    }

    /// Sets the padding.
    pub fn padding(mut self, padding: impl IntoPair) -> Self {
        self.spec.padding = padding.into_pair();
        self
    }

    /// Sets the dilation.
    pub fn dilation(mut self, dilation: impl IntoPair) -> Self {
        self.spec.dilation = dilation.into_pair();
        self
    }

    /// Sets `ceil_mode`.
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.spec.ceil_mode = ceil_mode;
        self
    }
}

impl Forward for MaxPool2d {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.max_pool2d(&self.spec)
    }
}

/// 2-D average pooling (`torch.nn.AvgPool2d`).
///
/// # Args
/// - `kernel_size`, `stride` (default `kernel_size`), `padding` (implicit zeros, at
///   most half the window) and `ceil_mode`: as in [`MaxPool2d`]
/// - `count_include_pad`: divide by the window size including padded zeros (default
///   true) or by the number of input elements in the window
///
/// # Shape
/// - input: `[N, C, H, W]` or `[C, H, W]`
/// - output: `[N, C, oH, oW]`, sized as for [`MaxPool2d`] with dilation 1
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{AvgPool2d, Forward};
/// let pool = AvgPool2d::new(2).padding(1).count_include_pad(false);
/// assert_eq!(pool.forward(&Tensor::ones(&[1, 1, 3, 3])).to_vec::<f32>(), vec![1.0; 4]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool2d {
    /// The window (dilation stays 1).
    pub spec: Pool2dSpec,
    /// Whether padded zeros count in the divisor.
    pub count_include_pad: bool,
}

impl AvgPool2d {
    /// Non-overlapping windows of `kernel_size` (`nn.AvgPool2d(kernel_size)`).
    pub fn new(kernel_size: impl IntoPair) -> Self {
        AvgPool2d { spec: Pool2dSpec::new(kernel_size.into_pair()), count_include_pad: true }
    }

    /// Sets the stride.
    pub fn stride(mut self, stride: impl IntoPair) -> Self {
        self.spec.stride = stride.into_pair();
        self
    }

    /// Sets the padding.
    pub fn padding(mut self, padding: impl IntoPair) -> Self {
        self.spec.padding = padding.into_pair();
        self
    }

    /// Sets `ceil_mode`.
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.spec.ceil_mode = ceil_mode;
        self
    }

    /// Sets `count_include_pad`.
    pub fn count_include_pad(mut self, count_include_pad: bool) -> Self {
        self.count_include_pad = count_include_pad;
        self
    }
}

impl Forward for AvgPool2d {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.avg_pool2d(&self.spec, self.count_include_pad)
    }
}

/// 2-D adaptive average pooling to a fixed output size (`torch.nn.AdaptiveAvgPool2d`):
/// output `i` along an axis of length `len` averages inputs
/// `floor(i*len/out)..ceil((i+1)*len/out)`.
///
/// # Args
/// - `output_size`: one number or `[oH, oW]`
///
/// # Shape
/// - input: `[N, C, H, W]` or `[C, H, W]`; output: `[N, C, oH, oW]` or `[C, oH, oW]`
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{AdaptiveAvgPool2d, Forward};
/// let pool = AdaptiveAvgPool2d::new([5, 7]);
/// assert_eq!(pool.forward(&Tensor::randn(&[1, 64, 8, 9])).shape(), vec![1, 64, 5, 7]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdaptiveAvgPool2d {
    /// `[oH, oW]`.
    pub output_size: [usize; 2],
}

impl AdaptiveAvgPool2d {
    /// Pools to `output_size` (`nn.AdaptiveAvgPool2d(output_size)`).
    pub fn new(output_size: impl IntoPair) -> Self {
        AdaptiveAvgPool2d { output_size: output_size.into_pair() }
    }
}

impl Forward for AdaptiveAvgPool2d {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.adaptive_avg_pool2d(self.output_size)
    }
}

stateless_module!(MaxPool2d, AvgPool2d, AdaptiveAvgPool2d);
