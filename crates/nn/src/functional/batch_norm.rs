//! Batch normalisation (`F.batch_norm`), composed from recorded ops so that its
//! gradient is the chain rule of the forward pass.

use nabla_autograd::{no_grad, Tensor};

/// The running statistics of a batch-norm layer, updated in place by a training pass.
#[derive(Clone, Copy, Debug)]
pub struct RunningStats<'a> {
    /// The running mean per channel, `[C]`.
    pub mean: &'a Tensor,
    /// The running (unbiased) variance per channel, `[C]`.
    pub var: &'a Tensor,
}

/// Normalises each channel (dim 1) of `input` over the batch and any spatial dims
/// (`F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)`).
///
/// In training, or without running statistics, the batch's own mean and biased variance
/// normalise `input`; a training pass with `running` also updates it in place:
/// `running = (1 - momentum) * running + momentum * batch`, with the *unbiased* batch
/// variance, as PyTorch does. Otherwise the running statistics normalise. `weight` and
/// `bias` (`[C]`) then scale and shift each channel.
///
/// # Shape
/// - input: `[N, C]`, `[N, C, L]` or `[N, C, H, W]` (any `[N, C, *]`)
/// - output: the same shape
///
/// # Panics
/// If `input` has fewer than 2 dims, a per-channel tensor is not `[C]`, or a training
/// pass has only one value per channel (its variance is undefined), as PyTorch.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::functional::batch_norm;
/// let x = Tensor::from_vec(vec![1.0f32, 10.0, 3.0, 30.0], &[2, 2]);
/// let y = batch_norm(&x, None, None, None, true, 0.1, 0.0);
/// assert_eq!(y.to_vec::<f32>(), vec![-1.0, -1.0, 1.0, 1.0]);
/// ```
#[track_caller]
pub fn batch_norm(
    input: &Tensor,
    running: Option<RunningStats<'_>>,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> Tensor {
    let shape = input.shape();
    assert!(shape.len() >= 2, "batch_norm: input must be [N, C, *], got shape {shape:?}");
    let channels = shape[1];
    let per_channel = [("weight", weight), ("bias", bias), ("running_mean", running.map(|r| r.mean))]
        .into_iter()
        .chain([("running_var", running.map(|r| r.var))]);
    for (name, t) in per_channel {
        if let Some(t) = t {
            assert!(
                t.shape() == [channels],
                "batch_norm: {name} {:?} must be [{channels}] for input {shape:?}",
                t.shape()
            );
        }
    }
    // `[C]` -> `[1, C, 1, ...]`, to broadcast against the input.
    let mut channel_shape = vec![1isize; shape.len()];
    channel_shape[1] = -1;
    let per_channel = |t: &Tensor| t.view(&channel_shape);

    let normalized = match running {
        Some(stats) if !training => {
            input.sub(&per_channel(stats.mean)).mul(&per_channel(&stats.var.add_scalar(eps).rsqrt()))
        }
        _ => {
            let values = input.numel() / channels.max(1);
            assert!(
                values > 1,
                "batch_norm: expected more than 1 value per channel when training, got input size {shape:?}"
            );
            let dims: Vec<isize> = (0..shape.len() as isize).filter(|&d| d != 1).collect();
            let mean = input.mean_dim(&dims, true);
            let var = input.var(&dims, 0, true);
            if let Some(stats) = running {
                let _guard = no_grad();
                let unbiased = var.detach().mul_scalar(values as f64 / (values - 1) as f64);
                stats.mean.mul_scalar_(1.0 - momentum).add_(&mean.detach().reshape(&[-1]), momentum);
                stats.var.mul_scalar_(1.0 - momentum).add_(&unbiased.reshape(&[-1]), momentum);
            }
            input.sub(&mean).mul(&var.add_scalar(eps).rsqrt())
        }
    };
    let scaled = match weight {
        Some(w) => normalized.mul(&per_channel(w)),
        None => normalized,
    };
    match bias {
        Some(b) => scaled.add(&per_channel(b)),
        None => scaled,
    }
}
