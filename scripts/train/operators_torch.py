"""PyTorch FNO / IFNO with the parameter names and forward of mixpe's models/operators/fno.cpp.

Structure as the reference neuraloperator FNO1d/FNO2d (grid coordinates appended, lifting, L
Fourier layers v <- act(W v + K v) without activation after the last, projection width->128->out,
exact GELU), plus baked-in per-point input/output normalization. The spectral weights of one
layer are one complex tensor [in, out, K_1, ..., K_D] (real and imaginary parts separate) whose
axes d < D-1 hold the low modes 0..m-1 followed by the high modes R-m..R-1 (FNO2d's weights1 and
weights2 concatenated) and whose last axis holds modes 0..m-1 of the rFFT.
IFNO: one shared layer iterated L times, v <- v + act(W v + K v) / L.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def retained_frequencies(r, m, two_sided):
    if m < 1 or (2 * m > r if two_sided else m > r // 2 + 1):
        raise ValueError(f"{m} modes do not fit {r} points")
    f = list(range(m))
    if two_sided:
        f += list(range(r - m, r))
    return f


class SpectralConv(nn.Module):
    def __init__(self, width, grid, modes):
        super().__init__()
        self.grid = list(grid)
        d = len(grid)
        self.freqs = [retained_frequencies(grid[i], modes[i], i + 1 < d) for i in range(d)]
        kept = [len(f) for f in self.freqs]
        scale = 1.0 / (width * width)
        self.weight_re = nn.Parameter(scale * torch.rand(width, width, *kept))
        self.weight_im = nn.Parameter(scale * torch.rand(width, width, *kept))

    def forward(self, x):  # x [B, C, *grid]
        d = len(self.grid)
        axes = tuple(range(2, 2 + d))
        xf = torch.fft.rfftn(x, dim=axes)
        idx = [torch.tensor(f, device=x.device) for f in self.freqs]
        sub = xf
        for i in range(d):
            sub = sub.index_select(2 + i, idx[i])
        w = torch.complex(self.weight_re, self.weight_im).to(sub.dtype)
        out = torch.einsum("bi...,io...->bo...", sub, w)
        shape = [x.shape[0], w.shape[1]] + self.grid[:-1] + [self.grid[-1] // 2 + 1]
        out_ft = torch.zeros(shape, dtype=xf.dtype, device=x.device)
        mesh = torch.meshgrid(*idx, indexing="ij")
        out_ft[(slice(None), slice(None)) + tuple(mesh)] = out
        return torch.fft.irfftn(out_ft, s=self.grid, dim=axes)


class FourierLayer(nn.Module):
    def __init__(self, width, grid, modes):
        super().__init__()
        self.spectral = SpectralConv(width, grid, modes)
        self.pointwise = nn.Linear(width, width)  # the 1x1 convolution W v + b, channels last


class FNO(nn.Module):
    def __init__(self, grid, in_channels, out_channels, width, layers, modes, projection_width=128, implicit=False):
        super().__init__()
        self.grid, self.implicit, self.n_iter = list(grid), implicit, layers
        d = len(grid)
        self.lift = nn.Linear(in_channels + d, width)
        self.layers = nn.ModuleList(FourierLayer(width, grid, modes) for _ in range(1 if implicit else layers))
        self.proj1 = nn.Linear(width, projection_width)
        self.proj2 = nn.Linear(projection_width, out_channels)
        self.register_buffer("input_mean", torch.zeros(*grid, in_channels))
        self.register_buffer("input_std", torch.ones(*grid, in_channels))
        self.register_buffer("output_mean", torch.zeros(*grid, out_channels))
        self.register_buffer("output_std", torch.ones(*grid, out_channels))

    def coordinates(self, batch, dtype, device):
        axes = [torch.tensor([i / (r - 1) for i in range(r)], dtype=dtype, device=device) for r in self.grid]
        mesh = torch.meshgrid(*axes, indexing="ij")
        return torch.stack(mesh, dim=-1).expand(batch, *self.grid, len(self.grid))

    def forward(self, x):  # x [B, *grid, in] -> [B, *grid, out], both un-normalized
        x = (x - self.input_mean) / self.input_std
        x = torch.cat([x, self.coordinates(x.shape[0], x.dtype, x.device)], dim=-1)
        v = self.lift(x)
        for t in range(self.n_iter):
            layer = self.layers[0 if self.implicit else t]
            k = layer.spectral(v.movedim(-1, 1)).movedim(1, -1)
            u = k + layer.pointwise(v)
            if self.implicit:
                v = v + F.gelu(u) / self.n_iter
            else:
                v = F.gelu(u) if t + 1 < self.n_iter else u
        return self.proj2(F.gelu(self.proj1(v))) * self.output_std + self.output_mean


def from_config(c):
    return FNO(c["grid"], c["in_channels"], c["out_channels"], c["width"], c["layers"], c["modes"],
               c.get("projection_width", 128), implicit=c["model_type"] == "ifno")


def relative_l2(pred, true):
    """Per-sample relative L2 error ||pred - true|| / ||true||, shape [B]."""
    b = pred.shape[0]
    return torch.linalg.vector_norm((pred - true).reshape(b, -1), dim=1) / torch.linalg.vector_norm(true.reshape(b, -1), dim=1)
