//! Text classification data: a tokenizer, a vocabulary, TSV files and a dataset of
//! padded token-id rows.

mod dataset;
mod tokenize;
mod tsv;
mod vocab;

pub use dataset::{pad_truncate, sequence_lengths, TextDataset};
pub use tokenize::tokenize;
pub use tsv::{read_tsv, LabeledText, Sst2, TsvFormat};
pub use vocab::Vocab;
