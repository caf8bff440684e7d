#!/usr/bin/env python3
"""Median time of LSTM forward + backward in PyTorch at batch 32, 64 steps, input 64:
one LSTM(64 -> 64), and the SST-2 tutorial's stack LSTM(64 -> 64) then LSTM(64 -> 32);
for comparison with `cargo bench --bench lstm` (same shapes, same losses).

    python3 tools/torch_lstm_bench.py --threads 2
"""
import torch
from torch import nn

from timing import bench_args, median_us

BATCH, STEPS = 32, 64


def main():
    args = bench_args(200)
    x = torch.randn(STEPS, BATCH, 64)
    lstm = nn.LSTM(64, 64)
    first, second = nn.LSTM(64, 64), nn.LSTM(64, 32)

    def one_layer():
        lstm.zero_grad()
        out, _ = lstm(x)
        out.sum().backward()

    def stack():
        first.zero_grad()
        second.zero_grad()
        h, _ = first(x)
        _, (hn, _) = second(h)
        hn.sum().backward()

    def forward_no_grad():
        with torch.no_grad():
            lstm(x)

    print(f"torch {torch.__version__}, {args.threads} threads, batch {BATCH}, {STEPS} steps")
    for name, fn in [("forward_backward_64_64", one_layer), ("forward_backward_stack_64_64_32", stack),
                     ("forward_no_grad_64_64", forward_no_grad)]:
        print(f"torch lstm {name}: median {median_us(fn, args.iters):.1f} us")


if __name__ == "__main__":
    main()
