//! Layers that only reshape or pass through: Flatten and Identity.

use nabla_autograd::Tensor;

use crate::module::Forward;

/// Flattens a contiguous range of dims into one (`torch.nn.Flatten`); by default every
/// dim but the batch dim, so `[N, C, H, W]` becomes `[N, C*H*W]`.
///
/// # Args
/// - `start_dim`: first dim to flatten (default 1)
/// - `end_dim`: last dim to flatten, inclusive (default -1)
///
/// # Shape
/// - input: `[*, S_start, ..., S_end, *]`
/// - output: `[*, S_start * ... * S_end, *]`
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{Flatten, Forward};
/// assert_eq!(Flatten::new().forward(&Tensor::zeros(&[32, 1, 5, 5])).shape(), vec![32, 25]);
/// assert_eq!(Flatten::with_dims(0, 2).forward(&Tensor::zeros(&[32, 1, 5, 5])).shape(), vec![160, 5]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Flatten {
    /// First dim to flatten.
    pub start_dim: isize,
    /// Last dim to flatten (inclusive).
    pub end_dim: isize,
}

impl Flatten {
    /// Flattens dims `1..=-1` (`nn.Flatten()`).
    pub const fn new() -> Self {
        Self::with_dims(1, -1)
    }

    /// Flattens dims `start_dim..=end_dim` (`nn.Flatten(start_dim, end_dim)`).
    pub const fn with_dims(start_dim: isize, end_dim: isize) -> Self {
        Flatten { start_dim, end_dim }
    }
}

impl Default for Flatten {
    fn default() -> Self {
        Self::new()
    }
}

impl Forward for Flatten {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.flatten(self.start_dim, self.end_dim)
    }
}

/// Returns its input (`torch.nn.Identity`): a placeholder where an architecture
/// optionally has a layer.
///
/// # Shape
/// - input: any shape
/// - output: the same tensor
#[derive(Clone, Copy, Debug, Default)]
pub struct Identity;

impl Identity {
    /// The layer (`nn.Identity()`).
    pub const fn new() -> Self {
        Identity
    }
}

impl Forward for Identity {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.clone()
    }
}

stateless_module!(Flatten, Identity);
