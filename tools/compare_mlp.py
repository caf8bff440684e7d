#!/usr/bin/env python3
"""Times one MNIST MLP epoch in PyTorch and in nabla, in one run, same machine.

The model is the tutorial's Net (784-256-128-10, ReLU, Dropout 0.2, log_softmax +
NLLLoss, Adam lr 1e-3, batch 64, shuffled), inputs normalised with mean 0.1307 and
std 0.3081, both frameworks on the same number of threads. Prints each side's epoch
time, test accuracy and peak memory (max RSS of the whole process, measured by
/usr/bin/time), then the ratio nabla / PyTorch.

    NABLA_DATA=../shared/data python3 tools/compare_mlp.py --epochs 1 --threads 2
"""
import argparse
import gzip
import os
import re
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return dims, data[4 + 4 * ndim :]


def mnist(root, split):
    import torch

    d = os.path.join(root, "mnist")
    prefix = "train" if split == "train" else "t10k"
    dims, pixels = read_idx(os.path.join(d, f"{prefix}-images-idx3-ubyte.gz"))
    _, labels = read_idx(os.path.join(d, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).reshape(dims[0], 1, 28, 28).float() / 255.0
    x = (x - 0.1307) / 0.3081
    y = torch.frombuffer(bytearray(labels), dtype=torch.uint8).long()
    return x, y


def torch_side(args):
    """Runs inside a child process so its peak memory is measured on its own."""
    import torch
    import torch.nn.functional as F
    from torch_net import Net

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    xtr, ytr = mnist(args.data, "train")
    xte, yte = mnist(args.data, "test")
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xtr, ytr), batch_size=64, shuffle=True)
    test = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xte, yte), batch_size=64)
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(args.epochs):
        start = time.perf_counter()
        model.train()
        for x, y in train:
            opt.zero_grad()
            loss = F.nll_loss(model(x), y)
            loss.backward()
            opt.step()
        seconds = time.perf_counter() - start
        model.eval()
        correct, val = 0, 0.0
        with torch.no_grad():
            for x, y in test:
                out = model(x)
                val += F.nll_loss(out, y).item()
                correct += out.argmax(dim=1).eq(y).sum().item()
        n = len(test.dataset)
        print(f"Epoch {epoch}, Validation loss: {val / n:.4f}, Accuracy: {correct}/{n} "
              f"({100.0 * correct / n:.0f}%), time: {seconds:.2f}s", flush=True)


def run_measured(cmd, env=None):
    """Runs cmd under /usr/bin/time; returns (stdout, epoch times, last accuracy, peak MiB)."""
    out = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{out.stdout}\n{out.stderr}")
    times = [float(t) for t in re.findall(r"time: ([0-9.]+)s", out.stdout)]
    acc = re.findall(r"Accuracy: (\d+)/(\d+)", out.stdout)
    peak = int(re.search(r"MAXRSS (\d+)", out.stderr).group(1)) / 1024.0
    return out.stdout, times, acc[-1] if acc else None, peak


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default=os.environ.get("NABLA_DATA", os.path.join(ROOT, "data")))
    p.add_argument("--torch-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.torch_child:
        torch_side(args)
        return

    subprocess.run(["cargo", "build", "--release", "--example", "mnist_mlp"], cwd=ROOT, check=True)
    common = ["--epochs", str(args.epochs), "--threads", str(args.threads), "--seed", str(args.seed)]
    t_out, t_times, t_acc, t_peak = run_measured(
        [sys.executable, os.path.abspath(__file__), "--torch-child", "--data", args.data] + common)
    n_out, n_times, n_acc, n_peak = run_measured(
        [os.path.join(ROOT, "target", "release", "examples", "mnist_mlp"), "--data", args.data] + common)
    print("PyTorch:\n" + t_out + f"peak memory {t_peak:.0f} MiB")
    print("nabla:\n" + n_out + f"peak memory {n_peak:.0f} MiB")
    t_mean, n_mean = sum(t_times) / len(t_times), sum(n_times) / len(n_times)
    print(f"epoch time: PyTorch {t_mean:.3f}s, nabla {n_mean:.3f}s, ratio nabla/PyTorch {n_mean / t_mean:.2f}")
    print(f"accuracy: PyTorch {t_acc[0]}/{t_acc[1]}, nabla {n_acc[0]}/{n_acc[1]}")
    print(f"peak memory: PyTorch {t_peak:.0f} MiB, nabla {n_peak:.0f} MiB")


if __name__ == "__main__":
    main()
