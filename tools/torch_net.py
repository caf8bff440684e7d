"""The tutorial's MLP in PyTorch, shared by the comparison scripts."""
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
