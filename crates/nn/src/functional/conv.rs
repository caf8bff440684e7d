//! Convolution and pooling (`F.conv2d`, `F.conv1d`, `F.max_pool2d`, `F.avg_pool2d`,
//! `F.adaptive_avg_pool2d`) with PyTorch's positional arguments, over the recorded ops
//! of `nabla-autograd`. Unbatched inputs (no `N` dim) are accepted as in PyTorch; 1-D
//! convolution is the 2-D one on a height-1 view.

use nabla_autograd::{Conv2dSpec, Pool2dSpec, Tensor};

/// A size given as one number for every spatial dim or one per dim (PyTorch's
/// `int or tuple` arguments): `2`, `[2, 3]` or `(2, 3)` for `[H, W]`.
pub trait IntoPair {
    /// The `[H, W]` pair.
    fn into_pair(self) -> [usize; 2];
}

impl IntoPair for usize {
    fn into_pair(self) -> [usize; 2] {
        [self, self]
    }
}

impl IntoPair for [usize; 2] {
    fn into_pair(self) -> [usize; 2] {
        self
    }
}

impl IntoPair for (usize, usize) {
    fn into_pair(self) -> [usize; 2] {
        [self.0, self.1]
    }
}

/// The `padding` argument of a convolution (`int`, `tuple`, `"same"` or `"valid"`).
///
/// `2`, `[1, 2]` and `(1, 2)` convert into [`Padding::Explicit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// This many zeros on both sides, `[along H, along W]`; a 1-d convolution takes a
    /// single number (both entries equal).
    Explicit([usize; 2]),
    /// Pads so the output has the input's size (`padding="same"`; stride 1 only). For an
    /// even dilated kernel the extra zero goes on the bottom/right side, as in PyTorch.
    Same,
    /// No padding (`padding="valid"`).
    Valid,
}

impl Default for Padding {
    fn default() -> Self {
        Padding::Explicit([0, 0])
    }
}

impl<P: IntoPair> From<P> for Padding {
    fn from(p: P) -> Self {
        Padding::Explicit(p.into_pair())
    }
}

impl Padding {
    /// The zeros `[[top, bottom], [left, right]]` for a kernel of `kernel` taps.
    #[track_caller]
    fn resolve(self, op: &str, kernel: [usize; 2], stride: [usize; 2], dilation: [usize; 2]) -> [[usize; 2]; 2] {
        match self {
            Padding::Explicit([h, w]) => [[h, h], [w, w]],
            Padding::Valid => [[0, 0], [0, 0]],
            Padding::Same => {
                if stride != [1, 1] {
                    panic!("{op}: padding=\"same\" is not supported for strided convolutions (stride {stride:?})");
                }
                let side = |d: usize| {
                    let total = dilation[d] * kernel[d].saturating_sub(1);
                    [total / 2, total - total / 2]
                };
                [side(0), side(1)]
            }
        }
    }
}

