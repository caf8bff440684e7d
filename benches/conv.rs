//! Convolution forward and forward+backward at the three conv shapes of the tutorial
//! CNN, batch 32, 3x3 kernels, stride 1, no padding: [32, 1, 28, 28] with 32 filters,
//! [32, 32, 13, 13] with 64, [32, 64, 5, 5] with 64. As in training, the first layer's
//! input (the images) needs no gradient; the others' do. Criterion reports FLOP/s of
//! the forward pass (2 per multiply-add). The `max_pool2d_2x2` group times the CNN's
//! two 2x2 max-pools on its ReLU outputs, [32, 32, 26, 26] and [32, 64, 11, 11].
//! Compare with `python3 tools/torch_conv_bench.py --threads N` on the same machine.

use criterion::measurement::WallTime;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use nabla::prelude::*;

/// `(input shape, output channels)`.
const SHAPES: [([usize; 4], usize); 3] = [([32, 1, 28, 28], 32), ([32, 32, 13, 13], 64), ([32, 64, 5, 5], 64)];

/// Benches `layer` on `x` as `forward/{id}` (under `no_grad`) and as
/// `forward_backward/{id}` (loss `y.sum()`, gradients cleared after each step).
fn forward_and_backward<L: Module + Forward>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    layer: &L,
    x: &Tensor,
) {
    group.bench_with_input(BenchmarkId::new("forward", id), id, |b, _| {
        let _guard = no_grad();
        b.iter(|| black_box(layer.forward(x)))
    });
    group.bench_with_input(BenchmarkId::new("forward_backward", id), id, |b, _| {
        b.iter(|| {
            layer.forward(x).sum().backward();
            layer.zero_grad();
            x.zero_grad();
        })
    });
}

fn bench(c: &mut Criterion) {
    manual_seed(0);
    let mut group = c.benchmark_group(format!("conv2d_3x3_f32_{}threads", get_num_threads()));
    for (shape, c_out) in SHAPES {
        let [n, c_in, h, w] = shape;
        let conv = nn::Conv2d::new(c_in, c_out, 3);
        let x = Tensor::randn(&shape).requires_grad_(c_in > 1);
        let macs = n * c_out * (h - 2) * (w - 2) * c_in * 9;
        group.throughput(Throughput::Elements(2 * macs as u64));
        forward_and_backward(&mut group, &format!("{shape:?}x{c_out}"), &conv, &x);
    }
    group.finish();
}

fn bench_max_pool(c: &mut Criterion) {
    manual_seed(0);
    let mut group = c.benchmark_group(format!("max_pool2d_2x2_f32_{}threads", get_num_threads()));
    let pool = nn::MaxPool2d::new(2);
    for shape in [[32, 32, 26, 26], [32, 64, 11, 11]] {
        let x = Tensor::randn(&shape).relu().detach().requires_grad_(true);
        group.throughput(Throughput::Elements(shape.iter().product::<usize>() as u64));
        forward_and_backward(&mut group, &format!("{shape:?}"), &pool, &x);
    }
    group.finish();
}

criterion_group!(benches, bench, bench_max_pool);
criterion_main!(benches);
