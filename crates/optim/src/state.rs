//! The serialisable snapshot of an optimizer (`state_dict`), for exact resume.

use std::collections::BTreeMap;

use nabla_tensor::NdArray;
use serde::{Deserialize, Serialize};

use crate::{AdagradConfig, AdamConfig, RMSpropConfig, SgdConfig};

/// Everything an optimizer needs to continue exactly where it stopped, as returned by
/// [`Optimizer::state_dict`](crate::Optimizer::state_dict) (PyTorch's `optimizer.state_dict()`).
///
/// It holds no parameter values: save those with the model. Serialise it with serde
/// (bincode keeps floats bit-exact). After `load_state_dict` into an optimizer over the
/// same parameter values, training continues bit for bit as if never interrupted.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OptimizerState {
    /// The optimizer's kind and hyperparameters, including the current learning rate.
    pub config: OptimizerConfig,
    /// How many parameters the optimizer holds.
    pub num_params: usize,
    /// Per-parameter state keyed by the parameter's position; parameters that never
    /// received a gradient have no entry.
    pub state: BTreeMap<usize, ParamState>,
}

/// One parameter's optimizer state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ParamState {
    /// Number of updates this parameter received (PyTorch's `state["step"]`).
    pub step: u64,
    /// The running buffers under PyTorch's names (`"momentum_buffer"`, `"exp_avg"`,
    /// `"exp_avg_sq"`, `"max_exp_avg_sq"`, `"square_avg"`, `"grad_avg"`, `"sum"`), each
    /// with the parameter's shape and dtype.
    pub buffers: BTreeMap<String, NdArray>,
}

/// An optimizer's kind and hyperparameters (PyTorch's `param_groups` entry).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum OptimizerConfig {
    /// [`SGD`](crate::SGD).
    Sgd(SgdConfig),
    /// [`Adam`](crate::Adam), or [`AdamW`](crate::AdamW) when `decoupled_weight_decay` is set.
    Adam(AdamConfig),
    /// [`RMSprop`](crate::RMSprop).
    RMSprop(RMSpropConfig),
    /// [`Adagrad`](crate::Adagrad).
    Adagrad(AdagradConfig),
}

impl OptimizerConfig {
    /// The optimizer's name as in `torch.optim` ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad").
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::Sgd(_) => "SGD",
            OptimizerConfig::Adam(c) if c.decoupled_weight_decay => "AdamW",
            OptimizerConfig::Adam(_) => "Adam",
            OptimizerConfig::RMSprop(_) => "RMSprop",
            OptimizerConfig::Adagrad(_) => "Adagrad",
        }
    }
}
