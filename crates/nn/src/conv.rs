//! `Conv2d` and `Conv1d`: convolution layers with PyTorch's arguments, parameter names
//! (`weight`, `bias`) and default initialisation, so a torch `state_dict` loads one to one.

use std::fmt;

use nabla_autograd::Tensor;

use crate::functional::{self, IntoPair, Padding};
use crate::init::{self, FanMode, Nonlinearity};
use crate::module::{Forward, Module, Visitor};

/// The optional arguments of [`Conv2d`] and [`Conv1d`], with PyTorch's defaults
/// (stride 1, padding 0, dilation 1, groups 1, with bias). Set them by chaining:
///
/// ```
/// use nabla_nn::{ConvOptions, Padding};
/// let opts = ConvOptions::new().stride(2).padding(Padding::Same).dilation([1, 2]).groups(4).bias(false);
/// assert_eq!(opts.stride, [2, 2]);
/// ```
///
/// A 1-d layer takes single numbers: `stride(2)` is the pair `[2, 2]`, of which it uses
/// one; pairs with different entries make it panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvOptions {
    /// Step between windows, `[H, W]`.
    pub stride: [usize; 2],
    /// Zero padding, or `"same"`/`"valid"`.
    pub padding: Padding,
    /// Spacing between kernel taps, `[H, W]`.
    pub dilation: [usize; 2],
    /// Blocked connections: input and output channels are split into this many groups.
    pub groups: usize,
    /// Whether the layer learns an additive bias.
    pub bias: bool,
}

impl Default for ConvOptions {
    fn default() -> Self {
        ConvOptions { stride: [1, 1], padding: Padding::default(), dilation: [1, 1], groups: 1, bias: true }
    }
}

impl ConvOptions {
    /// PyTorch's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the stride (a number or `[H, W]`).
    pub fn stride(mut self, stride: impl IntoPair) -> Self {
        self.stride = stride.into_pair();
        self
    }

    /// Sets the padding (a number, `[H, W]`, [`Padding::Same`] or [`Padding::Valid`]).
    pub fn padding(mut self, padding: impl Into<Padding>) -> Self {
        self.padding = padding.into();
        self
    }

    /// Sets the dilation (a number or `[H, W]`).
    pub fn dilation(mut self, dilation: impl IntoPair) -> Self {
        self.dilation = dilation.into_pair();
        self
    }

    /// Sets the number of groups.
    pub fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    /// Sets whether the layer learns a bias (`bias=False` in PyTorch is `bias(false)`).
    pub fn bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }
}

/// A weight shaped `shape` (`[out, in/groups, *kernel]`) and an optional bias `[out]`,
/// both from `U(-1/sqrt(fan_in), 1/sqrt(fan_in))` with `fan_in = in/groups * prod(kernel)`:
/// PyTorch's `reset_parameters` (`kaiming_uniform_` with `a = sqrt(5)`).
#[track_caller]
fn parameters(op: &str, in_channels: usize, shape: &[usize], opts: &ConvOptions) -> (Tensor, Option<Tensor>) {
    let (out_channels, groups) = (shape[0], opts.groups);
    if groups == 0 || !in_channels.is_multiple_of(groups) || !out_channels.is_multiple_of(groups) {
        panic!("{op}: in_channels ({in_channels}) and out_channels ({out_channels}) must be divisible by groups ({groups})");
    }
    let weight = Tensor::zeros(shape);
    init::kaiming_uniform_(&weight, 5f64.sqrt(), FanMode::FanIn, Nonlinearity::LeakyRelu);
    let bias = opts.bias.then(|| {
        let fan_in: usize = shape[1..].iter().product();
        let b = Tensor::zeros(&[out_channels]);
        let bound = if fan_in > 0 { 1.0 / (fan_in as f64).sqrt() } else { 0.0 };
        init::uniform_(&b, -bound, bound);
        b.requires_grad_(true)
    });
    (weight.requires_grad_(true), bias)
}

/// 2-D convolution over an input of planes (`torch.nn.Conv2d`).
///
/// # Args
/// - `in_channels`, `out_channels`: channels of the input and of the output
/// - `kernel_size`: one number or `[kH, kW]`
/// - [`ConvOptions`]: `stride`, `padding` (including [`Padding::Same`] and
///   [`Padding::Valid`]), `dilation`, `groups`, `bias`
///
/// # Shape
/// - input: `[N, C_in, H, W]` or unbatched `[C_in, H, W]`
/// - output: `[N, C_out, oH, oW]` with
///   `oH = (H + 2 * padding - dilation * (kH - 1) - 1) / stride + 1` (and so for W)
///
/// # Variables
/// - `weight`: `[out_channels, in_channels / groups, kH, kW]`
/// - `bias`: `[out_channels]`
///
/// Both are `f32` leaves from `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`, with
/// `fan_in = in_channels / groups * kH * kW` (PyTorch's default initialisation).
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{Conv2d, ConvOptions, Forward, Padding};
/// let conv = Conv2d::new(1, 32, 3);
/// assert_eq!(conv.forward(&Tensor::randn(&[8, 1, 28, 28])).shape(), vec![8, 32, 26, 26]);
///
/// let same = Conv2d::with_options(16, 32, [3, 4], ConvOptions::new().padding(Padding::Same).groups(4));
/// assert_eq!(same.weight.shape(), vec![32, 4, 3, 4]);
/// assert_eq!(same.forward(&Tensor::randn(&[2, 16, 7, 7])).shape(), vec![2, 32, 7, 7]);
/// ```
pub struct Conv2d {
    /// `[out_channels, in_channels / groups, kH, kW]`.
    pub weight: Tensor,
    /// `[out_channels]`, or `None` for a layer without bias.
    pub bias: Option<Tensor>,
    /// Stride, padding, dilation and groups (the `bias` flag is only read at creation).
    pub options: ConvOptions,
}

