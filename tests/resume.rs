//! A run stopped after epoch 1 and resumed from a checkpoint (model, optimizer, RNG,
//! epoch) ends bit-identical to a run that was never interrupted, and the same seed
//! gives the same weights.

use nabla::prelude::*;
use nabla::tensor::{rng_state, set_rng_state, RngState};
use serde::{Deserialize, Serialize};

/// The generator is global to the process and tests run on parallel threads: each test
/// holds this lock so another test's draws cannot interleave with its own.
static RNG_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[derive(Serialize, Deserialize)]
struct TrainingCheckpoint {
    model: nn::StateDict,
    optimizer: optim::OptimizerState,
    epoch: usize,
    rng: RngState,
}

fn model() -> nn::Sequential {
    nn::Sequential::new()
        .add(nn::Flatten::new())
        .add(nn::Linear::new(64, 32))
        .add(nn::ReLU)
        .add(nn::Dropout::new(0.3))
        .add(nn::Linear::new(32, 10))
}

/// Trains `net` for epochs `from..to` over shuffled digits (shuffle and dropout both draw
/// from the global generator).
fn train(net: &nn::Sequential, opt: &mut optim::Adam, from: usize, to: usize) {
    let loader = data::DataLoader::new(data::Digits::train()).batch_size(64).shuffle(true);
    net.train();
    for _ in from..to {
        for (x, y) in &loader {
            opt.zero_grad();
            nn::functional::cross_entropy(&net.forward(&x), &y).backward();
            opt.step();
        }
    }
}

fn weights(net: &nn::Sequential) -> Vec<Vec<u32>> {
    net.parameters().iter().map(|p| p.to_vec::<f32>().iter().map(|v| v.to_bits()).collect()).collect()
}

fn uninterrupted(seed: u64) -> Vec<Vec<u32>> {
    manual_seed(seed);
    let net = model();
    let mut opt = optim::Adam::new(net.parameters(), 1e-2);
    train(&net, &mut opt, 0, 2);
    weights(&net)
}

#[test]
fn resumed_run_is_bit_identical() {
    let _lock = RNG_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let want = uninterrupted(7);

    let path = std::env::temp_dir().join(format!("nabla-resume-{}.ckpt", std::process::id()));
    {
        manual_seed(7);
        let net = model();
        let mut opt = optim::Adam::new(net.parameters(), 1e-2);
        train(&net, &mut opt, 0, 1);
        let ckpt =
            TrainingCheckpoint { model: net.state_dict(), optimizer: opt.state_dict(), epoch: 1, rng: rng_state() };
        nn::checkpoint::save(&path, &ckpt).unwrap();
    }
    // A fresh process would start here: other seeds, fresh weights.
    manual_seed(12345);
    let net = model();
    let mut opt = optim::Adam::new(net.parameters(), 1e-2);
    let ckpt: TrainingCheckpoint = nn::checkpoint::load(&path).unwrap();
    std::fs::remove_file(&path).ok();
    net.load_state_dict(&ckpt.model, true).unwrap();
    opt.load_state_dict(&ckpt.optimizer).unwrap();
    set_rng_state(ckpt.rng);
    train(&net, &mut opt, ckpt.epoch, 2);

    assert!(weights(&net) == want, "resumed weights differ from the uninterrupted run");
}

#[test]
fn same_seed_same_weights() {
    let _lock = RNG_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    assert!(uninterrupted(3) == uninterrupted(3));
    assert!(uninterrupted(3) != uninterrupted(4));
}
