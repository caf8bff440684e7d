//! Fits y = sin(3x) with a two-layer tanh network, using only `Tensor`, `backward()`
//! and a hand-written SGD step: the whole PyTorch training loop, without `nn` or
//! `optim`.
//!
//! ```text
//! cargo run --release --example regression -- --epochs 2000 --lr 0.2 --seed 0 --threads 2
//! ```

use std::time::Instant;

use nabla::prelude::*;

struct Args {
    epochs: usize,
    lr: f64,
    seed: u64,
    threads: Option<usize>,
}

fn parse_args() -> Args {
    let mut args = Args { epochs: 2000, lr: 0.2, seed: 0, threads: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--epochs" => args.epochs = value().parse().expect("--epochs N"),
            "--lr" => args.lr = value().parse().expect("--lr F"),
            "--seed" => args.seed = value().parse().expect("--seed N"),
            "--threads" => args.threads = Some(value().parse().expect("--threads N")),
            "--help" | "-h" => {
                println!("regression [--epochs N] [--lr F] [--seed N] [--threads N]");
                std::process::exit(0);
            }
            other => panic!("unknown flag {other}; see --help"),
        }
    }
    args
}

fn main() {
    let args = parse_args();
    if let Some(t) = args.threads {
        set_num_threads(t);
    }
    manual_seed(args.seed);

    // 256 points in [-1, 1], targets sin(3x) plus a little noise.
    let x = Tensor::linspace(-1.0, 1.0, 256).view(&[-1, 1]);
    let y = (&x * 3.0).sin() + Tensor::randn(&[256, 1]) * 0.05;

    // Parameters, initialised like torch.nn.Linear (uniform in +-1/sqrt(fan_in)).
    let uniform = |shape: &[usize], fan_in: usize| {
        let bound = 1.0 / (fan_in as f64).sqrt();
        ((Tensor::rand(shape) * 2.0 - 1.0) * bound).requires_grad_(true)
    };
    let (w1, b1) = (uniform(&[1, 32], 1), uniform(&[32], 1));
    let (w2, b2) = (uniform(&[32, 1], 32), uniform(&[1], 32));
    let params = [&w1, &b1, &w2, &b2];

    for epoch in 0..args.epochs {
        let start = Instant::now();
        let pred = (x.matmul(&w1) + &b1).tanh().matmul(&w2) + &b2;
        let loss = (&pred - &y).square().mean();
        loss.backward();
        {
            let _guard = no_grad();
            for p in params {
                p.add_(&p.grad().expect("every parameter gets a gradient"), -args.lr);
                p.zero_grad();
            }
        }
        if epoch % 200 == 0 || epoch + 1 == args.epochs {
            println!("Epoch {epoch}, loss: {:.5}, time: {:.4}s", loss.item(), start.elapsed().as_secs_f64());
        }
    }
}
