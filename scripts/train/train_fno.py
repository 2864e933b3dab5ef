#!/usr/bin/python3
"""Trains mixpe's zoo FNO / IFNO models and writes zoo/<model>/ (config.json, model.safetensors,
reference.safetensors, README.md).

  /usr/bin/python3 scripts/train/train_fno.py --model fno-darcy --data /work/data/darcy64.safetensors

Offline only (PyTorch, CPU, one thread). Relative-L2 loss on de-normalized outputs, Adam, cosine LR.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import operators_torch as ot  # noqa: E402
import safetensors_io  # noqa: E402

PRESETS = {
    "fno-darcy": dict(model_type="fno", dims=2, grid=[64, 64], in_channels=1, out_channels=1, width=32, layers=4,
                      modes=[8, 8], projection_width=128, epochs=60, batch=10, lr=2e-3, weight_decay=1e-4,
                      data="/work/data/darcy64.safetensors",
                      task="Darcy flow -div(a grad u) = 1 on the unit square (u = 0 on the boundary): coefficient a -> solution u"),
    "fno1d-burgers": dict(model_type="fno", dims=1, grid=[128], in_channels=1, out_channels=1, width=64, layers=4,
                          modes=[16], projection_width=128, epochs=200, batch=20, lr=1e-3, weight_decay=1e-4,
                          data="/work/data/burgers128.safetensors",
                          task="viscous Burgers equation on the periodic unit interval: u(x, 0) -> u(x, T)"),
    "ifno1d-burgers": dict(model_type="ifno", dims=1, grid=[128], in_channels=1, out_channels=1, width=64, layers=4,
                           modes=[16], projection_width=128, epochs=200, batch=20, lr=1e-3, weight_decay=1e-4,
                           data="/work/data/burgers128.safetensors",
                           task="viscous Burgers equation on the periodic unit interval: u(x, 0) -> u(x, T)"),
}
# The zoo runs on a shared 2-core machine: torch with one thread, LD_LIBRARY_PATH pointing at
# OpenBLAS (Debian's default libblas may be the slow reference BLAS).
CONFIG_KEYS = ["model_type", "dims", "grid", "in_channels", "out_channels", "width", "layers", "modes", "projection_width"]


def channels_last(a, grid):
    a = np.asarray(a, dtype=np.float32)
    if list(a.shape[1:]) == list(grid):
        a = a[..., None]
    return a


def evaluate(model, x, y, batch=50):
    model.eval()
    errs = []
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            errs.append(ot.relative_l2(model(x[i:i + batch]), y[i:i + batch]))
    model.train()
    return torch.cat(errs).mean().item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, choices=sorted(PRESETS))
    ap.add_argument("--data", help="safetensors with train.x, train.y, test.x, test.y (default: the preset's)")
    ap.add_argument("--out", help="output directory (default: <repo>/zoo/<model>)")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=0,
                    help="time budget: after the first epoch, cut the epoch count to fit (the cosine schedule follows)")
    ap.add_argument("--ntrain", type=int, default=0, help="use the first N training samples (0: all)")
    ap.add_argument("--data-command", default="(see /work/data/README.txt)", help="how the data file was generated (for the README)")
    args = ap.parse_args()

    p = dict(PRESETS[args.model])
    epochs = args.epochs or p["epochs"]
    data_path = args.data or p["data"]
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = args.out or os.path.join(repo, "zoo", args.model)
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    data, _ = safetensors_io.load(data_path)
    grid = p["grid"]
    xtr, ytr = channels_last(data["train.x"], grid), channels_last(data["train.y"], grid)
    xte, yte = channels_last(data["test.x"], grid), channels_last(data["test.y"], grid)
    if args.ntrain:
        xtr, ytr = xtr[:args.ntrain], ytr[:args.ntrain]
    config = {k: p[k] for k in CONFIG_KEYS}
    config["name"] = args.model
    config["description"] = p["task"]
    assert list(xtr.shape[1:]) == grid + [p["in_channels"]], xtr.shape
    assert list(ytr.shape[1:]) == grid + [p["out_channels"]], ytr.shape

    model = ot.from_config(config)
    # UnitGaussianNormalizer: per-point mean and std over the training set (eps as in the reference).
    eps = 1e-5
    with torch.no_grad():
        model.input_mean.copy_(torch.from_numpy(xtr.mean(0)))
        model.input_std.copy_(torch.from_numpy(xtr.std(0) + eps))
        model.output_mean.copy_(torch.from_numpy(ytr.mean(0)))
        model.output_std.copy_(torch.from_numpy(ytr.std(0) + eps))
    xtr_t, ytr_t = torch.from_numpy(xtr), torch.from_numpy(ytr)
    xte_t, yte_t = torch.from_numpy(xte), torch.from_numpy(yte)
    opt = torch.optim.Adam(model.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])
    steps_per_epoch = math.ceil(xtr.shape[0] / p["batch"])
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    step, ep = 0, 0
    while ep < epochs:
        perm = torch.randperm(xtr.shape[0], generator=gen)
        total = 0.0
        for i in range(0, xtr.shape[0], p["batch"]):
            idx = perm[i:i + p["batch"]]
            loss = ot.relative_l2(model(xtr_t[idx]), ytr_t[idx]).mean()
            opt.zero_grad()
            loss.backward()
            for g in opt.param_groups:  # cosine decay to 0 over all steps
                g["lr"] = p["lr"] * 0.5 * (1 + math.cos(math.pi * step / (epochs * steps_per_epoch)))
            opt.step()
            step += 1
            total += loss.item() * idx.numel()
        if ep % 10 == 0 or ep == epochs - 1:
            print(f"epoch {ep} train {total / xtr.shape[0]:.5f} test {evaluate(model, xte_t, yte_t):.5f} "
                  f"time {time.time() - t0:.0f}s", flush=True)
        if ep == 0 and args.minutes:
            epochs = max(1, min(epochs, int(args.minutes * 60 / (time.time() - t0))))
            print(f"{epochs} epochs fit in {args.minutes} minutes", flush=True)
        ep += 1
    train_time = time.time() - t0
    train_err = evaluate(model, xtr_t, ytr_t)
    test_err = evaluate(model, xte_t, yte_t)
    print(f"final train rel L2 {train_err:.5f} test rel L2 {test_err:.5f} time {train_time:.0f}s")

    with open(os.path.join(out, "config.json.tmp"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    os.replace(os.path.join(out, "config.json.tmp"), os.path.join(out, "config.json"))
    tensors = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    meta = {"format": "mixpe-fno", "seed": args.seed, "epochs": epochs, "train_rel_l2": f"{train_err:.6f}",
            "test_rel_l2": f"{test_err:.6f}"}
    safetensors_io.save(os.path.join(out, "model.safetensors"), tensors, meta)

    # Reference outputs on 4 test inputs: the float32 model and the same weights in float64.
    xr = xte_t[:4]
    model.eval()
    with torch.no_grad():
        y32 = model(xr).numpy()
        y64 = model.double()(xr.double()).numpy()
    safetensors_io.save(os.path.join(out, "reference.safetensors"),
                        {"x": xr.numpy(), "y_f64": y64, "y_f32": y32}, {"model": args.model})

    size = os.path.getsize(os.path.join(out, "model.safetensors"))
    cmd = f"OPENBLAS_NUM_THREADS=1 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 scripts/train/train_fno.py --model {args.model} --data {data_path} --seed {args.seed}" + \
          (f" --epochs {args.epochs}" if args.epochs else "") + (f" --minutes {args.minutes:g}" if args.minutes else "") + (f" --ntrain {args.ntrain}" if args.ntrain else "")
    write_readme(out, args, config, p, data_path, epochs, xtr.shape[0], xte.shape[0], train_time, train_err, test_err,
                 size, cmd)


def write_readme(out, args, c, p, data_path, epochs, ntrain, ntest, train_time, train_err, test_err, size, cmd):
    kind = "IFNO (one shared Fourier layer iterated {} times)".format(c["layers"]) if c["model_type"] == "ifno" else \
        "FNO ({} Fourier layers)".format(c["layers"])
    text = f"""# {args.model}

