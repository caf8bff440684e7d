#!/usr/bin/env python3
"""Times training epochs of one tutorial network in PyTorch and in nabla, in one run.

    NABLA_DATA=../shared/data python3 tools/compare.py mlp  --epochs 1 --threads 2
    NABLA_DATA=../shared/data python3 tools/compare.py cnn  --epochs 1 --threads 2
    NABLA_DATA=../shared/data python3 tools/compare.py lstm --epochs 1 --threads 2

`mlp` is examples/mnist_mlp.rs (Adam 1e-3, batch 64, NLL of log_softmax), `cnn` is
examples/mnist_cnn.rs (Adam 1e-3, batch 32, cross-entropy), `lstm` is
examples/sst2_lstm.rs (Adam 1e-3, batch 32, BCE with logits, 64 tokens, 10k words); the
PyTorch twins are in tools/torch_net.py. Both sides use the same thread count, seed and
data. Prints each side's epoch lines, peak memory (max RSS of the process, from
/usr/bin/time), and the ratio nabla / PyTorch of the mean epoch time.

With `--repeat N` the two sides run N times, alternating, and the script also prints
each pair's ratio, their median, and the ratio of the two sides' fastest runs: on a
shared machine one pair's ratio moves by a fifth from run to run.
"""
import argparse
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = {"mlp": "mnist_mlp", "cnn": "mnist_cnn", "lstm": "sst2_lstm"}


def mnist_model(args):
    import torch
    import torch.nn.functional as F
    from torch_net import Cnn, Net, mnist

    xtr, ytr = mnist(args.data, "train", args.limit)
    xte, yte = mnist(args.data, "test")
    if args.model == "mlp":
        model, batch, loss_fn = Net(), 64, F.nll_loss
    else:
        model, batch, loss_fn = Cnn(), 32, F.cross_entropy
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xtr, ytr), batch_size=batch, shuffle=True)
    test = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xte, yte), batch_size=64)
    return model, train, test, loss_fn, lambda out, y: out.argmax(dim=1).eq(y).sum().item()


def sst2_model(args):
    import torch
    import torch.nn.functional as F
    from torch_net import SentimentLstm, sst2

    ids, lengths, labels, vocab = sst2(args.data, "train", limit=args.limit)
    dev = sst2(args.data, "dev", vocab=vocab)[:3]
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(ids, lengths, labels), batch_size=32, shuffle=True)
    test = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*dev), batch_size=256)
    model = SentimentLstm(len(vocab))
    return model, train, test, F.binary_cross_entropy_with_logits, lambda out, y: (out > 0).float().eq(y).sum().item()


def torch_side(args):
    """Runs inside a child process so that its peak memory is measured on its own."""
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model, train, test, loss_fn, count_correct = (sst2_model if args.model == "lstm" else mnist_model)(args)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(args.epochs):
        start = time.perf_counter()
        model.train()
        for *inputs, y in train:
            opt.zero_grad()
            loss = loss_fn(model(*inputs), y)
            loss.backward()
            opt.step()
        seconds = time.perf_counter() - start
        model.eval()
        correct, total_loss = 0, 0.0
        with torch.no_grad():
            for *inputs, y in test:
                out = model(*inputs)
                # The tutorial's validation loss, as the nabla examples print it: batch means
                # summed, then divided by the test set's size.
                total_loss += loss_fn(out, y).item()
                correct += count_correct(out, y)
        n = len(test.dataset)
        print(f"Epoch {epoch}, Validation loss: {total_loss / n:.4f}, Accuracy: {correct}/{n} "
              f"({100.0 * correct / n:.0f}%), time: {seconds:.2f}s", flush=True)


def run_measured(cmd):
    """Runs cmd under /usr/bin/time; returns (stdout, epoch times, last accuracy, peak MiB)."""
    out = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{out.stdout}\n{out.stderr}")
    times = [float(t) for t in re.findall(r"time: ([0-9.]+)s", out.stdout)]
    acc = re.findall(r"Accuracy: (\d+)/(\d+)", out.stdout)
    peak = int(re.search(r"MAXRSS (\d+)", out.stderr).group(1)) / 1024.0
    return out.stdout, times, acc[-1] if acc else None, peak


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=sorted(EXAMPLES))
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="train on the first N samples")
    p.add_argument("--repeat", type=int, default=1, help="run both sides N times, alternating")
    p.add_argument("--data", default=os.environ.get("NABLA_DATA", os.path.join(ROOT, "data")))
    p.add_argument("--torch-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.torch_child:
        torch_side(args)
        return

    example = EXAMPLES[args.model]
    subprocess.run(["cargo", "build", "--release", "--example", example], cwd=ROOT, check=True)
    common = ["--epochs", str(args.epochs), "--threads", str(args.threads), "--seed", str(args.seed)]
    common += ["--limit", str(args.limit)] if args.limit else []
    torch_cmd = [sys.executable, os.path.abspath(__file__), args.model, "--torch-child", "--data", args.data] + common
    nabla_cmd = [os.path.join(ROOT, "target", "release", "examples", example), "--data", args.data] + common
    pairs = []
    for _ in range(args.repeat):
        t_out, t_times, t_acc, t_peak = run_measured(torch_cmd)
        n_out, n_times, n_acc, n_peak = run_measured(nabla_cmd)
        print("PyTorch:\n" + t_out + f"peak memory {t_peak:.0f} MiB")
        print("nabla:\n" + n_out + f"peak memory {n_peak:.0f} MiB")
        t_mean, n_mean = sum(t_times) / len(t_times), sum(n_times) / len(n_times)
        print(f"epoch time: PyTorch {t_mean:.3f}s, nabla {n_mean:.3f}s, ratio nabla/PyTorch {n_mean / t_mean:.2f}")
        print(f"accuracy: PyTorch {t_acc[0]}/{t_acc[1]}, nabla {n_acc[0]}/{n_acc[1]}")
        print(f"peak memory: PyTorch {t_peak:.0f} MiB, nabla {n_peak:.0f} MiB", flush=True)
        pairs.append((t_mean, n_mean))
    if len(pairs) > 1:
        ratios = sorted(n / t for t, n in pairs)
        mid = len(ratios) // 2
        median = ratios[mid] if len(ratios) % 2 else (ratios[mid - 1] + ratios[mid]) / 2
        fastest = min(n for _, n in pairs) / min(t for t, _ in pairs)
        print(f"{len(pairs)} pairs: ratios {' '.join(f'{r:.2f}' for r in ratios)}, median {median:.2f}, "
              f"fastest nabla / fastest PyTorch {fastest:.2f}")

if __name__ == "__main__":
    main()
