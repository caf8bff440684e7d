//! `TextDataset`: labelled texts as fixed-length rows of token ids.

use nabla_autograd::Tensor;
use nabla_tensor::NdArray;

use crate::dataset::Dataset;
use crate::tensor_dataset::TensorDataset;
use crate::text::{tokenize, LabeledText, Vocab};

/// `ids` cut to its first `len` ids, or padded with [`Vocab::PAD`] at the end to `len`.
///
/// ```
/// use nabla_data::pad_truncate;
/// assert_eq!(pad_truncate(&[5, 6, 7], 2), vec![5, 6]);
/// assert_eq!(pad_truncate(&[5], 3), vec![5, 0, 0]);
/// ```
pub fn pad_truncate(ids: &[i64], len: usize) -> Vec<i64> {
    let mut out = ids[..ids.len().min(len)].to_vec();
    out.resize(len, Vocab::PAD);
    out
}

/// The length of each row of a padded id batch `[B, T]`: the position of its first
/// [`Vocab::PAD`], or `T` if it has none. These are the `lengths` a recurrent layer
/// needs so that padding does not change its result.
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_data::sequence_lengths;
/// let ids = Tensor::from_vec(vec![4i64, 9, 0, 7, 7, 7], &[2, 3]);
/// assert_eq!(sequence_lengths(&ids), vec![2, 3]);
/// ```
///
/// # Panics
/// If `ids` is not a 2-D `i64` tensor.
pub fn sequence_lengths(ids: &Tensor) -> Vec<usize> {
    let shape = ids.shape();
    assert_eq!(shape.len(), 2, "sequence_lengths: ids must be [batch, steps], got {shape:?}");
    let values = ids.to_vec::<i64>();
    let steps = shape[1];
    values
        .chunks(steps.max(1))
        .take(shape[0])
        .map(|row| row.iter().position(|&id| id == Vocab::PAD).unwrap_or(steps))
        .collect()
}

/// A text-classification dataset: sample `i` is the token ids of text `i`, padded or
/// truncated to `max_len` (`i64 [max_len]`), with its label (`i64 []`).
///
/// Padding goes at the end, so [`sequence_lengths`] recovers each row's length. A text
/// with no tokens is encoded as one [`Vocab::UNK`]: every sample has length >= 1, as a
/// recurrent layer needs at least one step.
///
/// ```
/// use nabla_data::{tokenize, Dataset, LabeledText, TextDataset, Vocab};
/// let rows = vec![
///     LabeledText { label: 1, text: "a fine film".into() },
///     LabeledText { label: 0, text: "dull".into() },
/// ];
/// let vocab = Vocab::build(rows.iter().map(|r| tokenize(&r.text)), 100, 1);
/// let data = TextDataset::new(&rows, &vocab, 4);
/// let (x, y) = data.get_batch(&[0, 1]);
/// assert_eq!(x.shape(), vec![2, 4]);
/// assert_eq!(x.to_vec::<i64>()[4..], [vocab.id("dull"), 0, 0, 0]);
/// assert_eq!(y.to_vec::<i64>(), vec![1, 0]);
/// ```
#[derive(Clone)]
pub struct TextDataset {
    rows: TensorDataset,
}

impl TextDataset {
    /// Tokenizes and encodes `texts` with `vocab`, each to exactly `max_len` ids.
    ///
    /// # Panics
    /// If `max_len` is 0 or `texts` is empty.
    pub fn new(texts: &[LabeledText], vocab: &Vocab, max_len: usize) -> TextDataset {
        assert!(max_len > 0, "TextDataset: max_len must be at least 1");
        assert!(!texts.is_empty(), "TextDataset: no texts");
        let mut ids = Vec::with_capacity(texts.len() * max_len);
        for row in texts {
            let tokens = vocab.encode(&tokenize(&row.text));
            let tokens = if tokens.is_empty() { vec![Vocab::UNK] } else { tokens };
            ids.extend(pad_truncate(&tokens, max_len));
        }
        let labels = texts.iter().map(|r| r.label).collect();
        let rows = TensorDataset::from_arrays(
            NdArray::from_vec(ids, &[texts.len(), max_len]),
            NdArray::from_vec(labels, &[texts.len()]),
        );
        TextDataset { rows }
    }
}

impl Dataset for TextDataset {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn get(&self, index: usize) -> (Tensor, Tensor) {
        self.rows.get(index)
    }

    fn get_batch(&self, indices: &[usize]) -> (Tensor, Tensor) {
        self.rows.get_batch(indices)
    }
}
