//! The machinery every optimizer shares: the parameter list, per-parameter state slots,
//! the dtype dispatch around an update rule, and `state_dict` / `load_state_dict`.
//!
//! An optimizer is a config type implementing [`Rule`] (the hyperparameters plus one
//! fused per-element update loop) wrapped in a [`Core`]. Keeping the loop in one
//! function over plain slices, rather than a chain of tensor ops, means one pass over
//! memory and no temporaries per step (candle's AdamW makes ten allocating ops per
//! parameter). Parameters are updated one after another without rayon: they are small
//! next to the forward/backward work, and threads would cost more than they save.

use nabla_autograd::{no_grad, DType, NdArray, Tensor};
use nabla_tensor::FloatElement;

use crate::state::{OptimizerConfig, OptimizerState, ParamState};
use crate::OptimError;

/// One optimizer's hyperparameters and update rule.
pub(crate) trait Rule: Clone {
    /// The name in messages and state dicts ("SGD", "AdamW", ...).
    fn name(&self) -> &'static str;
    /// The learning rate.
    fn lr(&self) -> f64;
    /// The learning rate, for writing.
    fn lr_mut(&mut self) -> &mut f64;
    /// Checks every hyperparameter, with PyTorch's messages.
    fn validate(&self) -> Result<(), OptimError>;
    /// The names of the per-parameter buffers this configuration keeps, in the order
    /// [`Rule::update`] receives them.
    fn buffers(&self) -> &'static [&'static str];
    /// The value new buffers start at (Adagrad's `initial_accumulator_value`).
    fn initial_value(&self) -> f64 {
        0.0
    }
    /// Updates one parameter in place; `step` counts this update, starting at 1.
    fn update<T: FloatElement>(&self, step: u64, param: &mut [T], grad: &[T], bufs: Buffers<'_, T>);
    /// The serialisable form of this configuration.
    fn to_config(&self) -> OptimizerConfig;
    /// This rule's configuration inside `config`, if `config` is of this kind.
    fn from_config(config: &OptimizerConfig) -> Option<Self>;
}

/// The state buffers of one parameter, in the order of [`Rule::buffers`].
pub(crate) struct Buffers<'a, T>(std::vec::IntoIter<&'a mut [T]>);

impl<'a, T> Buffers<'a, T> {
    /// The next buffer.
    pub(crate) fn take(&mut self) -> &'a mut [T] {
        self.0.next().expect("one buffer per name in Rule::buffers")
    }

    /// The next buffer when the configuration keeps it.
    pub(crate) fn take_if(&mut self, kept: bool) -> Option<&'a mut [T]> {
        kept.then(|| self.take())
    }
}

/// `start + weight (end − start)` evaluated as PyTorch's `lerp` does (from the nearer
/// end, for accuracy), so moving averages round as they do in `torch.optim`.
pub(crate) fn lerp<T: FloatElement>(start: T, end: T, weight: T) -> T {
    if weight.abs() < T::from_f64(0.5) {
        start + weight * (end - start)
    } else {
        end - (end - start) * (T::one() - weight)
    }
}

/// One parameter's state: its update count and buffers (parameter's shape and dtype).
#[derive(Clone)]
struct Slot {
    step: u64,
    bufs: Vec<NdArray>,
}

/// A rule, the parameters it updates, and their state (created at a parameter's first
/// update, as in PyTorch).
pub(crate) struct Core<R> {
    pub(crate) rule: R,
    params: Vec<Tensor>,
    slots: Vec<Option<Slot>>,
}

