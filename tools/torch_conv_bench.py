#!/usr/bin/env python3
"""Median time of conv2d forward and forward+backward in PyTorch at the tutorial CNN's three
conv shapes (batch 32, 3x3, stride 1, no padding), and of its two 2x2 max-pools, for
comparison with `cargo bench --bench conv`.

    python3 tools/torch_conv_bench.py --threads 2
"""
import torch
import torch.nn as nn

from timing import bench_args, median_us

SHAPES = [((32, 1, 28, 28), 32), ((32, 32, 13, 13), 64), ((32, 64, 5, 5), 64)]
POOL_SHAPES = [(32, 32, 26, 26), (32, 64, 11, 11)]


def main():
    args = bench_args(300)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for shape, c_out in SHAPES:
        conv = nn.Conv2d(shape[1], c_out, 3)
        x = torch.randn(*shape).requires_grad_(shape[1] > 1)

        def forward():
            with torch.no_grad():
                conv(x)

        def forward_backward():
            conv(x).sum().backward()
            conv.zero_grad(set_to_none=True)
            x.grad = None

        print(
            f"torch conv2d {list(shape)}x{c_out}: forward median {median_us(forward, args.iters):.1f} us, "
            f"forward_backward median {median_us(forward_backward, args.iters):.1f} us"
        )

    pool = nn.MaxPool2d(2)
    for shape in POOL_SHAPES:
        x = torch.randn(*shape).relu().requires_grad_(True)

        def pool_forward():
            with torch.no_grad():
                pool(x)

        def pool_forward_backward():
            pool(x).sum().backward()
            x.grad = None

        print(
            f"torch max_pool2d 2x2 {list(shape)}: forward median {median_us(pool_forward, args.iters):.1f} us, "
            f"forward_backward median {median_us(pool_forward_backward, args.iters):.1f} us"
        )


if __name__ == "__main__":
    main()
