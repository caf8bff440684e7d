//! The training loop the classification examples share: the loop a PyTorch user writes
//! by hand (zero_grad, forward, loss, backward, step), then an evaluation pass and one
//! printed line per epoch.

use std::time::Instant;

use nabla::prelude::*;

use super::Args;

/// A model trained by [`fit`]: its forward pass, its loss and how to count hits.
pub trait Classifier: Module + Forward {
    /// The training loss of `output` for `target` (mean over the batch).
    fn loss(&self, output: &Tensor, target: &Tensor) -> Tensor;

    /// How many rows of `output` predict `target`: by default the arg-max over classes.
    fn correct(&self, output: &Tensor, target: &Tensor) -> usize {
        output.argmax(Some(1), false).eq(target).sum().item() as usize
    }
}

/// One epoch's evaluation, as printed.
#[derive(Clone, Debug)]
pub struct EpochReport {
    /// The tutorial's validation loss: the summed batch-mean losses over the test set,
    /// divided by its size.
    pub val_loss: f64,
    /// Correct test predictions.
    pub correct: usize,
    /// Test set size.
    pub total: usize,
    /// The epoch's training wall time in seconds.
    pub seconds: f64,
}

impl EpochReport {
    /// The fraction of correct test predictions.
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.total as f64
    }
}

/// Trains `model` with Adam(`args.lr`) for `args.epochs` epochs, printing
/// `Epoch 1, Validation loss: 0.0021, Accuracy: 9712/10000 (97%), time: 4.83s` after
/// each, and saving the best model (by accuracy) to `args.save` if given.
pub fn fit<M, D, E>(
    model: &M,
    train: &data::DataLoader<D>,
    test: &data::DataLoader<E>,
    args: &Args,
) -> Result<Vec<EpochReport>, nabla::Error>
where
    M: Classifier,
    D: Dataset + 'static,
    E: Dataset + 'static,
{
    let mut opt = optim::Adam::new(model.parameters(), args.lr);
    let mut reports: Vec<EpochReport> = Vec::new();
    for epoch in 0..args.epochs {
        let start = Instant::now();
        model.train();
        for (x, y) in train {
            opt.zero_grad();
            let loss = model.loss(&model.forward(&x), &y);
            loss.backward();
            opt.step();
        }
        let seconds = start.elapsed().as_secs_f64();
        let (val_loss, correct) = evaluate(model, test);
        let report = EpochReport { val_loss, correct, total: test.dataset().len(), seconds };
        println!(
            "Epoch {epoch}, Validation loss: {val_loss:.4}, Accuracy: {correct}/{} ({:.0}%), time: {seconds:.2}s",
            report.total,
            100.0 * report.accuracy()
        );
        let best = reports.iter().map(|r| r.correct).max().unwrap_or(0);
        if let (Some(path), true) = (&args.save, correct > best) {
            model.save(path)?;
        }
        reports.push(report);
    }
    Ok(reports)
}

/// Summed batch-mean loss / N, and correct predictions, in evaluation mode.
fn evaluate<M: Classifier, E: Dataset + 'static>(model: &M, loader: &data::DataLoader<E>) -> (f64, usize) {
    model.eval();
    let _guard = no_grad();
    let (mut loss, mut correct) = (0.0, 0);
    for (x, y) in loader {
        let out = model.forward(&x);
        loss += model.loss(&out, &y).item();
        correct += model.correct(&out, &y);
    }
    (loss / loader.dataset().len() as f64, correct)
}
