//! The tape: nodes recorded by differentiable ops, saved tensors with their version
//! checks, and the thread-local grad mode.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use nabla_tensor::NdArray;
use smallvec::SmallVec;

use crate::error::AutogradError;
use crate::tensor::{Inner, Tensor};

/// What a node's backward returns: one gradient per input (`None` where not needed).
pub(crate) type Grads = Result<Vec<Option<NdArray>>, AutogradError>;

/// Maps the output gradient and a "which inputs need a gradient" mask to input
/// gradients. `Fn`, not `FnOnce`, so `retain_graph` can run it twice.
pub(crate) type BackwardFn = Box<dyn Fn(&NdArray, &[bool]) -> Grads + Send + Sync>;

/// Where an input's gradient goes.
pub(crate) enum Edge {
    /// The input needs no gradient.
    None,
    /// A leaf that accumulates into its `.grad`. Leaves have no `grad_fn`, so this
    /// strong reference cannot form a cycle.
    Leaf(Arc<Inner>),
    /// The node that produced the input.
    Node(Arc<Node>),
}

/// One recorded op.
pub(crate) struct Node {
    /// Creation order; decreasing `seq` is a valid reverse topological order because a
    /// node is always created after the nodes of its inputs.
    pub seq: u64,
    pub name: &'static str,
    /// Taken (and so freed with its saved tensors) after backward unless retained.
    pub backward: Mutex<Option<BackwardFn>>,
    /// Inline for the usual one or two inputs, so recording allocates less.
    pub inputs: SmallVec<[Edge; 2]>,
}

static NEXT_SEQ: AtomicU64 = AtomicU64::new(0);

impl Drop for Node {
    /// Drops a long chain (an RNN unrolled over thousands of steps) iteratively; the
    /// default recursive drop would overflow the stack.
    fn drop(&mut self) {
        let mut stack: Vec<Arc<Node>> = Vec::new();
        let take = |inputs: &mut SmallVec<[Edge; 2]>, stack: &mut Vec<Arc<Node>>| {
            stack.extend(inputs.drain(..).filter_map(|e| match e {
                Edge::Node(n) => Some(n),
                _ => None,
            }))
        };
        take(&mut self.inputs, &mut stack);
        while let Some(n) = stack.pop() {
            if let Ok(mut node) = Arc::try_unwrap(n) {
                take(&mut node.inputs, &mut stack);
            }
        }
    }
}

thread_local! {
    static NO_GRAD_DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// True unless a [`no_grad`] guard is alive on this thread.
pub fn is_grad_enabled() -> bool {
    NO_GRAD_DEPTH.with(|d| d.get() == 0)
}

/// Disables recording on this thread until the guard is dropped (`torch.no_grad()`).
///
/// ```
/// use nabla_autograd::{no_grad, Tensor};
/// let w = Tensor::ones(&[2]).requires_grad_(true);
/// let y = {
///     let _guard = no_grad();
///     &w * 2.0
/// };
/// assert!(!y.requires_grad());
/// ```
#[must_use = "grad mode is restored when the guard is dropped"]
pub fn no_grad() -> NoGradGuard {
    NO_GRAD_DEPTH.with(|d| d.set(d.get() + 1));
    NoGradGuard { _not_send: std::marker::PhantomData }
}

/// Re-enables recording when dropped; see [`no_grad`].
pub struct NoGradGuard {
    // Grad mode is per thread, so the guard must be dropped on the thread it was made on.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        NO_GRAD_DEPTH.with(|d| d.set(d.get() - 1));
    }
}

/// A tensor value kept for backward, with the version it had when saved.
pub(crate) struct Saved {
    data: NdArray,
    version: Arc<AtomicU64>,
    at: u64,
    op: &'static str,
}

impl Saved {
    /// Saves `t`'s current value for `op`'s backward.
    pub fn new(op: &'static str, t: &Tensor) -> Saved {
        let version = t.version_counter();
        let at = version.load(Ordering::Acquire);
        Saved { data: t.data(), version, at, op }
    }

    /// The saved value, or an error if the tensor was modified in place since.
    pub fn get(&self) -> Result<&NdArray, AutogradError> {
        let now = self.version.load(Ordering::Acquire);
        if now != self.at {
            return Err(AutogradError::ModifiedInPlace {
                op: self.op,
                shape: self.data.shape().to_vec(),
                dtype: self.data.dtype().to_string(),
                version: now,
                expected: self.at,
            });
        }
        Ok(&self.data)
    }
}

/// True when an op on `inputs` must be recorded.
pub(crate) fn needs_record(inputs: &[&Tensor]) -> bool {
    is_grad_enabled() && inputs.iter().any(|t| t.requires_grad())
}

/// Wraps `out` as the result of op `name` on `inputs`, recording a node whose backward
/// `build()` makes, if grad mode is on and an input requires grad. `build` runs only
/// when recording, so nothing is saved for ops that will never see a backward.
pub(crate) fn record<F>(name: &'static str, out: NdArray, inputs: &[&Tensor], build: impl FnOnce() -> F) -> Tensor
where
    F: Fn(&NdArray, &[bool]) -> Grads + Send + Sync + 'static,
{
    if !needs_record(inputs) {
        return Tensor::from_array(out);
    }
    let version = Arc::new(AtomicU64::new(0));
    Tensor::from_node(out, make_node(name, inputs, Box::new(build())), version)
}

/// Like [`record`], for ops whose backward reads their own output: `build` receives the
/// output saved with its version counter.
pub(crate) fn record_with_output<F>(
    name: &'static str,
    out: NdArray,
    inputs: &[&Tensor],
    build: impl FnOnce(Saved) -> F,
) -> Tensor
where
    F: Fn(&NdArray, &[bool]) -> Grads + Send + Sync + 'static,
{
    if !needs_record(inputs) {
        return Tensor::from_array(out);
    }
    let version = Arc::new(AtomicU64::new(0));
    let saved = Saved { data: out.clone(), version: version.clone(), at: 0, op: name };
    Tensor::from_node(out, make_node(name, inputs, Box::new(build(saved))), version)
}

fn make_node(name: &'static str, inputs: &[&Tensor], backward: BackwardFn) -> Arc<Node> {
    Arc::new(Node {
        seq: NEXT_SEQ.fetch_add(1, Ordering::Relaxed),
        name,
        backward: Mutex::new(Some(backward)),
        inputs: inputs.iter().map(|t| t.edge()).collect(),
    })
}
