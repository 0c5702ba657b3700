"""Trains the two example models on the handwritten digits and exports them as float ONNX.

Data: ../../../shared/data/digits.csv.gz (1,797 rows: 64 pixels 0..16, then the label).
Fixed split: rows whose index % 5 == 0 are the held-out evaluation set (360 rows), the rest train.
Inputs are pixels / 16 (the models' metadata records this preprocessing).

Run with Debian's Python (python3-torch, python3-onnx):  /usr/bin/python3 examples/digits/train.py
The exported .onnx files and the split files are committed, so users and CI need no Python.
"""
import csv
import gzip
import os

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "shared", "data", "digits.csv.gz")
L1 = 2e-5


def load():
    with gzip.open(DATA, "rt") as f:
        rows = [list(map(int, r)) for r in csv.reader(f) if r]
    a = np.array(rows, dtype=np.int64)
    x, y = a[:, :64].astype(np.float32) / 16.0, a[:, 64]
    held = np.arange(len(a)) % 5 == 0
    return (x[~held], y[~held]), (x[held], y[held])


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.net(x)


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        )
        self.fc = nn.Linear(64 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def train(model, x, y, shape, epochs, seed):
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    xs, ys = torch.from_numpy(x).reshape(shape), torch.from_numpy(y)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(xs))
        for i in range(0, len(xs), 32):
            idx = perm[i:i + 32]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xs[idx]), ys[idx])
            # A small L1 penalty on the weights leaves many of them near zero, so that magnitude
            # pruning after training (edgerun compress --prune) removes them at little cost.
            loss = loss + L1 * sum(p.abs().sum() for n, p in model.named_parameters() if n.endswith("weight") and p.dim() > 1)
            loss.backward()
            opt.step()
    model.eval()
    return model


def accuracy(model, x, y, shape):
    with torch.no_grad():
        return float((model(torch.from_numpy(x).reshape(shape)).argmax(1).numpy() == y).mean())


def export(model, shape, path):
    dummy = torch.zeros((1,) + tuple(shape[1:]))
    torch.onnx.export(model, dummy, path, input_names=["pixels"], output_names=["logits"], opset_version=13,
                      dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}})


def main():
    (xt, yt), (xe, ye) = load()
    np.savetxt(os.path.join(HERE, "eval.csv"), np.hstack([xe * 16, ye[:, None]]), fmt="%d", delimiter=",")
    np.savetxt(os.path.join(HERE, "calib.csv"), (xt[:256] * 16), fmt="%d", delimiter=",")
    for name, make, shape, epochs in [("mlp", Mlp, (-1, 64), 60), ("cnn", Cnn, (-1, 1, 8, 8), 40)]:
        torch.manual_seed(0)
        model = train(make(), xt, yt, shape, epochs, seed=1)
        print(f"{name}: held-out top-1 {accuracy(model, xe, ye, shape) * 100:.2f}%")
        export(model, shape, os.path.join(HERE, f"digits-{name}.onnx"))


if __name__ == "__main__":
    main()
