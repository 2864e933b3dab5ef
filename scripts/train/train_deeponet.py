"""Trains DeepONet (Lu et al.) on 1-D Burgers u0 -> u(., t=1) and writes a mixpe model directory.

The PyTorch module mirrors models/operators/deeponet.h exactly (same tensor names, the scalar
input/output normalization stored as the input_norm / output_norm tensors).
Usage: /usr/bin/python3 scripts/train/train_deeponet.py --data /work/data/burgers128.safetensors --out zoo/deeponet-burgers
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


class DeepONet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        r, p = cfg["resolution"], cfg["latent"]
        bw, tw = cfg["branch_width"], cfg["trunk_width"]
        nb, nt = cfg["branch_layers"], cfg["trunk_layers"]
        feats = 2 if cfg.get("trunk_features", "periodic") == "periodic" else 1
        self.branch = nn.ModuleList([nn.Linear(r if i == 0 else bw, p if i + 1 == nb else bw) for i in range(nb)])
        self.trunk = nn.ModuleList([nn.Linear(feats if i == 0 else tw, p if i + 1 == nt else tw) for i in range(nt)])
        self.b0 = nn.Parameter(torch.zeros(1))
        self.act = nn.GELU() if cfg.get("activation", "gelu") == "gelu" else nn.Tanh()
        self.multionet = cfg.get("multionet", False)
        self.register_buffer("input_norm", torch.tensor([0.0, 1.0]))
        self.register_buffer("output_norm", torch.tensor([0.0, 1.0]))
        # Query grid and features in float64, then cast, exactly as the C++ model computes them.
        i = np.arange(r, dtype=np.float64)
        x = i / r if cfg.get("query_grid", "periodic") == "periodic" else i / (r - 1)
        f = np.stack([np.sin(2 * math.pi * x), np.cos(2 * math.pi * x)], 1) if feats == 2 else x[:, None]
        self.register_buffer("features", torch.from_numpy(f.astype(np.float32)))

    def forward(self, u0):  # u0: [B, R, 1]
        t = self.features.to(u0.dtype)
        touts = []
        for layer in self.trunk:
            t = self.act(layer(t))
            touts.append(t)
        b = (u0[..., 0] - self.input_norm[0]) / self.input_norm[1]
        bouts = []
        for i, layer in enumerate(self.branch):
            b = layer(b)
            if i + 1 < len(self.branch):
                b = self.act(b)
            bouts.append(b)
        if self.multionet:
            s = sum(bb @ tt.T for bb, tt in zip(bouts, touts)) / len(touts)
        else:
            s = bouts[-1] @ touts[-1].T
        return ((s + self.b0) * self.output_norm[1] + self.output_norm[0])[..., None]


def export_tensors(model):
    sd = model.state_dict()
    out = {"input_norm": sd["input_norm"]}
    for name in ("branch", "trunk"):
        for i in range(len(getattr(model, name))):
            out[f"{name}.{i}.weight"] = sd[f"{name}.{i}.weight"]
            out[f"{name}.{i}.bias"] = sd[f"{name}.{i}.bias"]
    out["b0"] = sd["b0"]
    out["output_norm"] = sd["output_norm"]
    return {k: v.detach().float().numpy().copy() for k, v in out.items()}


def model_from_tensors(cfg, tensors, dtype):
    m = DeepONet(cfg)
    sd = m.state_dict()
    for k, v in tensors.items():
        sd[k] = torch.from_numpy(v)
    m.load_state_dict(sd)
    return m.to(dtype).eval()


def rel_l2(pred, y):
    return (pred - y).reshape(len(y), -1).norm(dim=1) / y.reshape(len(y), -1).norm(dim=1)


def evaluate(model, x, y):
    with torch.no_grad():
        return rel_l2(model(x), y).mean().item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/data/burgers128.safetensors")
    ap.add_argument("--out", default="zoo/deeponet-burgers")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=1000)
    ap.add_argument("--minutes", type=float, default=7.5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--activation", default="gelu")
    ap.add_argument("--multionet", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    data, _ = safetensors_io.load(args.data)
    xtr, ytr = torch.from_numpy(data["train.x"]), torch.from_numpy(data["train.y"])
    xte, yte = torch.from_numpy(data["test.x"]), torch.from_numpy(data["test.y"])
    r = xtr.shape[1]
    cfg = {"model_type": "deeponet", "name": os.path.basename(os.path.normpath(args.out)),
           "description": "DeepONet for 1-D viscous Burgers u0 -> u(., t=1), periodic on [0, 1)",
           "resolution": r, "latent": 128, "branch_width": 128, "branch_layers": 4, "trunk_width": 128,
           "trunk_layers": 4, "activation": args.activation, "trunk_features": "periodic",
           "query_grid": "periodic", "multionet": args.multionet}
    model = DeepONet(cfg)
    model.input_norm.copy_(torch.tensor([xtr.mean().item(), xtr.std().item()]))
    model.output_norm.copy_(torch.tensor([ytr.mean().item(), ytr.std().item()]))
    print(f"train {tuple(xtr.shape)} test {tuple(xte.shape)} params {sum(p.numel() for p in model.parameters())}", flush=True)

    steps_per_epoch = (len(xtr) + args.batch - 1) // args.batch
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
        if epoch % 25 == 0 or epoch + 1 == args.epochs:
            print(f"epoch {epoch} train {total / len(xtr):.4f} test {evaluate(model.eval(), xte, yte):.4f} time {elapsed:.0f}s", flush=True)
        if elapsed > budget:
            print(f"time budget reached after epoch {epoch}", flush=True)
            break
    train_time = time.time() - start
    cpu_time = time.process_time() - cpu_start

    model.eval()
    tensors = export_tensors(model)
    m32 = model_from_tensors(cfg, tensors, torch.float32)
    train_err, test_err = evaluate(m32, xtr, ytr), evaluate(m32, xte, yte)
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
        y32 = m32(x4).numpy()
    safetensors_io.save(os.path.join(args.out, "reference.safetensors"), {"x": x4.numpy(), "y_f64": y64, "y_f32": y32})
    print("f32 vs f64 rel L2:", float(np.linalg.norm(y32 - y64) / np.linalg.norm(y64)))


if __name__ == "__main__":
    main()
