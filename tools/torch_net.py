"""The tutorial's networks in PyTorch and their data, shared by the comparison scripts.

Each network is the PyTorch twin of an example under examples/: same layers, same
initialisation (PyTorch's defaults), same loss, optimizer and batch size.
"""
import gzip
import os
import re
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    """784-256-128-10, ReLU, Dropout 0.2, log_softmax: the network of examples/mnist_mlp.rs."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)
        self.dropout = nn.Dropout(0.2)

    def forward(self, x):
        x = x.view(-1, 784)
        x = self.dropout(F.relu(self.fc1(x)))
        x = self.dropout(F.relu(self.fc2(x)))
        return F.log_softmax(self.fc3(x), dim=1)


class Cnn(nn.Module):
    """The tutorial's Keras CNN in PyTorch style: the network of examples/mnist_cnn.rs.

    Conv 32 3x3, pool 2, conv 64 3x3, pool 2, conv 64 3x3, flatten, 64, 10 (logits);
    with `batchnorm`, BatchNorm between each conv/linear and its ReLU.
    """

    def __init__(self, batchnorm=False):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.conv3 = nn.Conv2d(64, 64, 3)
        self.fc1 = nn.Linear(64 * 3 * 3, 64)
        self.fc2 = nn.Linear(64, 10)
        norm2d = nn.BatchNorm2d if batchnorm else (lambda c: nn.Identity())
        self.bn1, self.bn2, self.bn3 = norm2d(32), norm2d(64), norm2d(64)
        self.bn4 = nn.BatchNorm1d(64) if batchnorm else nn.Identity()

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.bn3(self.conv3(x)))
        x = F.relu(self.bn4(self.fc1(torch.flatten(x, 1))))
        return self.fc2(x)


class SentimentLstm(nn.Module):
    """The tutorial's RNN: the network of examples/sst2_lstm.rs.

    Embedding(vocab, 64), LSTM(64) over all steps, LSTM(32) keeping each sequence's
    last valid step, Linear 64 ReLU, Dropout 0.5, Linear 1 (a logit). Padding never
    reaches the LSTMs: sequences are packed with their lengths.
    """

    def __init__(self, vocab_size=10000):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, 64, padding_idx=0)
        self.lstm1 = nn.LSTM(64, 64, batch_first=True)
        self.lstm2 = nn.LSTM(64, 32, batch_first=True)
        self.fc1 = nn.Linear(32, 64)
        self.dropout = nn.Dropout(0.5)
        self.fc2 = nn.Linear(64, 1)

    def forward(self, ids, lengths):
        pack = nn.utils.rnn.pack_padded_sequence
        x = pack(self.embedding(ids), lengths, batch_first=True, enforce_sorted=False)
        x, _ = self.lstm1(x)
        _, (h, _) = self.lstm2(x)
        x = self.dropout(F.relu(self.fc1(h[-1])))
        return self.fc2(x).squeeze(1)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return dims, data[4 + 4 * ndim :]


def mnist(root, split, limit=None):
    """MNIST as float [n, 1, 28, 28] normalised with mean 0.1307, std 0.3081, and labels."""
    d = os.path.join(root, "mnist")
    prefix = "train" if split == "train" else "t10k"
    dims, pixels = read_idx(os.path.join(d, f"{prefix}-images-idx3-ubyte.gz"))
    _, labels = read_idx(os.path.join(d, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).reshape(dims[0], 1, 28, 28).float() / 255.0
    x = (x - 0.1307) / 0.3081
    y = torch.frombuffer(bytearray(labels), dtype=torch.uint8).long()
    return (x[:limit], y[:limit]) if limit else (x, y)


def tokenize(text):
    """nabla_data::tokenize: lower-case; runs of letters, digits and apostrophes; every
    other non-space character alone."""
    return re.findall(r"[\w']+|[^\w\s]", text.lower().replace("_", " _ "))


def build_vocab(texts, max_size):
    """nabla_data::Vocab::build(.., max_size, 1): <pad>=0, <unk>=1, then by frequency,
    ties alphabetical."""
    counts = {}
    for t in texts:
        for tok in tokenize(t):
            counts[tok] = counts.get(tok, 0) + 1
    ranked = sorted((t for t in counts if t not in ("<pad>", "<unk>")), key=lambda t: (-counts[t], t))
    return {t: i for i, t in enumerate(["<pad>", "<unk>"] + ranked[: max_size - 2])}


def sst2(root, split, vocab=None, max_len=64, vocab_size=10000, limit=None):
    """SST-2 as (ids [n, max_len] padded at the end, lengths, float labels, vocab)."""
    with open(os.path.join(root, "sst2", f"{split}.tsv"), encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f.readlines()[1:] if line.strip()]
    rows = rows[:limit] if limit else rows
    texts = [r[1] for r in rows]
    vocab = vocab or build_vocab(texts, vocab_size)
    ids = torch.zeros(len(rows), max_len, dtype=torch.long)
    lengths = []
    for i, text in enumerate(texts):
        row = [vocab.get(t, 1) for t in tokenize(text)][:max_len] or [1]
        ids[i, : len(row)] = torch.tensor(row)
        lengths.append(len(row))
    labels = torch.tensor([float(r[0]) for r in rows])
    return ids, torch.tensor(lengths), labels, vocab
