//! The tutorial's PyTorch `Net` on MNIST, line for line: 784-256-128-10 with ReLU and
//! Dropout(0.2), log_softmax + NLLLoss, Adam(lr 1e-3), batch 64, shuffled.
//!
//! ```text
//! NABLA_DATA=../shared/data cargo run --release --example mnist_mlp -- --epochs 5 --threads 2
//! ```
//!
//! Each epoch prints `Epoch 0, Validation loss: 0.0023, Accuracy: 9650/10000 (96%), time: 0.41s`
//! (the validation loss is the tutorial's: the sum of batch-mean losses over the test set
//! divided by its size). With `--save PATH` the best model (by accuracy) is saved.

#[path = "common/mod.rs"]
pub mod common;

use common::fit::{fit, Classifier, EpochReport};
use nabla::prelude::*;

/// The tutorial's network.
#[derive(Module)]
pub struct Net {
    fc1: nn::Linear,
    fc2: nn::Linear,
    fc3: nn::Linear,
    dropout: nn::Dropout,
}

impl Net {
    /// 784-256-128-10 with torch's default initialisation.
    pub fn new() -> Self {
        Net {
            fc1: nn::Linear::new(784, 256),
            fc2: nn::Linear::new(256, 128),
            fc3: nn::Linear::new(128, 10),
            dropout: nn::Dropout::new(0.2),
        }
    }

    /// Log-probabilities `[N, 10]` of images `[N, 1, 28, 28]` (or `[N, 784]`).
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let x = x.view(&[-1, 784]);
        let x = self.dropout.forward(&self.fc1.forward(&x).relu());
        let x = self.dropout.forward(&self.fc2.forward(&x).relu());
        self.fc3.forward(&x).log_softmax(1)
    }
}

impl Default for Net {
    fn default() -> Self {
        Net::new()
    }
}

impl Forward for Net {
    fn forward(&self, x: &Tensor) -> Tensor {
        Net::forward(self, x)
    }
}

impl Classifier for Net {
    fn loss(&self, output: &Tensor, target: &Tensor) -> Tensor {
        nn::functional::nll_loss(output, target)
    }
}

fn main() -> Result<(), nabla::Error> {
    run(&common::Args::parse("mnist_mlp", common::Args::defaults(5, 64, 1e-3), &[]))?;
    common::print_peak_memory();
    Ok(())
}

/// Trains and evaluates as the flags say, printing one line per epoch.
pub fn run(args: &common::Args) -> Result<Vec<EpochReport>, nabla::Error> {
    manual_seed(args.seed);
    let (train_loader, test_loader) = common::mnist_loaders(args)?;
    fit(&Net::new(), &train_loader, &test_loader, args)
}
