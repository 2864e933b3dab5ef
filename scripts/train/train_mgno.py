"""Trains MgNO (He, Liu, Xu et al., ICLR 2024) on Darcy flow and writes a mixpe model directory.

The PyTorch module mirrors models/operators/mgno.h exactly (same V-cycle, same tensor names); the
scalar input/output normalization used in training is folded into lift and proj2 on export.
Usage: /usr/bin/python3 scripts/train/train_mgno.py --data /work/data/darcy64.safetensors --out zoo/mgno-darcy
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


def strided(n):
    return (n - 1) // 2 + 1


class Level(nn.Module):
    def __init__(self, width, has_a, coarsest):
        super().__init__()
        conv = lambda stride=1: nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.A = conv() if has_a else None
        self.S = conv()
        self.restrict = None if coarsest else conv(2)
        self.prolong = None if coarsest else nn.ConvTranspose2d(width, width, 3, stride=2, padding=1, bias=False)


class MgNO(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        w, L = cfg["width"], cfg["levels"]
        self.steps = cfg.get("smoothing_steps", 1)
        self.post = cfg.get("post_smoothing", False)
        self.act = nn.GELU() if cfg.get("activation", "gelu") == "gelu" else nn.ReLU()
        self.lift = nn.Conv2d(cfg.get("in_channels", 1), w, 1)
        self.layers = nn.ModuleList()
        for _ in range(cfg["layers"]):
            layer = nn.Module()
            layer.w = nn.Conv2d(w, w, 1)
            layer.levels = nn.ModuleList(
                [Level(w, j + 1 < L or self.steps > 1 or self.post, j + 1 == L) for j in range(L)])
            self.layers.append(layer)
        hidden = cfg.get("projection_hidden", 4 * w)
        self.proj1 = nn.Conv2d(w, hidden, 1)
        self.proj2 = nn.Conv2d(hidden, cfg.get("out_channels", 1), 1)
        for name in ("x_mean", "x_std", "y_mean", "y_std"):
            self.register_buffer(name, torch.tensor(0.0 if "mean" in name else 1.0))

    def v_cycle(self, levels, j, f):
        lv = levels[j]
        u = lv.S(f)
        for _ in range(1, self.steps):
            u = u + lv.S(f - lv.A(u))
        if j + 1 < len(levels):
            uc = self.v_cycle(levels, j + 1, lv.restrict(f - lv.A(u)))
            u = u + lv.prolong(uc, output_size=f.shape[-2:])
            if self.post:
                for _ in range(self.steps):
                    u = u + lv.S(f - lv.A(u))
        return u

    def forward(self, a):  # a: [B, H, W, C] channels last
        x = ((a - self.x_mean) / self.x_std).permute(0, 3, 1, 2)
        v = self.lift(x)
        for layer in self.layers:
            v = self.act(layer.w(v) + self.v_cycle(layer.levels, 0, v))
        y = self.proj2(self.act(self.proj1(v)))
        return (y * self.y_std + self.y_mean).permute(0, 2, 3, 1)


def export_tensors(model):
    """The C++ tensor set (mgno_weight_shapes order) with the normalization folded in."""
    sd = {k: v.detach().double().clone() for k, v in model.state_dict().items()}
    xm, xs, ym, ys = (sd[k].item() for k in ("x_mean", "x_std", "y_mean", "y_std"))
    out = {}
    lw, lb = sd["lift.weight"][:, :, 0, 0], sd["lift.bias"]
    out["lift.weight"] = lw / xs
    out["lift.bias"] = lb - (lw * (xm / xs)).sum(dim=1)
    for l in range(model.cfg["layers"]):
        out[f"layers.{l}.w.weight"] = sd[f"layers.{l}.w.weight"][:, :, 0, 0]
        out[f"layers.{l}.w.bias"] = sd[f"layers.{l}.w.bias"]
        for j in range(model.cfg["levels"]):
            for t in ("A", "S", "restrict", "prolong"):
                key = f"layers.{l}.levels.{j}.{t}.weight"
                if key in sd:
                    out[f"layers.{l}.level{j}.{t}.weight"] = sd[key]
    out["proj1.weight"] = sd["proj1.weight"][:, :, 0, 0]
    out["proj1.bias"] = sd["proj1.bias"]
    out["proj2.weight"] = sd["proj2.weight"][:, :, 0, 0] * ys
    out["proj2.bias"] = sd["proj2.bias"] * ys + ym
    return {k: v.float().numpy() for k, v in out.items()}


def model_from_tensors(cfg, tensors, dtype):
    """An identity-normalized MgNO holding exactly the exported float32 values."""
    m = MgNO(cfg)
    sd = m.state_dict()
    for k, v in tensors.items():
        t = torch.from_numpy(v)
        if k.startswith("layers."):
            parts = k.split(".")
            if parts[2].startswith("level"):
                k = ".".join(parts[:2] + ["levels", parts[2][5:]] + parts[3:])
        target = sd[k]
        sd[k] = t.reshape(target.shape)
    m.load_state_dict(sd)
    return m.to(dtype).eval()


def rel_l2(pred, y):
    d = (pred - y).reshape(len(y), -1).norm(dim=1)
    return d / y.reshape(len(y), -1).norm(dim=1)


def evaluate(model, x, y, batch=50):
    errs = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            errs.append(rel_l2(model(x[i:i + batch]), y[i:i + batch]))
    return torch.cat(errs).mean().item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/data/darcy64.safetensors")
    ap.add_argument("--out", default="zoo/mgno-darcy")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--minutes", type=float, default=14.0, help="stop after this much training time")
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--ntrain", type=int, default=0, help="use only the first N training samples (0: all)")
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--levels", type=int, default=4)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=64)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    data, _ = safetensors_io.load(args.data)
    xtr, ytr = torch.from_numpy(data["train.x"]), torch.from_numpy(data["train.y"])
    xte, yte = torch.from_numpy(data["test.x"]), torch.from_numpy(data["test.y"])
    if args.ntrain:
        xtr, ytr = xtr[:args.ntrain], ytr[:args.ntrain]
    h, w = xtr.shape[1], xtr.shape[2]
    cfg = {"model_type": "mgno", "name": os.path.basename(os.path.normpath(args.out)),
           "description": "MgNO for 2-D Darcy flow a -> u (zero Dirichlet boundary)",
           "grid": [h, w], "in_channels": 1, "out_channels": 1, "width": args.width, "levels": args.levels,
           "layers": args.layers, "smoothing_steps": 1, "post_smoothing": False,
           "projection_hidden": args.hidden, "activation": "gelu"}
    model = MgNO(cfg)
    model.x_mean.fill_(xtr.mean().item())
    model.x_std.fill_(xtr.std().item())
    model.y_mean.fill_(ytr.mean().item())
    model.y_std.fill_(ytr.std().item())
    nparams = sum(p.numel() for p in model.parameters())
    print(f"train {tuple(xtr.shape)} test {tuple(xte.shape)} params {nparams}", flush=True)

    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    # The learning rate follows a cosine over the wall-clock budget (after a 3% warm-up), so the
    # run anneals properly however loaded the shared machine is; --epochs only caps it.
    budget = args.minutes * 60

    def set_lr(progress):
        scale = progress / 0.03 if progress < 0.03 else 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
        for g in opt.param_groups:
            g["lr"] = args.lr * max(scale, 0.01)
    gen = torch.Generator().manual_seed(args.seed)
    start = time.time()
    cpu_start = time.process_time()
    epochs_done = 0
    steps = 0
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        total = 0.0
        for i in range(0, len(xtr), args.batch):
            idx = perm[i:i + args.batch]
            set_lr((time.time() - start) / budget)
            loss = rel_l2(model(xtr[idx]), ytr[idx]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            steps += 1
            if time.time() - start > budget:
                break
        epochs_done = epoch + 1
        elapsed = time.time() - start
        print(f"epoch {epoch} train {total / len(xtr):.4f} time {elapsed:.0f}s", flush=True)
        if elapsed > budget:
            print("time budget reached", flush=True)
            break
    train_time = time.time() - start
    cpu_time = time.process_time() - cpu_start

    model.eval()
    tensors = export_tensors(model)
    folded = model_from_tensors(cfg, tensors, torch.float32)
    train_err = evaluate(folded, xtr, ytr)
    test_err = evaluate(folded, xte, yte)
    print(f"final train rel L2 {train_err:.5f} test rel L2 {test_err:.5f} ({len(xte)} test samples), "
          f"{epochs_done} epochs ({steps} steps of batch {args.batch}), {train_time:.0f}s wall, {cpu_time:.0f}s cpu", flush=True)

    os.makedirs(args.out, exist_ok=True)
    meta = {"seed": args.seed, "epochs": epochs_done, "steps": steps, "train_seconds": f"{train_time:.0f}", "train_cpu_seconds": f"{cpu_time:.0f}",
            "train_rel_l2": f"{train_err:.5f}", "test_rel_l2": f"{test_err:.5f}", "data": args.data}
    safetensors_io.save(os.path.join(args.out, "model.safetensors"), tensors, meta)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    x4 = xte[:4].clone()
    with torch.no_grad():
        y64 = model_from_tensors(cfg, tensors, torch.float64)(x4.double()).numpy()
        y32 = folded(x4).numpy()
    safetensors_io.save(os.path.join(args.out, "reference.safetensors"),
                        {"x": x4.numpy(), "y_f64": y64, "y_f32": y32})
    print("f32 vs f64 rel L2:", float(np.linalg.norm(y32 - y64) / np.linalg.norm(y64)))


if __name__ == "__main__":
    main()
