//! Parameter initialisation (`torch.nn.init`): functions that overwrite a tensor in
//! place, from the seeded generator, with PyTorch's formulas for gains and fans.
//!
//! Each works under [`no_grad`] by itself, so it can be applied to parameters that
//! require grad, and returns the tensor for chaining. Keras names in brackets:
//! `xavier_uniform_` (`glorot_uniform`), `xavier_normal_` (`glorot_normal`, which is
//! truncated in Keras), `kaiming_uniform_` (`he_uniform` with `a = 0`, `FanIn`,
//! `Relu`), `kaiming_normal_` (`he_normal`, also truncated in Keras).
//!
//! ```
//! use nabla_autograd::Tensor;
//! use nabla_nn::init::{self, FanMode, Nonlinearity};
//! let w = Tensor::zeros(&[256, 784]).requires_grad_(true);
//! init::kaiming_normal_(&w, 0.0, FanMode::FanIn, Nonlinearity::Relu);
//! init::xavier_uniform_(&w, init::calculate_gain(Nonlinearity::Tanh, None));
//! init::zeros_(&w);
//! ```

use nabla_autograd::{no_grad, DType, NdArray, Tensor};

/// The function a layer's output goes through, for [`calculate_gain`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nonlinearity {
    /// No nonlinearity (gain 1).
    Linear,
    /// A 1-d convolution (gain 1).
    Conv1d,
    /// A 2-d convolution (gain 1).
    Conv2d,
    /// A 3-d convolution (gain 1).
    Conv3d,
    /// A 1-d transposed convolution (gain 1).
    ConvTranspose1d,
    /// A 2-d transposed convolution (gain 1).
    ConvTranspose2d,
    /// A 3-d transposed convolution (gain 1).
    ConvTranspose3d,
    /// Logistic sigmoid (gain 1).
    Sigmoid,
    /// Hyperbolic tangent (gain 5/3).
    Tanh,
    /// ReLU (gain sqrt(2)).
    Relu,
    /// Leaky ReLU; the negative slope is [`calculate_gain`]'s `param` (default 0.01).
    LeakyRelu,
    /// SELU (gain 3/4).
    Selu,
}

/// Which fan the variance is scaled by in the Kaiming initialisers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanMode {
    /// Preserves the variance of the activations in the forward pass.
    FanIn,
    /// Preserves the variance of the gradients in the backward pass.
    FanOut,
}

/// The recommended gain for a nonlinearity (`torch.nn.init.calculate_gain`): 1 for
/// linear, convolutions and sigmoid; 5/3 for tanh; sqrt(2) for ReLU;
/// `sqrt(2 / (1 + slope^2))` for leaky ReLU with `param` as the slope (default 0.01);
/// 3/4 for SELU. `param` is ignored by the others.
pub fn calculate_gain(nonlinearity: Nonlinearity, param: Option<f64>) -> f64 {
    use Nonlinearity::*;
    match nonlinearity {
        Linear | Conv1d | Conv2d | Conv3d | ConvTranspose1d | ConvTranspose2d | ConvTranspose3d | Sigmoid => 1.0,
        Tanh => 5.0 / 3.0,
        Relu => 2f64.sqrt(),
        LeakyRelu => {
            let slope = param.unwrap_or(0.01);
            (2.0 / (1.0 + slope * slope)).sqrt()
        }
        Selu => 0.75,
    }
}

/// `(fan_in, fan_out)` of a weight shaped `[out, in, *kernel]`: `in * prod(kernel)`
/// and `out * prod(kernel)`, as PyTorch computes them.
///
/// # Panics
/// For a tensor with fewer than 2 dims.
#[track_caller]
pub fn calculate_fan_in_and_fan_out(tensor: &Tensor) -> (usize, usize) {
    let shape = tensor.shape();
    if shape.len() < 2 {
        panic!("init: fan in and fan out can not be computed for a tensor with fewer than 2 dims (shape {shape:?})");
    }
    let receptive: usize = shape[2..].iter().product();
    (shape[1] * receptive, shape[0] * receptive)
}

/// Overwrites `tensor` with `sample(shape, dtype)` under `no_grad`, after checking it
/// is a float tensor. Empty tensors are left alone (as PyTorch does).
#[track_caller]
fn overwrite<'t>(op: &str, tensor: &'t Tensor, sample: impl FnOnce(&[usize], DType) -> NdArray) -> &'t Tensor {
    let dtype = tensor.dtype();
    if !dtype.is_float() {
        panic!("{op}: expected a float tensor (f32 or f64), got {dtype}");
    }
    if tensor.numel() > 0 {
        let _guard = no_grad();
        tensor.update_(|d| *d = sample(d.shape(), dtype).cast(dtype));
    }
    tensor
}

/// Fills with samples of `U(low, high)` (`nn.init.uniform_`).
#[track_caller]
pub fn uniform_(tensor: &Tensor, low: f64, high: f64) -> &Tensor {
    overwrite("uniform_", tensor, |shape, _| NdArray::rand(shape, DType::F64).mul_scalar(high - low).add_scalar(low))
}

/// Fills with samples of `N(mean, std^2)` (`nn.init.normal_`).
#[track_caller]
pub fn normal_(tensor: &Tensor, mean: f64, std: f64) -> &Tensor {
    overwrite("normal_", tensor, |shape, _| NdArray::randn(shape, DType::F64).mul_scalar(std).add_scalar(mean))
}

