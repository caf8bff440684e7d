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

use std::time::Instant;

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

/// The tutorial's evaluation: summed batch-mean loss / N, and correct predictions.
fn evaluate(model: &Net, loader: &data::DataLoader<data::Mnist>) -> (f64, usize) {
    model.eval();
    let _guard = no_grad();
    let (mut loss, mut correct) = (0.0, 0);
    for (x, y) in loader {
        let out = model.forward(&x);
        loss += nn::functional::nll_loss(&out, &y).item();
        correct += out.argmax(Some(1), false).eq(&y).sum().item() as usize;
    }
    (loss / loader.dataset().len() as f64, correct)
}

/// One epoch's evaluation, as printed.
pub struct EpochReport {
    /// The tutorial's validation loss.
    pub val_loss: f64,
    /// Correct test predictions.
    pub correct: usize,
    /// Test set size.
    pub total: usize,
}

fn main() -> Result<(), nabla::Error> {
    run(&common::Args::parse("mnist_mlp", common::Args::defaults(5, 64, 1e-3)))?;
    if let Some(mib) = common::peak_memory_mib() {
        println!("peak memory: {mib:.0} MiB");
    }
    Ok(())
}

/// Trains and evaluates as the flags say, printing one line per epoch.
pub fn run(args: &common::Args) -> Result<Vec<EpochReport>, nabla::Error> {
    manual_seed(args.seed);
    let mut train = data::Mnist::train(&args.data)?.normalize(0.1307, 0.3081);
    if let Some(n) = args.limit {
        train = train.take(n);
    }
    let test = data::Mnist::test(&args.data)?.normalize(0.1307, 0.3081);
    let train_loader = data::DataLoader::new(train).batch_size(args.batch_size).shuffle(true);
    let test_loader = data::DataLoader::new(test).batch_size(64);

    let model = Net::new();
    let mut opt = optim::Adam::new(model.parameters(), args.lr);
    let mut reports: Vec<EpochReport> = Vec::new();
    for epoch in 0..args.epochs {
        let start = Instant::now();
        model.train();
        for (x, y) in &train_loader {
            opt.zero_grad();
            let loss = nn::functional::nll_loss(&model.forward(&x), &y);
            loss.backward();
            opt.step();
        }
        let seconds = start.elapsed().as_secs_f64();
        let (val_loss, correct) = evaluate(&model, &test_loader);
        let total = test_loader.dataset().len();
        println!(
            "Epoch {epoch}, Validation loss: {val_loss:.4}, Accuracy: {correct}/{total} ({:.0}%), time: {seconds:.2}s",
            100.0 * correct as f64 / total as f64
        );
        let best = reports.iter().map(|r| r.correct).max().unwrap_or(0);
        if correct > best {
            if let Some(path) = &args.save {
                model.save(path)?;
            }
        }
        reports.push(EpochReport { val_loss, correct, total });
    }
    Ok(reports)
}
