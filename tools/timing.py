"""Set-up and timing shared by the PyTorch micro-benchmarks (tools/torch_*_bench.py,
tools/torch_train_step.py)."""
import argparse
import statistics
import time


def bench_args(default_iters):
    """Parses `--threads` (default 2) and `--iters`, sets PyTorch's thread count and seed 0."""
    import torch

    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--iters", type=int, default=default_iters)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    return args


def median_us(fn, iters):
    """Median wall time of `fn()` in microseconds over `iters` calls, after a warm-up."""
    for _ in range(max(10, iters // 10)):
        fn()
    samples = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1e6
