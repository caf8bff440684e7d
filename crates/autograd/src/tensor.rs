//! `Tensor`: the user-facing handle to a value, its gradient and the op that made it.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use nabla_tensor::{DType, Element, NdArray};

use crate::graph::{is_grad_enabled, Edge, Node};

/// An n-dimensional array that can record the ops applied to it and differentiate them.
///
/// Cloning is cheap: clones are handles to the same tensor (like Python references),
/// so a model and its optimizer can share parameters. `Tensor` is `Send + Sync`.
///
/// ```
/// use nabla_autograd::Tensor;
/// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]).requires_grad_(true);
/// let y = (&x * &x).sum();
/// y.backward();
/// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![2.0, 4.0, 6.0]);
/// ```
#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    /// The value. A lock (not a plain field) because optimizers update parameters in
    /// place through shared handles.
    data: RwLock<NdArray>,
    grad: Mutex<Option<NdArray>>,
    requires_grad: AtomicBool,
    grad_fn: Option<Arc<Node>>,
    /// Bumped by every in-place write; saved tensors compare against it.
    version: Arc<AtomicU64>,
}

impl Inner {
    /// Adds `g` into this leaf's gradient (gradients accumulate, as in PyTorch).
    pub(crate) fn accumulate_grad(&self, g: NdArray) {
        let dtype = self.data.read().unwrap_or_else(|e| e.into_inner()).dtype();
        let g = if g.dtype() == dtype { g } else { g.cast(dtype) };
        let mut slot = self.grad.lock().unwrap_or_else(|e| e.into_inner());
        *slot = Some(match slot.take() {
            None if g.is_contiguous() => g,
            None => g.contiguous(),
            Some(old) => old.add(&g),
        });
    }
}

impl Tensor {
    pub(crate) fn from_parts(
        data: NdArray,
        requires_grad: bool,
        grad_fn: Option<Arc<Node>>,
        version: Arc<AtomicU64>,
    ) -> Self {
        Tensor(Arc::new(Inner {
            data: RwLock::new(data),
            grad: Mutex::new(None),
            requires_grad: AtomicBool::new(requires_grad),
            grad_fn,
            version,
        }))
    }

    /// A leaf that does not require grad.
    pub(crate) fn from_array(data: NdArray) -> Self {
        Self::from_parts(data, false, None, Arc::new(AtomicU64::new(0)))
    }

    pub(crate) fn from_node(data: NdArray, node: Arc<Node>, version: Arc<AtomicU64>) -> Self {
        Self::from_parts(data, true, Some(node), version)
    }

    /// Wraps an array as a leaf tensor that does not require grad.
    pub fn new(data: NdArray) -> Self {
        Self::from_array(data)
    }

    /// A tensor holding `data` shaped `shape`.
    ///
    /// # Panics
    /// If the length does not match the shape; see [`Tensor::try_from_vec`].
    #[track_caller]
    pub fn from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Self {
        Self::new(NdArray::from_vec(data, shape))
    }

    /// Like [`Tensor::from_vec`] but returns an error for a length mismatch.
    pub fn try_from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Result<Self, nabla_tensor::TensorError> {
        NdArray::try_from_vec(data, shape).map(Self::new)
    }

    /// A copy of `data` shaped `shape`.
    #[track_caller]
    pub fn from_slice<T: Element>(data: &[T], shape: &[usize]) -> Self {
        Self::new(NdArray::from_slice(data, shape))
    }

    /// A 0-d `f32` tensor.
    pub fn scalar(value: f64) -> Self {
        Self::new(NdArray::scalar(value, DType::F32))
    }

    /// `f32` zeros (`torch.zeros`).
    pub fn zeros(shape: &[usize]) -> Self {
        Self::new(NdArray::zeros(shape, DType::F32))
    }

    /// `f32` ones (`torch.ones`).
    pub fn ones(shape: &[usize]) -> Self {
        Self::new(NdArray::ones(shape, DType::F32))
    }

    /// An `f32` tensor filled with `value` (`torch.full`).
    pub fn full(shape: &[usize], value: f64) -> Self {
        Self::new(NdArray::full(shape, value, DType::F32))
    }

    /// Zeros with this tensor's shape and dtype.
    pub fn zeros_like(&self) -> Self {
        Self::new(self.data().zeros_like())
    }

    /// Ones with this tensor's shape and dtype.
    pub fn ones_like(&self) -> Self {
        Self::new(self.data().ones_like())
    }

