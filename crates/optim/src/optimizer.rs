//! The `Optimizer` trait every optimizer implements.

use nabla_autograd::Tensor;

use crate::{OptimError, OptimizerState};

/// Updates parameters from their gradients (PyTorch's `torch.optim.Optimizer`).
///
/// An optimizer holds handles to the parameters (cheap clones sharing the model's
/// tensors) and, per parameter, the running state of its update rule. One training
/// iteration is `zero_grad`, forward, `backward`, `step`:
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_optim::{Optimizer, SGD};
///
/// // Minimise (w - 3)^2 elementwise.
/// let w = Tensor::from_vec(vec![0.0f32, 1.0], &[2]).requires_grad_(true);
/// let target = Tensor::from_vec(vec![3.0f32, 3.0], &[2]);
/// let mut opt = SGD::new(vec![w.clone()], 0.1).momentum(0.9);
/// for _ in 0..100 {
///     opt.zero_grad();
///     let loss = (&w - &target).square().sum();
///     loss.backward();
///     opt.step();
/// }
/// assert!(w.to_vec::<f32>().iter().all(|v| (v - 3.0).abs() < 1e-2));
///
/// // Checkpoint: the state (momentum buffers, step counts, lr) serialises with serde.
/// let state = opt.state_dict();
/// let mut resumed = SGD::new(vec![w.clone()], 0.1).momentum(0.9);
/// resumed.load_state_dict(&state).unwrap();
/// ```
pub trait Optimizer {
    /// The parameters this optimizer updates, in the order given at construction.
    fn params(&self) -> &[Tensor];

    /// Clears every parameter's gradient (`zero_grad(set_to_none=True)`, PyTorch's
    /// default): the next `backward` writes fresh gradients instead of adding to old ones.
    fn zero_grad(&mut self) {
        for p in self.params() {
            p.set_grad(None);
        }
    }

    /// Performs one update of every parameter that has a gradient. Parameters whose
    /// gradient is `None` are skipped, and their state (step count included) is left as is.
    fn step(&mut self);

    /// The current learning rate.
    fn lr(&self) -> f64;

    /// Sets the learning rate (what schedulers call).
    ///
    /// # Panics
    /// If `lr` is negative or NaN ("Invalid learning rate").
    fn set_lr(&mut self, lr: f64);

    /// A snapshot of the optimizer: hyperparameters, current learning rate, and each
    /// parameter's step count and buffers. Later steps do not change the snapshot.
    fn state_dict(&self) -> OptimizerState;

    /// Restores a snapshot taken by [`Optimizer::state_dict`] of the same kind of
    /// optimizer over parameters of the same shapes and dtypes, hyperparameters
    /// included. On error nothing is changed.
    fn load_state_dict(&mut self, state: &OptimizerState) -> Result<(), OptimError>;
}
