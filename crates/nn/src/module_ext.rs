//! `ModuleExt`: everything a model can do, built once on top of `Module::visit`.

use std::path::Path;

use nabla_autograd::Tensor;

use crate::checkpoint::{self, CheckpointError};
use crate::module::{Module, Visitor};
use crate::state_dict::{self, IncompatibleKeys, StateDict, StateDictError};

/// Whether a visited tensor is trained or only saved.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Param,
    Buffer,
}

/// Walks a module tree, calling `f` with each tensor's dotted name.
struct TensorWalker<'f> {
    prefix: String,
    f: &'f mut dyn FnMut(&str, &Tensor, Kind),
}

impl TensorWalker<'_> {
    fn emit(&mut self, name: &str, tensor: &Tensor, kind: Kind) {
        let len = self.prefix.len();
        self.prefix.push_str(name);
        (self.f)(&self.prefix, tensor, kind);
        self.prefix.truncate(len);
    }
}

impl Visitor for TensorWalker<'_> {
    fn param(&mut self, name: &str, tensor: &Tensor) {
        self.emit(name, tensor, Kind::Param)
    }
    fn buffer(&mut self, name: &str, tensor: &Tensor) {
        self.emit(name, tensor, Kind::Buffer)
    }
    fn child(&mut self, name: &str, module: &dyn Module) {
        let len = self.prefix.len();
        self.prefix.push_str(name);
        self.prefix.push('.');
        module.visit(self);
        self.prefix.truncate(len);
    }
}

/// Calls `f` with every parameter and buffer of the tree under `module` and its dotted
/// name, in visit order (fields in declaration order, children depth-first).
fn for_each_tensor(module: &(impl Module + ?Sized), f: &mut dyn FnMut(&str, &Tensor, Kind)) {
    module.visit(&mut TensorWalker { prefix: String::new(), f });
}

/// Sets the training flag of every module below the one it visits.
struct ModeSetter(bool);

impl Visitor for ModeSetter {
    fn param(&mut self, _: &str, _: &Tensor) {}
    fn buffer(&mut self, _: &str, _: &Tensor) {}
    fn child(&mut self, _: &str, module: &dyn Module) {
        module.set_training(self.0);
        module.visit(self);
    }
}

/// What every [`Module`] can do (implemented for all of them): parameters with dotted
/// names, train/eval, gradients, state dicts and checkpoints (`torch.nn.Module`'s
/// methods). Bring it into scope with `use nabla_nn::ModuleExt` (the prelude does).
///
/// ```
/// use nabla_nn::{Linear, ModuleExt, Sequential, ReLU};
/// let model = Sequential::new().add(Linear::new(4, 8)).add(ReLU::new()).add(Linear::new(8, 2));
/// let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
/// assert_eq!(model.num_params(), 4 * 8 + 8 + 8 * 2 + 2);
/// model.eval();
/// ```
pub trait ModuleExt: Module {
    /// The parameters with their dotted names (`fc1.weight`), in visit order. A tensor
    /// reachable under two names (tied weights) is listed once, under the first.
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out: Vec<(String, Tensor)> = Vec::new();
        for_each_tensor(self, &mut |name, t, kind| {
            if kind == Kind::Param && !out.iter().any(|(_, p)| p.same_as(t)) {
                out.push((name.to_string(), t.clone()));
            }
        });
        out
    }

    /// The parameters (handles shared with the model), for an optimizer.
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters().into_iter().map(|(_, t)| t).collect()
    }

    /// The buffers (saved, not trained) with their dotted names.
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for_each_tensor(self, &mut |name, t, kind| {
            if kind == Kind::Buffer {
                out.push((name.to_string(), t.clone()));
            }
        });
        out
    }

    /// The total number of parameter elements (`sum(p.numel() for p in parameters())`).
    fn num_params(&self) -> usize {
        self.parameters().iter().map(Tensor::numel).sum()
    }

    /// Puts this module and all its descendants in training mode (`module.train()`).
    fn train(&self) {
        self.set_training(true);
        self.visit(&mut ModeSetter(true));
    }

    /// Puts this module and all its descendants in evaluation mode (`module.eval()`):
    /// dropout becomes the identity.
    fn eval(&self) {
        self.set_training(false);
        self.visit(&mut ModeSetter(false));
    }

    /// Clears every parameter's gradient (`zero_grad(set_to_none=True)`).
    fn zero_grad(&self) {
        for_each_tensor(self, &mut |_, t, kind| {
            if kind == Kind::Param {
                t.zero_grad();
            }
        });
    }

    /// A snapshot of every parameter and buffer by dotted name (`module.state_dict()`).
    ///
    /// Unlike PyTorch's, the values do not follow later updates of the model: arrays
    /// are copy-on-write, so the snapshot is free until the model is next written.
    ///
    /// # Panics
    /// If two different tensors of the tree have the same name (a hand-written `visit`
    /// that repeats a name).
    #[track_caller]
    fn state_dict(&self) -> StateDict {
        let mut out = StateDict::new();
        let mut dup = None;
        for_each_tensor(self, &mut |name, t, _| {
            if out.insert(name.to_string(), t.data()).is_some() && dup.is_none() {
                dup = Some(name.to_string());
            }
        });
        if let Some(name) = dup {
            panic!("state_dict: the module has two tensors named {name:?}");
        }
        out
    }

    /// Copies `state` into this model's parameters and buffers in place, so optimizers
    /// holding the same handles see the new values (`load_state_dict(state, strict)`).
    ///
    /// Nothing is written unless the whole load succeeds. Entries whose shape or dtype
    /// differ are always an error, and so is a state dict none of whose keys match. With
    /// `strict`, missing and unexpected keys are errors too; without, they are returned.
    fn load_state_dict(&self, state: &StateDict, strict: bool) -> Result<IncompatibleKeys, StateDictError> {
        let mut targets = Vec::new();
        for_each_tensor(self, &mut |name, t, _| targets.push((name.to_string(), t.clone())));
        state_dict::load_into(&targets, state, strict)
    }

    /// Saves the state dict to `path` (see [`checkpoint`](crate::checkpoint) for the
    /// format; the write is atomic).
    fn save(&self, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
        checkpoint::save(path, &self.state_dict())
    }

    /// Loads a state dict saved by [`save`](ModuleExt::save) into this model, strictly.
    fn load(&self, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
        let state: StateDict = checkpoint::load(path)?;
        self.load_state_dict(&state, true)?;
        Ok(())
    }
}

impl<M: Module + ?Sized> ModuleExt for M {}