    /// Values from `start` below `end` in steps of `step` (`torch.arange`): `i64` when
    /// all three are whole numbers, else `f32`, as in PyTorch.
    #[track_caller]
    pub fn arange(start: f64, end: f64, step: f64) -> Self {
        let integral = [start, end, step].iter().all(|v| v.fract() == 0.0);
        Self::new(NdArray::arange(start, end, step, if integral { DType::I64 } else { DType::F32 }))
    }

    /// `steps` evenly spaced `f32` values from `start` to `end` (`torch.linspace`).
    pub fn linspace(start: f64, end: f64, steps: usize) -> Self {
        Self::new(NdArray::linspace(start, end, steps, DType::F32))
    }

    /// The `n x n` `f32` identity (`torch.eye`).
    pub fn eye(n: usize) -> Self {
        Self::new(NdArray::eye(n, DType::F32))
    }

    /// Uniform `[0, 1)` `f32` samples from the seeded generator (`torch.rand`).
    pub fn rand(shape: &[usize]) -> Self {
        Self::new(NdArray::rand(shape, DType::F32))
    }

    /// Standard normal `f32` samples from the seeded generator (`torch.randn`).
    pub fn randn(shape: &[usize]) -> Self {
        Self::new(NdArray::randn(shape, DType::F32))
    }

    /// Uniform `i64` integers in `low..high` (`torch.randint`).
    #[track_caller]
    pub fn randint(low: i64, high: i64, shape: &[usize]) -> Self {
        Self::new(NdArray::randint(low, high, shape, DType::I64))
    }

    /// The current value (a cheap handle sharing storage).
    pub fn data(&self) -> NdArray {
        self.0.data.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The shape.
    pub fn shape(&self) -> Vec<usize> {
        self.0.data.read().unwrap_or_else(|e| e.into_inner()).shape().to_vec()
    }

    /// The extent of dim `dim` (negative counts from the end), as `Tensor.size(dim)`.
    #[track_caller]
    pub fn size(&self, dim: isize) -> usize {
        let shape = self.shape();
        shape[nabla_tensor::normalize_dim("size", dim, shape.len())]
    }

    /// Number of dims (`Tensor.dim()`).
    pub fn dim(&self) -> usize {
        self.0.data.read().unwrap_or_else(|e| e.into_inner()).ndim()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.0.data.read().unwrap_or_else(|e| e.into_inner()).numel()
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.0.data.read().unwrap_or_else(|e| e.into_inner()).dtype()
    }

    /// The value of a one-element tensor (`Tensor.item()`).
    #[track_caller]
    pub fn item(&self) -> f64 {
        self.data().item()
    }

    /// The elements in row-major order, converted to `T` (`Tensor.tolist()` flattened).
    pub fn to_vec<T: Element>(&self) -> Vec<T> {
        self.data().to_vec()
    }

    /// True when ops on this tensor are recorded for backward.
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// Sets whether this leaf records ops (`Tensor.requires_grad_`), returning a handle
    /// to it for chaining.
    ///
    /// # Panics
    /// On a non-leaf, or when asking an integer tensor to require grad.
    #[track_caller]
    pub fn requires_grad_(&self, on: bool) -> Tensor {
        if self.0.grad_fn.is_some() {
            panic!("requires_grad_: you can only change requires_grad flags of leaf variables");
        }
        if on && !self.dtype().is_float() {
            panic!("requires_grad_: only tensors of floating point dtype can require gradients (got {})", self.dtype());
        }
        self.0.requires_grad.store(on, Ordering::Relaxed);
        self.clone()
    }

    /// True for tensors not produced by a recorded op.
    pub fn is_leaf(&self) -> bool {
        self.0.grad_fn.is_none()
    }

    /// The name of the op that produced this tensor, if recorded (`Tensor.grad_fn`).
    pub fn grad_fn_name(&self) -> Option<&'static str> {
        self.0.grad_fn.as_ref().map(|n| n.name)
    }

    /// The accumulated gradient of a leaf (`Tensor.grad`).
    pub fn grad(&self) -> Option<Tensor> {
        self.0.grad.lock().unwrap_or_else(|e| e.into_inner()).clone().map(Tensor::new)
    }