/// Fills with `value` (`nn.init.constant_`).
#[track_caller]
pub fn constant_(tensor: &Tensor, value: f64) -> &Tensor {
    overwrite("constant_", tensor, |shape, dtype| NdArray::full(shape, value, dtype))
}

/// Fills with ones (`nn.init.ones_`).
#[track_caller]
pub fn ones_(tensor: &Tensor) -> &Tensor {
    constant_(tensor, 1.0)
}

/// Fills with zeros (`nn.init.zeros_`).
#[track_caller]
pub fn zeros_(tensor: &Tensor) -> &Tensor {
    constant_(tensor, 0.0)
}

/// Glorot/Xavier uniform: `U(-a, a)` with `a = gain * sqrt(6 / (fan_in + fan_out))`
/// (`nn.init.xavier_uniform_`).
#[track_caller]
pub fn xavier_uniform_(tensor: &Tensor, gain: f64) -> &Tensor {
    let bound = 3f64.sqrt() * xavier_std(tensor, gain);
    uniform_(tensor, -bound, bound)
}

/// Glorot/Xavier normal: `N(0, std^2)` with `std = gain * sqrt(2 / (fan_in + fan_out))`
/// (`nn.init.xavier_normal_`).
#[track_caller]
pub fn xavier_normal_(tensor: &Tensor, gain: f64) -> &Tensor {
    normal_(tensor, 0.0, xavier_std(tensor, gain))
}

#[track_caller]
fn xavier_std(tensor: &Tensor, gain: f64) -> f64 {
    let (fan_in, fan_out) = calculate_fan_in_and_fan_out(tensor);
    gain * (2.0 / (fan_in + fan_out) as f64).sqrt()
}

/// He/Kaiming uniform: `U(-b, b)` with `b = gain * sqrt(3 / fan)`, where
/// `gain = calculate_gain(nonlinearity, Some(a))` and `fan` is chosen by `mode`
/// (`nn.init.kaiming_uniform_(tensor, a, mode, nonlinearity)`; PyTorch's defaults are
/// `a = 0`, `FanIn`, `LeakyRelu`).
#[track_caller]
pub fn kaiming_uniform_(tensor: &Tensor, a: f64, mode: FanMode, nonlinearity: Nonlinearity) -> &Tensor {
    if tensor.numel() == 0 {
        return tensor;
    }
    let bound = 3f64.sqrt() * kaiming_std(tensor, a, mode, nonlinearity);
    uniform_(tensor, -bound, bound)
}

/// He/Kaiming normal: `N(0, std^2)` with `std = gain / sqrt(fan)`
/// (`nn.init.kaiming_normal_`).
#[track_caller]
pub fn kaiming_normal_(tensor: &Tensor, a: f64, mode: FanMode, nonlinearity: Nonlinearity) -> &Tensor {
    if tensor.numel() == 0 {
        return tensor;
    }
    normal_(tensor, 0.0, kaiming_std(tensor, a, mode, nonlinearity))
}

#[track_caller]
fn kaiming_std(tensor: &Tensor, a: f64, mode: FanMode, nonlinearity: Nonlinearity) -> f64 {
    let (fan_in, fan_out) = calculate_fan_in_and_fan_out(tensor);
    let fan = match mode {
        FanMode::FanIn => fan_in,
        FanMode::FanOut => fan_out,
    };
    calculate_gain(nonlinearity, Some(a)) / (fan as f64).sqrt()
}

/// A (semi-)orthogonal matrix scaled by `gain` (`nn.init.orthogonal_`): the tensor,
/// viewed as `[rows, numel / rows]`, gets orthonormal rows (if rows <= cols) or
/// columns, drawn uniformly (Haar) by orthonormalising a Gaussian matrix in `f64`.
///
/// # Panics
/// For a tensor with fewer than 2 dims.
#[track_caller]
pub fn orthogonal_(tensor: &Tensor, gain: f64) -> &Tensor {
    let shape = tensor.shape();
    if shape.len() < 2 {
        panic!("orthogonal_: only tensors with 2 or more dims are supported, got shape {shape:?}");
    }
    overwrite("orthogonal_", tensor, |shape, _| {
        let rows = shape[0];
        let cols = shape[1..].iter().product::<usize>();
        // Orthonormalise the columns of a tall [long, short] Gaussian matrix.
        let (long, short) = (rows.max(cols), rows.min(cols));
        let q = orthonormal_columns(NdArray::randn(&[short, long], DType::F64).to_vec(), long);
        // q holds `short` orthonormal vectors of length `long`, one after another:
        // that is the [rows, cols] matrix when rows are the short side, else its transpose.
        let m = NdArray::from_vec(q, &[short, long]);
        let m = if rows <= cols { m } else { m.t() };
        m.mul_scalar(gain).reshape(&shape.iter().map(|&d| d as isize).collect::<Vec<_>>())
    })
}

/// Gram-Schmidt (modified, two passes for stability) on `vectors`, `len` values each,
/// in place. With Gaussian input this matches a QR decomposition whose `R` has a
/// positive diagonal, which is the sign convention that makes `Q` Haar-distributed.
fn orthonormal_columns(mut vectors: Vec<f64>, len: usize) -> Vec<f64> {
    let count = vectors.len() / len;
    for j in 0..count {
        let (done, rest) = vectors.split_at_mut(j * len);
        let v = &mut rest[..len];
        for _pass in 0..2 {
            for q in done.chunks_exact(len) {
                let r: f64 = q.iter().zip(v.iter()).map(|(a, b)| a * b).sum();
                v.iter_mut().zip(q).for_each(|(x, qk)| *x -= r * qk);
            }
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
    }
    vectors
}
