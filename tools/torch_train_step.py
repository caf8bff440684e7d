#!/usr/bin/env python3
"""Median time of one training step (forward, NLL loss, backward, Adam) of the tutorial's
MLP in PyTorch, at batch 1 and 64, for comparison with `cargo bench --bench train_step`.

    python3 tools/torch_train_step.py --threads 2
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from torch_net import Net


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--iters", type=int, default=2000)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for batch in (1, 64):
        x = torch.randn(batch, 1, 28, 28)
        y = torch.randint(0, 10, (batch,))

        def step():
            opt.zero_grad()
            F.nll_loss(model(x), y).backward()
            opt.step()

        for _ in range(200):
            step()
        samples = []
        for _ in range(args.iters):
            t = time.perf_counter()
            step()
            samples.append(time.perf_counter() - t)
        print(f"torch train_step batch {batch}: median {statistics.median(samples) * 1e6:.1f} us")


if __name__ == "__main__":
    main()
