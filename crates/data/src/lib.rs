//! # nabla-data
//!
//! Datasets and the [`DataLoader`], after `torch.utils.data`: a [`Dataset`] gives
//! `(input, target)` samples by index; a `DataLoader` shuffles them with a seed, cuts
//! them into batches of tensors, and can build batches ahead on worker threads.
//!
//! - [`TensorDataset`], [`Subset`] and [`random_split`] for data already in memory;
//! - [`Mnist`] from the original IDX files (plain or `.gz`), with a download from the
//!   canonical mirrors verified by SHA-256;
//! - [`Digits`], an 8x8 handwritten-digits set compiled into the crate, for examples and
//!   tests that must run without files or network;
//! - text classification: [`tokenize`], [`Vocab`], [`read_tsv`] / [`Sst2`] and
//!   [`TextDataset`] (token ids padded to a fixed length, with [`sequence_lengths`]).
//!
//! ```
//! use nabla_data::{DataLoader, Dataset, Digits};
//! let loader = DataLoader::new(Digits::train()).batch_size(64).shuffle(true);
//! for (x, y) in &loader {
//!     // x: f32 [64, 1, 8, 8] (the last batch is smaller), y: i64 [64]
//!     assert_eq!(x.size(0), y.size(0));
//! }
//! assert_eq!(loader.dataset().len(), 1437);
//! ```
//!
//! Out-of-range indexing panics, as slicing does; reading files, downloading and
//! user-supplied configuration return a [`DataError`] that names the file, URL or option.
#![warn(missing_docs)]

mod dataset;
mod digits;
mod download;
mod error;
mod idx;
mod loader;
mod mnist;
mod shuffle;
mod split;
mod tensor_dataset;
mod text;

pub use dataset::Dataset;
pub use digits::Digits;
pub use error::DataError;
pub use loader::{Batches, DataLoader, LoaderConfig};
pub use mnist::Mnist;
pub use split::{random_split, Subset};
pub use tensor_dataset::TensorDataset;
pub use text::{pad_truncate, read_tsv, sequence_lengths, tokenize, LabeledText, Sst2, TextDataset, TsvFormat, Vocab};