impl Conv2d {
    /// A layer with PyTorch's defaults (`nn.Conv2d(in_channels, out_channels, kernel_size)`).
    #[track_caller]
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: impl IntoPair) -> Self {
        Self::with_options(in_channels, out_channels, kernel_size, ConvOptions::default())
    }

    /// A layer with the given options (`nn.Conv2d(..., stride=.., padding=.., ...)`).
    ///
    /// # Panics
    /// If `groups` does not divide both channel counts.
    #[track_caller]
    pub fn with_options(
        in_channels: usize,
        out_channels: usize,
        kernel_size: impl IntoPair,
        options: ConvOptions,
    ) -> Self {
        let [kh, kw] = kernel_size.into_pair();
        let shape = [out_channels, in_channels / options.groups.max(1), kh, kw];
        let (weight, bias) = parameters("Conv2d", in_channels, &shape, &options);
        Conv2d { weight, bias, options }
    }
}

impl Module for Conv2d {
    fn visit(&self, v: &mut dyn Visitor) {
        v.param("weight", &self.weight);
        if let Some(b) = &self.bias {
            v.param("bias", b);
        }
    }
}

impl Forward for Conv2d {
    fn forward(&self, x: &Tensor) -> Tensor {
        let o = &self.options;
        functional::conv2d(x, &self.weight, self.bias.as_ref(), o.stride, o.padding, o.dilation, o.groups)
    }
}

impl fmt::Debug for Conv2d {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.weight.shape();
        let o = &self.options;
        write!(
            f,
            "Conv2d({}, {}, kernel_size={:?}, stride={:?}, padding={:?}, dilation={:?}, groups={}, bias={})",
            w[1] * o.groups,
            w[0],
            &w[2..],
            o.stride,
            o.padding,
            o.dilation,
            o.groups,
            self.bias.is_some()
        )
    }
}

/// 1-D convolution over an input of sequences (`torch.nn.Conv1d`).
///
/// # Args
/// - `in_channels`, `out_channels`: channels of the input and of the output
/// - `kernel_size`: the window length
/// - [`ConvOptions`] with single numbers: `stride`, `padding` (including
///   [`Padding::Same`] and [`Padding::Valid`]), `dilation`, `groups`, `bias`
///
/// # Shape
/// - input: `[N, C_in, L]` or unbatched `[C_in, L]`
/// - output: `[N, C_out, oL]` with `oL = (L + 2 * padding - dilation * (k - 1) - 1) / stride + 1`
///
/// # Variables
/// - `weight`: `[out_channels, in_channels / groups, kernel_size]`
/// - `bias`: `[out_channels]`
///
/// Both from `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`, `fan_in = in_channels / groups * kernel_size`.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{Conv1d, ConvOptions, Forward};
/// let conv = Conv1d::with_options(4, 8, 3, ConvOptions::new().stride(2).padding(1));
/// assert_eq!(conv.forward(&Tensor::randn(&[5, 4, 20])).shape(), vec![5, 8, 10]);
/// ```
pub struct Conv1d {
    /// `[out_channels, in_channels / groups, kernel_size]`.
    pub weight: Tensor,
    /// `[out_channels]`, or `None` for a layer without bias.
    pub bias: Option<Tensor>,
    /// Stride, padding, dilation and groups, as single numbers (both entries equal).
    pub options: ConvOptions,
}

impl Conv1d {
    /// A layer with PyTorch's defaults (`nn.Conv1d(in_channels, out_channels, kernel_size)`).
    #[track_caller]
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: usize) -> Self {
        Self::with_options(in_channels, out_channels, kernel_size, ConvOptions::default())
    }

    /// A layer with the given options.
    ///
    /// # Panics
    /// If `groups` does not divide both channel counts.
    #[track_caller]
    pub fn with_options(in_channels: usize, out_channels: usize, kernel_size: usize, options: ConvOptions) -> Self {
        let shape = [out_channels, in_channels / options.groups.max(1), kernel_size];
        let (weight, bias) = parameters("Conv1d", in_channels, &shape, &options);
        Conv1d { weight, bias, options }
    }
}

impl Module for Conv1d {
    fn visit(&self, v: &mut dyn Visitor) {
        v.param("weight", &self.weight);
        if let Some(b) = &self.bias {
            v.param("bias", b);
        }
    }
}

impl Forward for Conv1d {
    fn forward(&self, x: &Tensor) -> Tensor {
        let o = &self.options;
        let stride = functional::single_number("conv1d", "stride", o.stride);
        let dilation = functional::single_number("conv1d", "dilation", o.dilation);
        functional::conv1d(x, &self.weight, self.bias.as_ref(), stride, o.padding, dilation, o.groups)
    }
}

impl fmt::Debug for Conv1d {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.weight.shape();
        let o = &self.options;
        write!(
            f,
            "Conv1d({}, {}, kernel_size={}, stride={}, padding={:?}, dilation={}, groups={}, bias={})",
            w[1] * o.groups,
            w[0],
            w[2],
            o.stride[1],
            o.padding,
            o.dilation[1],
            o.groups,
            self.bias.is_some()
        )
    }
}
