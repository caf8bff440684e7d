//! Quick start: no files, no network, a few seconds. Trains a small network on the 8x8
//! handwritten digits embedded in `nabla-data`, reports test accuracy, saves the model,
//! loads it into a fresh one and predicts with it.
//!
//! ```text
//! cargo run --release --example quickstart
//! ```

#[path = "common/mod.rs"]
pub mod common;

use std::time::Instant;

use nabla::prelude::*;

fn model() -> nn::Sequential {
    nn::Sequential::new()
        .add(nn::Flatten::new())
        .add(nn::Linear::new(64, 128))
        .add(nn::ReLU)
        .add(nn::Linear::new(128, 10))
}

/// Correct predictions of `model` on the whole of `set`.
fn accuracy(model: &nn::Sequential, set: &data::Digits) -> (usize, usize) {
    model.eval();
    let _guard = no_grad();
    let predicted = model.forward(&set.images()).argmax(Some(1), false);
    (predicted.eq(&set.labels()).sum().item() as usize, set.labels().numel())
}

fn main() -> Result<(), nabla::Error> {
    run(&common::Args::parse("quickstart", common::Args::defaults(30, 32, 1e-3), &[]))?;
    common::print_peak_memory();
    Ok(())
}

/// Trains, saves, reloads and predicts; returns the reloaded model's test accuracy.
pub fn run(args: &common::Args) -> Result<f64, nabla::Error> {
    manual_seed(args.seed);
    let (train, test) = (data::Digits::train(), data::Digits::test());
    println!("digits: {} training and {} test images of 8x8", train.len(), test.len());
    let loader = data::DataLoader::new(train).batch_size(args.batch_size).shuffle(true);
    let net = model();
    let mut opt = optim::Adam::new(net.parameters(), args.lr);
    for epoch in 0..args.epochs {
        let start = Instant::now();
        net.train();
        let mut total = 0.0;
        for (x, y) in &loader {
            opt.zero_grad();
            let loss = nn::functional::cross_entropy(&net.forward(&x), &y);
            loss.backward();
            opt.step();
            total += loss.item();
        }
        let seconds = start.elapsed().as_secs_f64();
        let (correct, n) = accuracy(&net, &test);
        println!(
            "Epoch {epoch}, Training loss: {:.4}, Accuracy: {correct}/{n} ({:.0}%), time: {seconds:.3}s",
            total / loader.len() as f64,
            100.0 * correct as f64 / n as f64,
        );
    }

    // Save, reload into a fresh network, and predict with it.
    let path = args.save.clone().unwrap_or_else(|| std::env::temp_dir().join("nabla_quickstart.ckpt"));
    net.save(&path)?;
    let restored = model();
    restored.load(&path)?;
    restored.eval();
    let first = test.images().narrow(0, 0, 8);
    let predicted = {
        let _guard = no_grad();
        restored.forward(&first).argmax(Some(1), false)
    };
    println!("saved to {} and reloaded", path.display());
    println!("predicted: {:?}", predicted.to_vec::<i64>());
    println!("actual:    {:?}", test.labels().narrow(0, 0, 8).to_vec::<i64>());
    let (correct, n) = accuracy(&restored, &test);
    println!("reloaded model test accuracy: {correct}/{n} ({:.1}%)", 100.0 * correct as f64 / n as f64);
    Ok(correct as f64 / n as f64)
}
