//! The `Module` trait: a model is a tree of modules that hand their tensors and
//! children to a [`Visitor`]. Everything else (`parameters()`, `train()`, state dicts)
//! is written once on top of that in [`ModuleExt`](crate::ModuleExt).

use nabla_autograd::Tensor;

/// A layer or a model: something with parameters, buffers and sub-modules
/// (`torch.nn.Module`).
///
/// Implement it with `#[derive(Module)]` for a struct of fields, or by hand in a few
/// lines. `visit` names each tensor and child; the names are joined with dots
/// (`fc1.weight`, `layers.0.bias`), as in PyTorch.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{Module, ModuleExt, Visitor};
///
/// /// `y = x * scale`, with a learned scale.
/// struct Scale { scale: Tensor }
///
/// impl Module for Scale {
///     fn visit(&self, v: &mut dyn Visitor) {
///         v.param("scale", &self.scale);
///     }
/// }
///
/// let m = Scale { scale: Tensor::ones(&[3]).requires_grad_(true) };
/// assert_eq!(m.named_parameters()[0].0, "scale");
/// ```
///
/// Training mode (`train()`/`eval()`) is interior state, so it is set through `&self`;
/// only layers that behave differently (dropout, batch norm) override
/// [`set_training`](Module::set_training).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a nabla `Module`",
    label = "not a `Module`",
    note = "a #[derive(Module)] struct's fields must be modules or `Tensor`s; mark other fields #[module(skip)]"
)]
pub trait Module: Send + Sync {
    /// Hands this module's own parameters, buffers and direct children to `v`.
    fn visit(&self, v: &mut dyn Visitor);

    /// Switches this module itself (not its children) between training and evaluation
    /// behaviour. [`ModuleExt::train`](crate::ModuleExt::train) and
    /// [`eval`](crate::ModuleExt::eval) call it on every module of the tree.
    fn set_training(&self, _on: bool) {}
}

/// Receives what a [`Module`] holds, one `visit` call at a time.
pub trait Visitor {
    /// A trainable tensor, named relative to the module.
    fn param(&mut self, name: &str, tensor: &Tensor);
    /// A tensor that is saved in the state dict but not trained (a running mean).
    fn buffer(&mut self, name: &str, tensor: &Tensor);
    /// A sub-module, whose names get the prefix `name.`.
    fn child(&mut self, name: &str, module: &dyn Module);
}

/// A module with one input and one output: what [`Sequential`](crate::Sequential)
/// chains. Multi-input layers keep their own `forward` signature.
pub trait Forward {
    /// Applies the layer to `x`.
    fn forward(&self, x: &Tensor) -> Tensor;
}

/// A [`Module`] that is also [`Forward`]; implemented for every such type, so
/// `Box<dyn Layer>` holds any single-input layer.
pub trait Layer: Module + Forward {}

impl<T: Module + Forward + ?Sized> Layer for T {}

impl<M: Module + ?Sized> Module for Box<M> {
    fn visit(&self, v: &mut dyn Visitor) {
        (**self).visit(v)
    }
    fn set_training(&self, on: bool) {
        (**self).set_training(on)
    }
}

impl<F: Forward + ?Sized> Forward for Box<F> {
    fn forward(&self, x: &Tensor) -> Tensor {
        (**self).forward(x)
    }
}

/// A list of modules (`torch.nn.ModuleList`): element `i` is the child `"i"`.
impl<M: Module> Module for Vec<M> {
    fn visit(&self, v: &mut dyn Visitor) {
        for (i, m) in self.iter().enumerate() {
            v.child(&i.to_string(), m);
        }
    }
}

/// An optional module: the inner module's tensors under the same name when present,
/// nothing when absent.
impl<M: Module> Module for Option<M> {
    fn visit(&self, v: &mut dyn Visitor) {
        if let Some(m) = self {
            m.visit(v)
        }
    }
    fn set_training(&self, on: bool) {
        if let Some(m) = self {
            m.set_training(on)
        }
    }
}

/// Support for `#[derive(Module)]`; not a stable API.
#[doc(hidden)]
pub mod __private {
    use super::Visitor;
    use nabla_autograd::Tensor;

    /// A field the derive treats as tensors: `Tensor`, `Option<Tensor>` or `Vec<Tensor>`
    /// (named `field.0`, `field.1`, ... like `torch.nn.ParameterList`).
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a tensor field",
        note = "#[module(param)] and #[module(buffer)] apply to `Tensor`, `Option<Tensor>` and `Vec<Tensor>` fields"
    )]
    pub trait TensorField {
        /// Visits the tensors as parameters.
        fn visit_params(&self, name: &str, v: &mut dyn Visitor) {
            self.for_each(name, &mut |n, t| v.param(n, t))
        }
        /// Visits the tensors as buffers.
        fn visit_buffers(&self, name: &str, v: &mut dyn Visitor) {
            self.for_each(name, &mut |n, t| v.buffer(n, t))
        }
        /// Calls `f` with each tensor and its name.
        fn for_each(&self, name: &str, f: &mut dyn FnMut(&str, &Tensor));
    }

    impl TensorField for Tensor {
        fn for_each(&self, name: &str, f: &mut dyn FnMut(&str, &Tensor)) {
            f(name, self)
        }
    }

    impl TensorField for Option<Tensor> {
        fn for_each(&self, name: &str, f: &mut dyn FnMut(&str, &Tensor)) {
            if let Some(t) = self {
                f(name, t)
            }
        }
    }

    impl TensorField for Vec<Tensor> {
        fn for_each(&self, name: &str, f: &mut dyn FnMut(&str, &Tensor)) {
            for (i, t) in self.iter().enumerate() {
                f(&format!("{name}.{i}"), t)
            }
        }
    }
}