/// 2-D convolution over an input of planes (`F.conv2d(input, weight, bias, stride,
/// padding, dilation, groups)`).
///
/// # Args
/// - `stride`, `dilation`: one number or `[H, W]` (PyTorch's defaults are 1)
/// - `padding`: a number, `[H, W]`, [`Padding::Same`] or [`Padding::Valid`] (default 0)
/// - `groups`: split input and output channels into this many blocked groups (default 1)
///
/// # Shape
/// - input: `[N, C_in, H, W]` or unbatched `[C_in, H, W]`
/// - weight: `[C_out, C_in / groups, kH, kW]`; bias: `[C_out]`
/// - output: `[N, C_out, oH, oW]` (or `[C_out, oH, oW]`) with
///   `oH = (H + 2 * padding - dilation * (kH - 1) - 1) / stride + 1`
///
/// # Panics
/// If the shapes do not fit, naming them.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::functional::{conv2d, Padding};
/// let x = Tensor::randn(&[2, 4, 9, 9]);
/// let w = Tensor::randn(&[6, 2, 3, 3]);
/// assert_eq!(conv2d(&x, &w, None, 2, 1, 1, 2).shape(), vec![2, 6, 5, 5]);
/// assert_eq!(conv2d(&x, &w, None, 1, Padding::Same, 2, 2).shape(), vec![2, 6, 9, 9]);
/// ```
#[track_caller]
pub fn conv2d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: impl IntoPair,
    padding: impl Into<Padding>,
    dilation: impl IntoPair,
    groups: usize,
) -> Tensor {
    let (stride, dilation) = (stride.into_pair(), dilation.into_pair());
    let ws = weight.shape();
    if ws.len() != 4 || !(3..=4).contains(&input.dim()) {
        panic!(
            "conv2d: expected a 3-D (unbatched) or 4-D (batched) input and a 4-D weight, got input {:?} and weight {ws:?}",
            input.shape()
        );
    }
    let padding = padding.into().resolve("conv2d", [ws[2], ws[3]], stride, dilation);
    let spec = Conv2dSpec { stride, padding, dilation, groups };
    batched(input, 4, |x| x.conv2d(weight, bias, &spec))
}

/// Runs `f` on `input` with a batch dim of size 1 added when it has `rank - 1` dims,
/// and removes it from the result.
fn batched(input: &Tensor, rank: usize, f: impl FnOnce(&Tensor) -> Tensor) -> Tensor {
    if input.dim() == rank {
        f(input)
    } else {
        f(&input.unsqueeze(0)).squeeze_dim(0)
    }
}

/// The single number a 1-d argument given as a pair must be.
#[track_caller]
pub(crate) fn single_number(op: &str, what: &str, [a, b]: [usize; 2]) -> usize {
    if a != b {
        panic!("{op}: {what} must be a single number, got [{a}, {b}]");
    }
    a
}

/// 1-D convolution over an input of sequences (`F.conv1d(input, weight, bias, stride,
/// padding, dilation, groups)`).
///
/// # Args
/// - `stride`, `dilation`: step between windows and between kernel taps (default 1)
/// - `padding`: a number, [`Padding::Same`] or [`Padding::Valid`] (default 0)
/// - `groups`: blocked connections from input to output channels (default 1)
///
/// # Shape
/// - input: `[N, C_in, L]` or unbatched `[C_in, L]`
/// - weight: `[C_out, C_in / groups, k]`; bias: `[C_out]`
/// - output: `[N, C_out, oL]` with `oL = (L + 2 * padding - dilation * (k - 1) - 1) / stride + 1`
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::functional::conv1d;
/// let y = conv1d(&Tensor::randn(&[2, 3, 10]), &Tensor::randn(&[5, 3, 4]), None, 2, 1, 1, 1);
/// assert_eq!(y.shape(), vec![2, 5, 5]);
/// ```
#[track_caller]
pub fn conv1d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: usize,
    padding: impl Into<Padding>,
    dilation: usize,
    groups: usize,
) -> Tensor {
    let ws = weight.shape();
    if ws.len() != 3 || !(2..=3).contains(&input.dim()) {
        panic!(
            "conv1d: expected a 2-D (unbatched) or 3-D (batched) input and a 3-D weight, got input {:?} and weight {ws:?}",
            input.shape()
        );
    }
    let padding = match padding.into() {
        Padding::Explicit(p) => Padding::Explicit([0, single_number("conv1d", "padding", p)]),
        other => other,
    };
    let w = weight.unsqueeze(2);
    let padding = padding.resolve("conv1d", [1, ws[2]], [1, stride], [1, dilation]);
    let spec = Conv2dSpec { stride: [1, stride], padding, dilation: [1, dilation], groups };
    batched(input, 3, |x| x.unsqueeze(2).conv2d(&w, bias, &spec).squeeze_dim(2))
}

