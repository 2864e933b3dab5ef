"""Trains a small LLaMA-architecture LM on the KJV Bible and exports it in Hugging Face layout (one command)."""
import argparse
import csv
import json
import math
import os
import platform
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import make_corpus  # noqa: E402
import safetensors_io  # noqa: E402


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    # HF LLaMA pairs dimension i with i + d/2 (not interleaved (2i, 2i+1) like the Meta checkpoints).
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_heads, self.n_kv, self.head_dim = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
        h = cfg["hidden_size"]
        self.q_proj = nn.Linear(h, self.n_heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(h, self.n_kv * self.head_dim, bias=False)
        self.v_proj = nn.Linear(h, self.n_kv * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.n_heads * self.head_dim, h, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # GQA: query head h reads kv head h // (n_heads / n_kv), as HF's repeat_kv.
        rep = self.n_heads // self.n_kv
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.head_dim) + mask
        y = F.softmax(att, dim=-1) @ v
        return self.o_proj(y.transpose(1, 2).reshape(b, t, -1))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h, m = cfg["hidden_size"], cfg["intermediate_size"]
        self.gate_proj = nn.Linear(h, m, bias=False)
        self.up_proj = nn.Linear(h, m, bias=False)
        self.down_proj = nn.Linear(m, h, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.input_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.post_attention_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg["num_hidden_layers"]))
        self.norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])