    /// The accumulated gradient as an array, without wrapping it in a tensor.
    pub fn grad_array(&self) -> Option<NdArray> {
        self.0.grad.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the gradient (`tensor.grad = g`); `None` clears it, as `zero_grad` does.
    #[track_caller]
    pub fn set_grad(&self, grad: Option<NdArray>) {
        if let Some(g) = &grad {
            if g.shape() != self.shape().as_slice() {
                panic!("set_grad: gradient of shape {:?} does not match tensor of shape {:?}", g.shape(), self.shape());
            }
        }
        *self.0.grad.lock().unwrap_or_else(|e| e.into_inner()) = grad;
    }

    /// Clears the gradient (PyTorch's `zero_grad(set_to_none=True)`).
    pub fn zero_grad(&self) {
        self.set_grad(None);
    }

    /// A new leaf sharing this value, cut from the graph (`Tensor.detach`).
    pub fn detach(&self) -> Tensor {
        Tensor::from_parts(self.data(), false, None, self.0.version.clone())
    }

    /// How many in-place writes this tensor has seen (`Tensor._version`).
    pub fn version(&self) -> u64 {
        self.0.version.load(Ordering::Acquire)
    }

    /// True when both handles refer to the same tensor.
    pub fn same_as(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    pub(crate) fn version_counter(&self) -> Arc<AtomicU64> {
        self.0.version.clone()
    }

    pub(crate) fn edge(&self) -> Edge {
        match &self.0.grad_fn {
            Some(n) => Edge::Node(n.clone()),
            None if self.requires_grad() => Edge::Leaf(self.0.clone()),
            None => Edge::None,
        }
    }

    pub(crate) fn grad_fn(&self) -> Option<&Arc<Node>> {
        self.0.grad_fn.as_ref()
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.0
    }

    /// Modifies the value in place through `f` (the primitive under `copy_`, `add_`,
    /// `zero_`, and optimizer updates), bumping the version so a backward that saved the
    /// old value fails loudly instead of using the new one.
    ///
    /// # Panics
    /// If grad mode is on and this tensor requires grad: an in-place write to a leaf
    /// that requires grad must happen under [`no_grad`](crate::no_grad), and in-place
    /// ops are not recorded on the tape.
    #[track_caller]
    pub fn update_<R>(&self, f: impl FnOnce(&mut NdArray) -> R) -> R {
        if is_grad_enabled() && self.requires_grad() {
            if self.is_leaf() {
                panic!("a leaf Variable that requires grad is being used in an in-place operation (use no_grad())");
            }
            panic!(
                "in-place operations on tensors that are part of a graph are not supported; use the out-of-place op"
            );
        }
        let mut data = self.0.data.write().unwrap_or_else(|e| e.into_inner());
        let shape = data.shape().to_vec();
        let dtype = data.dtype();
        let r = f(&mut data);
        assert!(
            data.shape() == shape.as_slice() && data.dtype() == dtype,
            "in-place update changed shape {shape:?} ({dtype}) to {:?} ({})",
            data.shape(),
            data.dtype()
        );
        self.0.version.fetch_add(1, Ordering::AcqRel);
        r
    }

    /// Copies `src` (broadcast, cast) into this tensor in place (`Tensor.copy_`).
    #[track_caller]
    pub fn copy_(&self, src: &Tensor) -> &Tensor {
        let s = src.data();
        self.update_(|d| d.assign(&s));
        self
    }

    /// Fills with `value` in place (`Tensor.fill_`).
    #[track_caller]
    pub fn fill_(&self, value: f64) -> &Tensor {
        self.update_(|d| *d = NdArray::full(d.shape(), value, d.dtype()));
        self
    }

    /// Sets every element to zero in place (`Tensor.zero_`).
    #[track_caller]
    pub fn zero_(&self) -> &Tensor {
        self.fill_(0.0)
    }

    /// Adds `other * alpha` in place (`Tensor.add_(other, alpha=alpha)`).
    #[track_caller]
    pub fn add_(&self, other: &Tensor, alpha: f64) -> &Tensor {
        let o = other.data();
        self.update_(|d| *d = d.add(&if alpha == 1.0 { o } else { o.mul_scalar(alpha) }).cast(d.dtype()));
        self
    }

    /// Multiplies by `value` in place (`Tensor.mul_`).
    #[track_caller]
    pub fn mul_scalar_(&self, value: f64) -> &Tensor {
        self.update_(|d| *d = d.mul_scalar(value).cast(d.dtype()));
        self
    }
}

impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.data().to_string();
        let body = &s[..s.len() - 1];
        match (self.grad_fn_name(), self.requires_grad()) {
            (Some(op), _) => write!(f, "{body}, grad_fn=<{op}>)"),
            (None, true) => write!(f, "{body}, requires_grad=true)"),
            (None, false) => f.write_str(&s),
        }
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
