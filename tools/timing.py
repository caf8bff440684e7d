"""Timing shared by the PyTorch micro-benchmarks (tools/torch_*_bench.py)."""
import statistics
import time


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
