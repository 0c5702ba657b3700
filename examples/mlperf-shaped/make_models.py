"""Float ONNX models with the MLPerf Tiny architectures, for timing edgerun against onnxruntime.

The weights are seeded random, not trained: these files exist to measure speed on the shapes that
MLPerf Tiny uses, never accuracy. BatchNormalization layers are kept in the export (edgerun's
importer folds them into the convolutions) and get realistic statistics: their running mean and
variance come from the calibration inputs, then a seeded random affine (gamma, beta) is applied,
so activations keep a sensible range through the depth of the network.

- ds-cnn.onnx (keyword spotting, DS-CNN "small"): input [1,1,49,10] (49 frames x 10 MFCC);
  conv 10x4 stride 2 -> 64 channels, BN, ReLU; 4 x (depthwise 3x3 + BN + ReLU, pointwise 1x1 64
  + BN + ReLU); average pool over the 25x5 map; fully connected 12; softmax. The first conv pads
  5 rows and 1 column on each side (symmetric, as PyTorch exports it) where the TensorFlow
  reference pads "same" (4/5 rows, 1/1 column): the output is 25x5 either way.
- resnet8.onnx (image classification on CIFAR-10, ResNet-8): input [1,3,32,32]; conv 3x3 16, BN,
  ReLU; three residual stages of 16 / 32 / 64 channels (3x3 conv, BN, ReLU, 3x3 conv, BN, add,
  ReLU), the last two with stride 2 and a 1x1 stride-2 convolution on the shortcut; average pool
  8x8; fully connected 10; softmax.

Calibration files (fixed seed, synthetic): kws-calib.npy (int8 MFCC-like maps, preprocessing
scale 0.0625) and ic-calib.npy (uint8 images, preprocessing scale 1/255).

Run with Debian's Python (python3-torch, python3-onnx):  /usr/bin/python3 examples/mlperf-shaped/make_models.py
Deterministic; the committed files are its output, so users and CI need no Python.
"""
import os

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
KWS_SCALE = 0.0625
IC_SCALE = 1.0 / 255.0


def conv_bn(cin, cout, k, stride=1, pad=0, groups=1):
    return [nn.Conv2d(cin, cout, k, stride=stride, padding=pad, groups=groups, bias=False), nn.BatchNorm2d(cout, momentum=None)]


class DsCnn(nn.Module):
    def __init__(self):
        super().__init__()
        layers = conv_bn(1, 64, (10, 4), stride=2, pad=(5, 1)) + [nn.ReLU()]
        for _ in range(4):
            layers += conv_bn(64, 64, 3, pad=1, groups=64) + [nn.ReLU()]
            layers += conv_bn(64, 64, 1) + [nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AvgPool2d((25, 5))
        self.fc = nn.Linear(64, 12)

    def forward(self, x):
        return torch.softmax(self.fc(torch.flatten(self.pool(self.features(x)), 1)), dim=1)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a = nn.Sequential(*conv_bn(cin, cout, 3, stride, 1), nn.ReLU(), *conv_bn(cout, cout, 3, 1, 1))
        self.short = nn.Sequential(*conv_bn(cin, cout, 1, stride)) if stride != 1 else nn.Identity()

    def forward(self, x):
        return torch.relu(self.a(x) + self.short(x))


class ResNet8(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 16, 3, 1, 1), nn.ReLU())
        self.stages = nn.Sequential(Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2))
        self.pool = nn.AvgPool2d(8)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        return torch.softmax(self.fc(torch.flatten(self.pool(self.stages(self.stem(x))), 1)), dim=1)


def kws_calib(rng, n):
    """MFCC-like maps: a per-coefficient level that drifts slowly over the frames, plus noise."""
    level = rng.normal(0, 40, size=(n, 1, 1, 10))
    drift = np.cumsum(rng.normal(0, 6, size=(n, 1, 49, 10)), axis=2)
    x = level + drift + rng.normal(0, 8, size=(n, 1, 49, 10))
    return np.clip(np.round(x), -128, 127).astype(np.int8)


def ic_calib(rng, n):
    """Images: smooth colour fields (bilinear from 4x4) plus pixel noise, in 0..255."""
    coarse = torch.from_numpy(rng.uniform(0, 255, size=(n, 3, 4, 4)).astype(np.float32))
    smooth = nn.functional.interpolate(coarse, size=(32, 32), mode="bilinear", align_corners=False).numpy()
    x = smooth + rng.normal(0, 12, size=smooth.shape)
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def settle_batchnorm(model, x, seed):
    """Running statistics from the data (cumulative average), then a seeded affine on top."""
    model.train()
    with torch.no_grad():
        model(x)
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data = 0.5 + torch.rand(m.num_features, generator=gen)
            m.bias.data = 0.2 * torch.randn(m.num_features, generator=gen)
    model.eval()


def export(model, shape, path):
    torch.onnx.export(model, torch.zeros(shape), path, input_names=["input"], output_names=["scores"], opset_version=13)


def main():
    rng = np.random.default_rng(7)
    kws = kws_calib(rng, 64)
    ic = ic_calib(rng, 64)
    np.save(os.path.join(HERE, "kws-calib.npy"), kws)
    np.save(os.path.join(HERE, "ic-calib.npy"), ic)
    for name, make, data, scale, seed in [("ds-cnn", DsCnn, kws, KWS_SCALE, 1), ("resnet8", ResNet8, ic, IC_SCALE, 2)]:
        torch.manual_seed(seed)
        model = make()
        x = torch.from_numpy(data.astype(np.float32) * scale)
        settle_batchnorm(model, x, seed)
        with torch.no_grad():
            top = model(x).argmax(1).numpy()
        print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, classes picked on calibration: {np.bincount(top).tolist()}")
        export(model, (1,) + tuple(data.shape[1:]), os.path.join(HERE, f"{name}.onnx"))


if __name__ == "__main__":
    main()
