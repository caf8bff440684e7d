//! GEMM throughput: `Tensor::matmul` against a raw `matrixmultiply::sgemm` call on the
//! same buffers, at the sizes of issue #2 (n = 128, 512, 1024). Criterion reports
//! "elements/s" where one element is one FLOP (2n^3 per product).
//!
//! The raw baseline uses matrixmultiply's own `threading` pool (which reads
//! `MATMUL_NUM_THREADS` once), while nabla splits the product over its rayon pool. The
//! two must not run in one process (nabla pins matrixmultiply's pool to one thread),
//! so this file benches one side per process: `cargo bench --bench matmul` runs
//! nabla, and `NABLA_BENCH_RAW=1 cargo bench --bench matmul` runs the raw baseline.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use nabla::prelude::*;

const SIZES: [usize; 3] = [128, 512, 1024];

fn bench(c: &mut Criterion) {
    let raw = std::env::var_os("NABLA_BENCH_RAW").is_some();
    let threads = get_num_threads();
    let mut group = c.benchmark_group(format!("matmul_f32_{threads}threads"));
    for n in SIZES {
        group.throughput(Throughput::Elements(2 * (n * n * n) as u64));
        group.sample_size(if n >= 1024 { 20 } else { 50 });
        manual_seed(0);
        let a = Tensor::randn(&[n, n]);
        let b = Tensor::randn(&[n, n]);
        if raw {
            // Give the raw pool the same thread count before its first use.
            std::env::set_var("MATMUL_NUM_THREADS", threads.to_string());
            let (x, y) = (a.to_vec::<f32>(), b.to_vec::<f32>());
            let mut out = vec![0f32; n * n];
            group.bench_with_input(BenchmarkId::new("raw_matrixmultiply", n), &n, |bench, &n| {
                bench.iter(|| {
                    // SAFETY: x, y and out are n*n row-major buffers that outlive the call.
                    unsafe {
                        matrixmultiply::sgemm(
                            n,
                            n,
                            n,
                            1.0,
                            x.as_ptr(),
                            n as isize,
                            1,
                            y.as_ptr(),
                            n as isize,
                            1,
                            0.0,
                            out.as_mut_ptr(),
                            n as isize,
                            1,
                        )
                    };
                    black_box(&out);
                })
            });
        } else {
            group.bench_with_input(BenchmarkId::new("tensor_matmul", n), &n, |bench, _| {
                bench.iter(|| black_box(a.matmul(&b)))
            });
            let bt = b.t();
            group.bench_with_input(BenchmarkId::new("tensor_matmul_transposed_rhs", n), &n, |bench, _| {
                bench.iter(|| black_box(a.matmul(&bt)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