{c['dims']}-D {kind} for {p['task']}, grid {'x'.join(map(str, c['grid']))},
width {c['width']}, modes {c['modes']}, projection width {c['projection_width']}. Trained with PyTorch
{torch.__version__} on CPU (one thread); mixpe loads it with `load_operator("{args.model}")`
(models/operators/fno.cpp).

## Training

- command (from the repository root): `{cmd}`
- data: `{data_path}` ({ntrain} training and {ntest} test samples), generated by {args.data_command}
- seed {args.seed}; {epochs} epochs, batch {p['batch']}; Adam lr {p['lr']}, weight decay {p['weight_decay']},
  cosine LR decay to 0 over all steps; loss: relative L2 error per sample on de-normalized outputs
- training time: {train_time:.0f} s
- final relative L2 error (mean over samples): train {train_err:.4f}, test {test_err:.4f}

## Files

- `config.json`: the architecture (keys as models/operators/fno.h FnoConfig)
- `model.safetensors` ({size} bytes, all float32):
  - `input_mean`, `input_std` [{', '.join(map(str, c['grid']))}, {c['in_channels']}], `output_mean`, `output_std`
    [{', '.join(map(str, c['grid']))}, {c['out_channels']}]: per-point normalization from the training set
    (std includes eps = 1e-5); the model computes x_n = (x - input_mean) / input_std and
    y = y_n * output_std + output_mean
  - `lift.weight` [width, in_channels + dims], `lift.bias` [width]: applied to the normalized input
    with grid coordinates i / (R - 1) per axis appended (x first)
  - `layers.<l>.spectral.weight_re`, `layers.<l>.spectral.weight_im` [width_in, width_out, K_1, ..., K_D]:
    complex channel mixing per retained mode; along axes d < D-1, K_d = 2 m_d (modes 0..m-1 then
    R-m..R-1), along the last axis K_D = m_D (rFFT modes 0..m-1)
  - `layers.<l>.pointwise.weight` [width, width], `layers.<l>.pointwise.bias` [width]: the 1x1 path
  - `proj1.weight` [{c['projection_width']}, width], `proj1.bias`, `proj2.weight` [out_channels, {c['projection_width']}], `proj2.bias`
  - {'IFNO: only layers.0 exists; it is applied at every iteration.' if c['model_type'] == 'ifno' else f"l = 0..{c['layers'] - 1}"}
- `reference.safetensors`: `x` [4, ...] (the first 4 test inputs), `y_f64` (PyTorch float64 forward of
  the same weights), `y_f32` (PyTorch float32 forward); tests/models/test_fno.cpp checks mixpe's float
  forward against `y_f64`.
"""
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
