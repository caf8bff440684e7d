#!/usr/bin/env python3
"""Median time of one training step (forward, NLL loss, backward, Adam) of the tutorial's
MLP in PyTorch, at batch 1 and 64, for comparison with `cargo bench --bench train_step`.

    python3 tools/torch_train_step.py --threads 2
"""
import torch
import torch.nn.functional as F

from timing import bench_args, median_us
from torch_net import Net


def main():
    args = bench_args(2000)
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for batch in (1, 64):
        x = torch.randn(batch, 1, 28, 28)
        y = torch.randint(0, 10, (batch,))

        def step():
            opt.zero_grad()
            F.nll_loss(model(x), y).backward()
            opt.step()

        print(f"torch train_step batch {batch}: median {median_us(step, args.iters):.1f} us")


if __name__ == "__main__":
    main()