impl<R: Rule> Core<R> {
    /// Validates `rule` and the parameters: at least one, all float leaves.
    pub(crate) fn new(params: impl IntoIterator<Item = Tensor>, rule: R) -> Result<Self, OptimError> {
        rule.validate()?;
        let params: Vec<Tensor> = params.into_iter().collect();
        let optimizer = rule.name();
        if params.is_empty() {
            return Err(OptimError::EmptyParameters { optimizer });
        }
        for (index, p) in params.iter().enumerate() {
            if !p.is_leaf() {
                return Err(OptimError::NonLeafParameter { optimizer, index });
            }
            if !p.dtype().is_float() {
                return Err(OptimError::NonFloatParameter { optimizer, index, dtype: p.dtype() });
            }
        }
        let slots = vec![None; params.len()];
        Ok(Core { rule, params, slots })
    }

    pub(crate) fn params(&self) -> &[Tensor] {
        &self.params
    }

    pub(crate) fn lr(&self) -> f64 {
        self.rule.lr()
    }

    #[track_caller]
    pub(crate) fn set_lr(&mut self, lr: f64) {
        self.configure(|r| *r.lr_mut() = lr);
    }

    /// Changes hyperparameters through `f` (builder options, `set_lr`).
    ///
    /// # Panics
    /// If the result is invalid, or if it changes which buffers are kept once some
    /// parameter has state (e.g. turning on `amsgrad` mid-training), which PyTorch does
    /// not support either.
    #[track_caller]
    pub(crate) fn configure(&mut self, f: impl FnOnce(&mut R)) {
        let mut rule = self.rule.clone();
        f(&mut rule);
        if let Err(e) = rule.validate() {
            panic!("{e}");
        }
        if rule.buffers() != self.rule.buffers() && self.slots.iter().any(Option::is_some) {
            panic!(
                "{}: this option changes the state kept per parameter ({:?} to {:?}); set it before the first step",
                rule.name(),
                self.rule.buffers(),
                rule.buffers()
            );
        }
        self.rule = rule;
    }

    /// Updates every parameter that has a gradient; the others are skipped and their
    /// step counts do not advance.
    pub(crate) fn step(&mut self) {
        let _guard = no_grad();
        let Core { rule, params, slots } = self;
        for (param, slot) in params.iter().zip(slots.iter_mut()) {
            let Some(grad) = param.grad_array() else { continue };
            let slot = slot.get_or_insert_with(|| {
                let (shape, dtype) = (param.shape(), param.dtype());
                let bufs = rule.buffers().iter().map(|_| NdArray::full(&shape, rule.initial_value(), dtype)).collect();
                Slot { step: 0, bufs }
            });
            slot.step += 1;
            param.update_(|value| match value.dtype() {
                DType::F32 => update::<f32, R>(rule, slot, value, &grad),
                DType::F64 => update::<f64, R>(rule, slot, value, &grad),
                DType::I64 => unreachable!("Core::new admits only float parameters"),
            });
        }
    }

    pub(crate) fn state_dict(&self) -> OptimizerState {
        let names = self.rule.buffers();
        let state = self.slots.iter().enumerate().filter_map(|(index, slot)| {
            let slot = slot.as_ref()?;
            let buffers = names.iter().zip(&slot.bufs).map(|(name, buf)| (name.to_string(), buf.clone())).collect();
            Some((index, ParamState { step: slot.step, buffers }))
        });
        OptimizerState { config: self.rule.to_config(), num_params: self.params.len(), state: state.collect() }
    }