/// The pooling window from PyTorch's arguments.
fn pool_spec(
    kernel: impl IntoPair,
    stride: impl IntoPair,
    padding: impl IntoPair,
    dilation: [usize; 2],
    ceil_mode: bool,
) -> Pool2dSpec {
    Pool2dSpec {
        kernel: kernel.into_pair(),
        stride: stride.into_pair(),
        padding: padding.into_pair(),
        dilation,
        ceil_mode,
    }
}

/// 2-D max pooling (`F.max_pool2d(input, kernel_size, stride, padding, dilation,
/// ceil_mode)`); NaN wins, as in PyTorch. The gradient goes to each window's maximum.
///
/// # Args
/// - `kernel_size`: window size, one number or `[H, W]`
/// - `stride`: step between windows (PyTorch's default, `None`, means `kernel_size`:
///   pass the kernel size)
/// - `padding`: implicit negative infinity on both sides, at most half the window
/// - `dilation`: spacing between window taps (default 1)
/// - `ceil_mode`: round the output size up; the last window must still start inside
///   the input or its left padding
///
/// # Shape
/// - input: `[N, C, H, W]` or `[C, H, W]`; output: `[N, C, oH, oW]` or `[C, oH, oW]`
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::functional::max_pool2d;
/// let x = Tensor::randn(&[32, 32, 11, 11]);
/// assert_eq!(max_pool2d(&x, 2, 2, 0, 1, false).shape(), vec![32, 32, 5, 5]);
/// assert_eq!(max_pool2d(&x, 2, 2, 0, 1, true).shape(), vec![32, 32, 6, 6]);
/// ```
#[track_caller]
pub fn max_pool2d(
    input: &Tensor,
    kernel_size: impl IntoPair,
    stride: impl IntoPair,
    padding: impl IntoPair,
    dilation: impl IntoPair,
    ceil_mode: bool,
) -> Tensor {
    input.max_pool2d(&pool_spec(kernel_size, stride, padding, dilation.into_pair(), ceil_mode))
}

/// 2-D average pooling (`F.avg_pool2d(input, kernel_size, stride, padding, ceil_mode,
/// count_include_pad)`).
///
/// # Args
/// - `kernel_size`, `stride` (pass the kernel size for PyTorch's default), `padding`
///   (implicit zeros, at most half the window), `ceil_mode`: as in [`max_pool2d`]
/// - `count_include_pad`: divide by the window size including padded zeros
///   (PyTorch's default, `true`) or by the number of input elements in the window
///
/// # Shape
/// - input: `[N, C, H, W]` or `[C, H, W]`; output: `[N, C, oH, oW]` or `[C, oH, oW]`
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::functional::avg_pool2d;
/// let y = avg_pool2d(&Tensor::ones(&[1, 1, 3, 3]), 2, 2, 1, false, false);
/// assert_eq!(y.to_vec::<f32>(), vec![1.0; 4]);
/// ```
#[track_caller]
pub fn avg_pool2d(
    input: &Tensor,
    kernel_size: impl IntoPair,
    stride: impl IntoPair,
    padding: impl IntoPair,
    ceil_mode: bool,
    count_include_pad: bool,
) -> Tensor {
    input.avg_pool2d(&pool_spec(kernel_size, stride, padding, [1, 1], ceil_mode), count_include_pad)
}

/// Adaptive 2-D average pooling to `output_size` (`F.adaptive_avg_pool2d`): output `i`
/// along an axis of length `len` averages inputs `floor(i*len/out)..ceil((i+1)*len/out)`.
///
/// # Shape
/// - input: `[N, C, H, W]` or `[C, H, W]`; output: `[N, C, oH, oW]` or `[C, oH, oW]`
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::functional::adaptive_avg_pool2d;
/// assert_eq!(adaptive_avg_pool2d(&Tensor::randn(&[2, 8, 7, 9]), 1).shape(), vec![2, 8, 1, 1]);
/// ```
#[track_caller]
pub fn adaptive_avg_pool2d(input: &Tensor, output_size: impl IntoPair) -> Tensor {
    input.adaptive_avg_pool2d(output_size.into_pair())
}
