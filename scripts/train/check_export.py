"""Re-derives reference logits from an exported model with a numpy-only float64 LLaMA forward.

Independent of train_llm.py's PyTorch module, so it catches tensor-name, layout and rotary-convention
mistakes in model.safetensors / config.json that a C++ loader would otherwise hit first."""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import safetensors_io  # noqa: E402


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def forward(w, cfg, tokens):
    h, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = h // nh
    t = len(tokens)
    inv = 1.0 / cfg["rope_theta"] ** (np.arange(0, d, 2) / d)
    ang = np.outer(np.arange(t), inv)
    cos, sin = np.cos(ang), np.sin(ang)  # [t, d/2]; pair (i, i + d/2) shares angle i

    def rope(x):  # x [heads, t, d]
        a, b = x[..., :d // 2], x[..., d // 2:]
        return np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=-1)

    x = w["model.embed_tokens.weight"][tokens]
    causal = np.triu(np.full((t, t), -np.inf), 1)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        y = rms_norm(x, w[p + "input_layernorm.weight"], cfg["rms_norm_eps"])
        q = rope((y @ w[p + "self_attn.q_proj.weight"].T).reshape(t, nh, d).transpose(1, 0, 2))
        k = rope((y @ w[p + "self_attn.k_proj.weight"].T).reshape(t, nkv, d).transpose(1, 0, 2))
        v = (y @ w[p + "self_attn.v_proj.weight"].T).reshape(t, nkv, d).transpose(1, 0, 2)
        out = np.empty((nh, t, d))
        for hh in range(nh):
            kv = hh // (nh // nkv)
            s = q[hh] @ k[kv].T / np.sqrt(d) + causal
            s = np.exp(s - s.max(-1, keepdims=True))
            out[hh] = (s / s.sum(-1, keepdims=True)) @ v[kv]
        x = x + out.transpose(1, 0, 2).reshape(t, nh * d) @ w[p + "self_attn.o_proj.weight"].T
        y = rms_norm(x, w[p + "post_attention_layernorm.weight"], cfg["rms_norm_eps"])
        g = y @ w[p + "mlp.gate_proj.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * (y @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
    return rms_norm(x, w["model.norm.weight"], cfg["rms_norm_eps"]) @ w["lm_head.weight"].T


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dir", help="exported model directory, e.g. zoo/llama-kjv")
    args = ap.parse_args()
    with open(os.path.join(args.dir, "config.json")) as f:
        cfg = json.load(f)
    w, _ = safetensors_io.load(os.path.join(args.dir, "model.safetensors"))
    w = {k: v.astype(np.float64) for k, v in w.items()}
    ref, _ = safetensors_io.load(os.path.join(args.dir, "reference.safetensors"))
    tok = bpe.Tokenizer.load(os.path.join(args.dir, "tokenizer.json"))
    with open(os.path.join(args.dir, "heldout.txt"), encoding="utf-8") as f:
        assert tok.encode(f.read())[:64] == ref["tokens"].tolist(), "reference tokens != encode(heldout.txt)[:64]"
    with open(os.path.join(args.dir, "tokenizer_cases.json"), encoding="utf-8") as f:
        for c in json.load(f)["cases"]:
            assert tok.encode(c["text"]) == c["ids"], f"tokenizer case {c['text']!r}"
    logits = forward(w, cfg, ref["tokens"].astype(np.int64))
    d64 = np.abs(logits - ref["logits_f64"]).max()
    d32 = np.abs(logits - ref["logits"].astype(np.float64)).max()
    print(f"numpy f64 forward vs logits_f64: max abs diff {d64:.3e}; vs f32 logits: {d32:.3e}")
    assert d64 < 1e-9 and d32 < 1e-3


if __name__ == "__main__":
    main()
