//! The tutorial's RNN on SST-2 sentiment, written the PyTorch way: Embedding(10000, 64),
//! an LSTM(64) over all steps, an LSTM(32) whose last valid step is kept, Linear 64 +
//! ReLU, Dropout(0.5), Linear 1; binary cross-entropy on the logit; Adam(lr 1e-3),
//! batch 32, at most 64 tokens a sentence.
//!
//! ```text
//! NABLA_DATA=../shared/data cargo run --release --example sst2_lstm -- --epochs 3 --threads 2
//! ```
//!
//! The vocabulary is the 10,000 most frequent tokens of the training split (ids 0 and 1
//! are padding and unknown). Sentences are padded at the end; each batch is cut to its
//! longest sentence and the LSTMs get every sentence's length, so padding never changes
//! a result (PyTorch's `pack_padded_sequence`). Each epoch prints
//! `Epoch 0, Validation loss: 0.0016, Accuracy: 701/872 (80%), time: 9.12s` for the dev
//! split.

#[path = "common/mod.rs"]
pub mod common;

use common::fit::{fit, Classifier, EpochReport};
use nabla::prelude::*;

/// Words kept in the vocabulary, `<pad>` and `<unk>` included.
pub const VOCAB_SIZE: usize = 10_000;
/// Tokens kept of each sentence.
pub const MAX_LEN: usize = 64;

/// The tutorial's network.
#[derive(Module)]
pub struct SentimentNet {
    embedding: nn::Embedding,
    lstm1: nn::LSTM,
    lstm2: nn::LSTM,
    fc1: nn::Linear,
    dropout: nn::Dropout,
    fc2: nn::Linear,
}

impl SentimentNet {
    /// The network for a vocabulary of `vocab_size` ids, with torch's default init.
    pub fn new(vocab_size: usize) -> Self {
        let config = nn::RnnConfig { batch_first: true, ..nn::RnnConfig::default() };
        SentimentNet {
            embedding: nn::Embedding::with_padding_idx(vocab_size, 64, 0),
            lstm1: nn::LSTM::with_config(64, 64, config),
            lstm2: nn::LSTM::with_config(64, 32, config),
            fc1: nn::Linear::new(32, 64),
            dropout: nn::Dropout::new(0.5),
            fc2: nn::Linear::new(64, 1),
        }
    }
}

impl Forward for SentimentNet {
    /// One logit per sentence `[B]` from padded token ids `[B, T]`.
    fn forward(&self, ids: &Tensor) -> Tensor {
        let lengths = data::sequence_lengths(ids);
        let longest = lengths.iter().copied().max().unwrap_or(1);
        let x = self.embedding.forward(&ids.narrow(1, 0, longest));
        let (x, _) = self.lstm1.forward_with_lengths(&x, &lengths, None);
        let (_, (h, _)) = self.lstm2.forward_with_lengths(&x, &lengths, None);
        let x = self.dropout.forward(&self.fc1.forward(&h.squeeze_dim(0)).relu());
        self.fc2.forward(&x).squeeze_dim(1)
    }
}

impl Classifier for SentimentNet {
    fn loss(&self, output: &Tensor, target: &Tensor) -> Tensor {
        nn::functional::binary_cross_entropy_with_logits(output, &target.float())
    }

    fn correct(&self, output: &Tensor, target: &Tensor) -> usize {
        output.gt_scalar(0.0).eq(target).sum().item() as usize
    }
}

fn main() -> Result<(), nabla::Error> {
    run(&common::Args::parse("sst2_lstm", common::Args::defaults(3, 32, 1e-3), &[]))?;
    common::print_peak_memory();
    Ok(())
}

/// Trains and evaluates as the flags say, printing one line per epoch.
pub fn run(args: &common::Args) -> Result<Vec<EpochReport>, nabla::Error> {
    manual_seed(args.seed);
    let mut train = data::Sst2::read(&args.data, "train")?;
    if let Some(n) = args.limit {
        train.truncate(n);
    }
    let dev = data::Sst2::read(&args.data, "dev")?;
    let vocab = data::Vocab::build(train.iter().map(|row| data::tokenize(&row.text)), VOCAB_SIZE, 1);
    let train_loader = data::DataLoader::new(data::TextDataset::new(&train, &vocab, MAX_LEN))
        .batch_size(args.batch_size)
        .shuffle(true);
    let dev_loader = data::DataLoader::new(data::TextDataset::new(&dev, &vocab, MAX_LEN)).batch_size(256);
    fit(&SentimentNet::new(vocab.len()), &train_loader, &dev_loader, args)
}
