//! `Embedding`: a lookup table of learned vectors.

use std::fmt;

use nabla_autograd::{no_grad, Tensor};

use crate::functional;
use crate::init;
use crate::module::{Forward, Module, Visitor};

/// A table of `num_embeddings` vectors of size `embedding_dim`, looked up by index
/// (`torch.nn.Embedding`).
///
/// # Args
/// - `num_embeddings`: size of the table (the vocabulary)
/// - `embedding_dim`: size of each vector
/// - `padding_idx` ([`Embedding::with_padding_idx`]): this row starts as zeros and never
///   receives gradient, so it stays what it is (a "pad" token)
///
/// # Shapes
/// - input: `i64` indices of any shape `[*]`
/// - output: `[*, embedding_dim]`
///
/// # Variables
/// - `weight`: `[num_embeddings, embedding_dim]`, initialised from `N(0, 1)` as in torch
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{Embedding, Forward};
/// let emb = Embedding::with_padding_idx(10, 3, 0);
/// let ids = Tensor::from_vec(vec![1i64, 2, 4, 5, 4, 3, 2, 0], &[2, 4]);
/// let out = emb.forward(&ids);
/// assert_eq!(out.shape(), vec![2, 4, 3]);
/// assert_eq!(out.select(1, 3).select(0, 1).to_vec::<f32>(), vec![0.0; 3]); // the pad row
/// ```
pub struct Embedding {
    /// `[num_embeddings, embedding_dim]`.
    pub weight: Tensor,
    padding_idx: Option<usize>,
}

impl Embedding {
    /// A table of `num_embeddings` vectors from `N(0, 1)` (`nn.Embedding(n, dim)`).
    pub fn new(num_embeddings: usize, embedding_dim: usize) -> Self {
        let weight = Tensor::zeros(&[num_embeddings, embedding_dim]);
        init::normal_(&weight, 0.0, 1.0);
        Embedding { weight: weight.requires_grad_(true), padding_idx: None }
    }

    /// Like [`new`](Self::new), with row `padding_idx` zeroed and excluded from
    /// gradients (`nn.Embedding(n, dim, padding_idx=padding_idx)`).
    ///
    /// # Panics
    /// If `padding_idx >= num_embeddings`.
    #[track_caller]
    pub fn with_padding_idx(num_embeddings: usize, embedding_dim: usize, padding_idx: usize) -> Self {
        if padding_idx >= num_embeddings {
            panic!("Embedding: padding_idx {padding_idx} must be within num_embeddings ({num_embeddings})");
        }
        let mut emb = Self::new(num_embeddings, embedding_dim);
        {
            let _guard = no_grad();
            emb.weight.update_(|w| {
                let row = padding_idx * embedding_dim;
                w.data_mut::<f32>()[row..row + embedding_dim].fill(0.0);
            });
        }
        emb.padding_idx = Some(padding_idx);
        emb
    }

    /// A table holding `embeddings` (`[num_embeddings, embedding_dim]`, copied), trained
    /// unless `freeze` (`nn.Embedding.from_pretrained(embeddings, freeze)`).
    ///
    /// # Panics
    /// If `embeddings` is not a 2-D float tensor.
    #[track_caller]
    pub fn from_pretrained(embeddings: &Tensor, freeze: bool) -> Self {
        if embeddings.dim() != 2 || !embeddings.dtype().is_float() {
            panic!(
                "Embedding::from_pretrained: embeddings must be a 2-D float tensor, got shape {:?} ({})",
                embeddings.shape(),
                embeddings.dtype()
            );
        }
        let weight = embeddings.detach().copy().requires_grad_(!freeze);
        Embedding { weight, padding_idx: None }
    }

    /// The row excluded from gradients, if any.
    pub fn padding_idx(&self) -> Option<usize> {
        self.padding_idx
    }

    /// Size of the table.
    pub fn num_embeddings(&self) -> usize {
        self.weight.size(0)
    }

    /// Size of each vector.
    pub fn embedding_dim(&self) -> usize {
        self.weight.size(1)
    }
}

impl Module for Embedding {
    fn visit(&self, v: &mut dyn Visitor) {
        v.param("weight", &self.weight);
    }
}

impl Forward for Embedding {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        functional::embedding(input, &self.weight, self.padding_idx)
    }
}

impl fmt::Debug for Embedding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Embedding({}, {}", self.num_embeddings(), self.embedding_dim())?;
        if let Some(p) = self.padding_idx {
            write!(f, ", padding_idx={p}")?;
        }
        write!(f, ")")
    }
}
