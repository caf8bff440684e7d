//! LSTM forward + backward at batch 32, 64 steps, input 64, hidden 64 (one layer), and
//! the SST-2 tutorial's stack LSTM(64 -> 64) then LSTM(64 -> 32), where the recurrence is
//! many small GEMMs and per-op overhead matters. Compare with
//! `python3 tools/torch_lstm_bench.py --threads N` on the same machine.

use criterion::{criterion_group, criterion_main, Criterion};
use nabla::prelude::*;

const BATCH: usize = 32;
const STEPS: usize = 64;

fn bench(c: &mut Criterion) {
    manual_seed(0);
    let x = Tensor::randn(&[STEPS, BATCH, 64]);
    let lstm = nn::LSTM::new(64, 64);
    let (first, second) = (nn::LSTM::new(64, 64), nn::LSTM::new(64, 32));
    let mut group = c.benchmark_group(format!("lstm_b{BATCH}_t{STEPS}_{}threads", get_num_threads()));
    group.bench_function("forward_backward_64_64", |b| {
        b.iter(|| {
            lstm.zero_grad();
            let (out, _) = lstm.forward(&x, None);
            out.sum().backward();
        })
    });
    group.bench_function("forward_backward_stack_64_64_32", |b| {
        b.iter(|| {
            first.zero_grad();
            second.zero_grad();
            let (h, _) = first.forward(&x, None);
            let (_, (hn, _)) = second.forward(&h, None);
            hn.sum().backward();
        })
    });
    group.bench_function("forward_no_grad_64_64", |b| {
        let _guard = no_grad();
        b.iter(|| lstm.forward(&x, None))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