class LlamaForCausalLM(nn.Module):
    """Module names mirror HF's so state_dict() keys are the exported tensor names."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = LlamaModel(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        d = cfg["head_dim"]
        inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, idx):
        t = idx.shape[1]
        dtype = self.lm_head.weight.dtype
        # Angles in float64, then cast: keeps the f32 and f64 reference forwards on the same rotation.
        freqs = torch.outer(torch.arange(t, dtype=torch.float64), self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(dtype), emb.sin().to(dtype)
        mask = torch.full((t, t), float("-inf"), dtype=dtype).triu(1)
        x = self.model.embed_tokens(idx)
        for layer in self.model.layers:
            x = layer(x, cos, sin, mask)
        return self.lm_head(self.model.norm(x))


def make_config(args):
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": args.hidden,
        "intermediate_size": args.intermediate,
        "num_hidden_layers": args.layers,
        "num_attention_heads": args.heads,
        "num_key_value_heads": args.kv_heads,
        "head_dim": args.hidden // args.heads,
        "max_position_embeddings": args.context,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "vocab_size": args.vocab,
        "hidden_act": "silu",
        "bos_token_id": bpe.BOS_ID,
        "eos_token_id": bpe.EOS_ID,
        "tie_word_embeddings": False,
        "attention_bias": False,
        "mlp_bias": False,
        "torch_dtype": "float32",
    }


def token_stream(tok, chapters):
    """Each chapter becomes <s> text </s>, so the special tokens get trained embeddings."""
    ids = []
    for c in chapters:
        ids.append(bpe.BOS_ID)
        ids.extend(tok.encode(c))
        ids.append(bpe.EOS_ID)
    return torch.tensor(ids, dtype=torch.long)


@torch.no_grad()
def evaluate(model, stream, context, batch, max_windows=0):
    """Mean token NLL: windows of context+1 tokens overlapping by one, so every token after the first
    is predicted exactly once with up to `context` tokens of history."""
    model.eval()
    starts = list(range(0, len(stream) - 1, context))
    if max_windows:
        starts = starts[:max_windows]
    total, count = 0.0, 0
    for i in range(0, len(starts), batch):
        chunk = [stream[s:s + context + 1] for s in starts[i:i + batch]]
        # The stream's last window is usually shorter; it runs as its own batch of one.
        full = [c for c in chunk if len(c) == context + 1]
        short = [c for c in chunk if len(c) != context + 1]
        groups = ([torch.stack(full)] if full else []) + [c.unsqueeze(0) for c in short]
        for g in groups:
            logits = model(g[:, :-1])
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), g[:, 1:].reshape(-1),
                                     reduction="sum").item()
            count += g[:, 1:].numel()
    model.train()
    return total / count


def lr_at(step, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    p = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))


def save_checkpoint(path, model, opt, step, rng_state, best):
    tmp = path + ".tmp"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "rng": rng_state,
                "best": best}, tmp)
    os.replace(tmp, path)


def export(model, cfg, tok, out, heldout_text):
    """config.json, model.safetensors (HF names, HF layout, f32) and reference.safetensors."""
    with open(os.path.join(out, "config.json") + ".tmp", "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    os.replace(os.path.join(out, "config.json") + ".tmp", os.path.join(out, "config.json"))
    tensors = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    safetensors_io.save(os.path.join(out, "model.safetensors"), tensors, {"format": "pt"})

    model.eval()
    tokens = torch.tensor(tok.encode(heldout_text)[:64], dtype=torch.long)
    with torch.no_grad():
        logits = model(tokens.unsqueeze(0))[0].float().numpy()
        m64 = LlamaForCausalLM(cfg)
        m64.load_state_dict(model.state_dict())
        m64 = m64.double()
        logits64 = m64(tokens.unsqueeze(0))[0].numpy()
    safetensors_io.save(os.path.join(out, "reference.safetensors"),
                        {"tokens": tokens.numpy().astype(np.int32), "logits": logits.astype(np.float32),
                         "logits_f64": logits64.astype(np.float64)},
                        {"source": "first 64 tokens of heldout.txt (no <s>), scripts/train/train_llm.py"})
    return float(np.abs(logits.astype(np.float64) - logits64).max())


# Debian's python3-torch calls whatever libblas.so.3 the alternatives system selects; the default
# reference BLAS runs at ~1 GFLOPS here, OpenBLAS (package libopenblas0-pthread) ~6x faster. We
# load it for this process only instead of switching the system-wide alternative.
_OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-pthread"


def _reexec_with_openblas(threads):
    if os.environ.get("MIXPE_TRAIN_BLAS") or not os.path.exists(os.path.join(_OPENBLAS_DIR, "libblas.so.3")):
        return
    env = dict(os.environ, MIXPE_TRAIN_BLAS=_OPENBLAS_DIR, OPENBLAS_NUM_THREADS=str(threads),
               LD_LIBRARY_PATH=_OPENBLAS_DIR + (":" + os.environ["LD_LIBRARY_PATH"] if os.environ.get("LD_LIBRARY_PATH") else ""))
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True, help="artifact directory, e.g. zoo/llama-kjv")
    ap.add_argument("--work", default="/tmp/llama-kjv-work", help="checkpoints (not committed)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--vocab", type=int, default=1024)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--intermediate", type=int, default=768)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--context", type=int, default=256)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--eval-windows", type=int, default=32,
                    help="windows of the validation split used for the periodic val loss (0 = all); the final "
                         "numbers always use the whole split")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-minutes", type=float, default=0,
                    help="stop training after this wall time (0 = no limit); the best checkpoint is exported")
    ap.add_argument("--stop-step", type=int, default=0,
                    help="stop after this many steps while keeping the --steps lr schedule (reproduces a "
                         "run that hit --max-minutes)")
    ap.add_argument("--time-steps", type=int, default=0, help="only time this many steps and exit")
    ap.add_argument("--resume", action="store_true", help="continue from WORK/last.pt")
    args = ap.parse_args()
    _reexec_with_openblas(args.threads)

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.work, exist_ok=True)

    t0 = time.time()
    train_docs, val_docs, test_docs = make_corpus.make_corpus(args.out)
    tok = bpe.Tokenizer(bpe.train_bpe(train_docs, args.vocab))
    tok.save(os.path.join(args.out, "tokenizer.json"))
    bpe.write_cases(tok, os.path.join(args.out, "tokenizer_cases.json"))
    # Test chapters are re-read from heldout.txt so the reported number is reproducible from the file.
    with open(os.path.join(args.out, "heldout.txt"), encoding="utf-8") as f:
        heldout_text = f.read()
    assert make_corpus.split_docs(heldout_text) == test_docs
    train_ids, val_ids, test_ids = (token_stream(tok, d) for d in (train_docs, val_docs, test_docs))
    print(f"data: train {len(train_ids)} tokens, val {len(val_ids)}, test {len(test_ids)} "
          f"({time.time() - t0:.1f}s)", flush=True)

    cfg = make_config(args)
    model = LlamaForCausalLM(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params} parameters ({n_params * 4 / 2**20:.2f} MiB f32)", flush=True)
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    gen = torch.Generator().manual_seed(args.seed)
    last_path, best_path = os.path.join(args.work, "last.pt"), os.path.join(args.work, "best.pt")
    start, best = 0, float("inf")
    log_rows = []
    loss_csv = os.path.join(args.out, "loss.csv")
    if args.resume and os.path.exists(last_path):
        ck = torch.load(last_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["rng"])
        start, best = ck["step"], ck["best"]
        if os.path.exists(loss_csv):
            with open(loss_csv) as f:
                log_rows = [r for r in csv.DictReader(f) if int(r["step"]) <= start]
        print(f"resumed at step {start}", flush=True)

    n_train = len(train_ids) - args.context - 1
    t_train, window_loss, window_n, stopped_early = time.time(), 0.0, 0, False
    step = start
    for step in range(start, args.steps):
        if args.stop_step and step >= args.stop_step:
            stopped_early = True
            break
        if args.max_minutes and (time.time() - t_train) / 60 > args.max_minutes:
            stopped_early = True
            print(f"time limit reached at step {step}", flush=True)
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args)
        # Random windows (seeded) rather than a fixed tiling, so each epoch sees different boundaries.
        starts = torch.randint(0, n_train, (args.batch,), generator=gen)
        batch = torch.stack([train_ids[s:s + args.context + 1] for s in starts.tolist()])
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        window_loss += loss.item()
        window_n += 1
        if args.time_steps and step + 1 - start >= args.time_steps:
            dt = (time.time() - t_train) / args.time_steps
            print(f"timing: {dt:.2f} s/step at batch {args.batch} x {args.context}, loss {loss.item():.3f}")
            return
        done = step + 1
        if done % args.eval_every == 0 or done == args.steps:
            val = evaluate(model, val_ids, args.context, args.batch, args.eval_windows)
            elapsed = time.time() - t_train
            log_rows.append({"step": done, "train_loss": f"{window_loss / window_n:.4f}", "val_loss": f"{val:.4f}",
                             "lr": f"{lr_at(step, args):.6f}", "seconds": f"{elapsed:.0f}"})
            window_loss, window_n = 0.0, 0
            with open(loss_csv + ".tmp", "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(log_rows[0]))
                w.writeheader()
                w.writerows(log_rows)
            os.replace(loss_csv + ".tmp", loss_csv)
            if val < best:
                best = val
                torch.save(model.state_dict(), best_path + ".tmp")
                os.replace(best_path + ".tmp", best_path)
            save_checkpoint(last_path, model, opt, done, gen.get_state(), best)
            print(f"step {done} train {log_rows[-1]['train_loss']} val {val:.4f} ppl {math.exp(val):.2f} "
                  f"lr {lr_at(step, args):.2e} {elapsed:.0f}s", flush=True)
    train_seconds = time.time() - t_train

    model.load_state_dict(torch.load(best_path))
    val_loss = evaluate(model, val_ids, args.context, args.batch)
    test_loss = evaluate(model, token_stream(tok, make_corpus.split_docs(heldout_text)), args.context, args.batch)
    max_diff = export(model, cfg, tok, args.out, heldout_text)
    summary = {
        "command": " ".join([sys.executable] + sys.argv),
        "seed": args.seed, "steps_done": int(log_rows[-1]["step"]) if log_rows else step,
        "steps_planned": args.steps, "stopped_early": stopped_early,
        "tokens_per_step": args.batch * args.context,
        "epochs": round(int(log_rows[-1]["step"]) * args.batch * args.context / len(train_ids), 3) if log_rows else 0,
        "train_seconds_this_invocation": round(train_seconds), "parameters": n_params,
        "train_tokens": len(train_ids), "val_tokens": len(val_ids), "test_tokens": len(test_ids),
        "final_train_loss": float(log_rows[-1]["train_loss"]) if log_rows else None,
        "val_loss": round(val_loss, 4), "val_ppl": round(math.exp(val_loss), 3),
        "test_loss": round(test_loss, 4), "test_ppl": round(math.exp(test_loss), 3),
        "reference_f32_vs_f64_max_abs_diff": max_diff,
        "blas": os.environ.get("MIXPE_TRAIN_BLAS", "system libblas.so.3"),
        "machine": f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cpus, torch {torch.__version__},"
                   f" {args.threads} threads",
    }
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
