//! Per-op overhead of the tape: the time of a tiny recorded op (2x2 add) and of a tiny
//! forward + backward, where kernels cost nothing and bookkeeping is everything.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use nabla::prelude::*;

fn bench(c: &mut Criterion) {
    let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]).requires_grad_(true);
    let b = Tensor::from_vec(vec![0.5f32, 0.5, 0.5, 0.5], &[2, 2]).requires_grad_(true);
    let mut group = c.benchmark_group("tiny_op");
    group.bench_function("add_2x2_recorded", |bench| bench.iter(|| black_box(&a + &b)));
    group.bench_function("add_2x2_no_grad", |bench| {
        let _guard = no_grad();
        bench.iter(|| black_box(&a + &b))
    });
    group.bench_function("add_2x2_backward", |bench| {
        bench.iter(|| {
            let c = &a + &b;
            c.backward_with(Some(&Tensor::ones(&[2, 2])), false);
        })
    });
    group.bench_function("add_sum_backward_2x2", |bench| bench.iter(|| (&a + &b).sum().backward()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
