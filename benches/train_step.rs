//! One training step of the tutorial's MLP (forward, NLL loss, backward, Adam) at batch
//! 1 and 64: the per-step cost where, at batch 1, framework overhead is everything.
//! Compare with `python3 tools/torch_train_step.py --threads N` on the same machine.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use nabla::prelude::*;

#[derive(Module)]
struct Net {
    fc1: nn::Linear,
    fc2: nn::Linear,
    fc3: nn::Linear,
    dropout: nn::Dropout,
}

impl Net {
    fn new() -> Self {
        Net {
            fc1: nn::Linear::new(784, 256),
            fc2: nn::Linear::new(256, 128),
            fc3: nn::Linear::new(128, 10),
            dropout: nn::Dropout::new(0.2),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let x = x.view(&[-1, 784]);
        let x = self.dropout.forward(&self.fc1.forward(&x).relu());
        let x = self.dropout.forward(&self.fc2.forward(&x).relu());
        self.fc3.forward(&x).log_softmax(1)
    }
}

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