    /// Checks everything first, so a rejected state leaves the optimizer unchanged.
    pub(crate) fn load_state_dict(&mut self, state: &OptimizerState) -> Result<(), OptimError> {
        let rule = R::from_config(&state.config)
            .ok_or(OptimError::WrongKind { expected: self.rule.name(), found: state.config.name() })?;
        rule.validate()?;
        let num_params = self.params.len();
        if state.num_params != num_params {
            return Err(OptimError::ParameterCount { expected: num_params, found: state.num_params });
        }
        let names = rule.buffers();
        let mut slots = vec![None; num_params];
        for (&index, saved) in &state.state {
            let param = self.params.get(index).ok_or(OptimError::ParameterIndex { index, num_params })?;
            if let Some(name) = saved.buffers.keys().find(|k| !names.contains(&k.as_str())) {
                return Err(OptimError::UnexpectedBuffer { index, name: name.clone() });
            }
            let bufs = names.iter().map(|&name| {
                let buf = saved.buffers.get(name).ok_or(OptimError::MissingBuffer { index, name: name.into() })?;
                let (shape, dtype) = (param.shape(), param.dtype());
                if buf.shape() != shape.as_slice() || buf.dtype() != dtype {
                    return Err(OptimError::BufferMismatch {
                        index,
                        name: name.into(),
                        expected_shape: shape,
                        expected_dtype: dtype,
                        found_shape: buf.shape().to_vec(),
                        found_dtype: buf.dtype(),
                    });
                }
                Ok(buf.clone())
            });
            slots[index] = Some(Slot { step: saved.step, bufs: bufs.collect::<Result<_, _>>()? });
        }
        self.rule = rule;
        self.slots = slots;
        Ok(())
    }
}

/// Runs `rule` on one parameter's value, gradient and buffers as slices of `T`.
fn update<T: FloatElement, R: Rule>(rule: &R, slot: &mut Slot, value: &mut NdArray, grad: &NdArray) {
    // A gradient set by hand may have another dtype or layout; both calls are free otherwise.
    let grad = grad.cast(T::DTYPE).contiguous();
    let grad = grad.as_slice::<T>().expect("a contiguous array has a slice of its own dtype");
    // Buffers are owned by the optimizer, so `data_mut` writes in place; it copies only
    // when a `state_dict` snapshot still shares them, which keeps that snapshot intact.
    let bufs: Vec<&mut [T]> = slot.bufs.iter_mut().map(|b| b.data_mut::<T>()).collect();
    rule.update(slot.step, value.data_mut::<T>(), grad, Buffers(bufs.into_iter()));
}

/// Writes `new` and `try_new` for an optimizer type whose `core` field is a [`Core`] of
/// rule `$config`, and implements [`Optimizer`](crate::Optimizer) for it.
macro_rules! impl_optimizer {
    ($ty:ident, $config:ident) => {
        impl $ty {
            #[doc = concat!(stringify!($ty), " over `params` with learning rate `lr` and the other options at their defaults.")]
            ///
            /// # Panics
            #[doc = concat!("If `lr` is negative (\"", stringify!($ty), ": Invalid learning rate: ... (expected >= 0)\"), or")]
            #[doc = concat!("`params` is empty, holds a non-leaf or a non-float tensor. See [`", stringify!($ty), "::try_new`].")]
            #[track_caller]
            pub fn new(params: impl IntoIterator<Item = nabla_autograd::Tensor>, lr: f64) -> Self {
                Self::try_new(params, $config { lr, ..$config::default() }).unwrap_or_else(|e| panic!("{e}"))
            }

            #[doc = concat!(stringify!($ty), " over `params` with `config`, or the reason it is invalid.")]
            pub fn try_new(
                params: impl IntoIterator<Item = nabla_autograd::Tensor>,
                config: $config,
            ) -> Result<Self, $crate::OptimError> {
                Ok($ty { core: $crate::core::Core::new(params, config)? })
            }
        }

        impl $crate::Optimizer for $ty {
            fn params(&self) -> &[nabla_autograd::Tensor] {
                self.core.params()
            }

            fn step(&mut self) {
                self.core.step()
            }

            fn lr(&self) -> f64 {
                self.core.lr()
            }

            #[track_caller]
            fn set_lr(&mut self, lr: f64) {
                self.core.set_lr(lr)
            }

            fn state_dict(&self) -> $crate::OptimizerState {
                self.core.state_dict()
            }

            fn load_state_dict(&mut self, state: &$crate::OptimizerState) -> Result<(), $crate::OptimError> {
                self.core.load_state_dict(state)
            }
        }
    };
}

pub(crate) use impl_optimizer;
