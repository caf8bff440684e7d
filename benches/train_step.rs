//! One training step of the tutorial's MLP (forward, NLL loss, backward, Adam) at batch
//! 1 and 64: the per-step cost where, at batch 1, framework overhead is everything.
//! Compare with `python3 tools/torch_train_step.py --threads N` on the same machine.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use nabla::prelude::*;

// The exact network of the example (and of the tutorial), not a copy of it.
#[path = "../examples/mnist_mlp.rs"]
#[allow(dead_code)]
mod mnist_mlp;

use mnist_mlp::Net;

fn bench(c: &mut Criterion) {
    manual_seed(0);
    let model = Net::new();
    let mut opt = optim::Adam::new(model.parameters(), 1e-3);
    let mut group = c.benchmark_group(format!("train_step_mlp_{}threads", get_num_threads()));
    for batch in [1usize, 64] {
        let x = Tensor::randn(&[batch, 1, 28, 28]);
        let y = Tensor::randint(0, 10, &[batch]);
        group.bench_with_input(BenchmarkId::new("batch", batch), &batch, |b, _| {
            b.iter(|| {
                opt.zero_grad();
                nn::functional::nll_loss(&model.forward(&x), &y).backward();
                opt.step();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
