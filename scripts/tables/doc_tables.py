#!/usr/bin/env python3
"""Generates the tables the docs quote (quality, cost, decode, the paper comparison) from runs of
the mixpe CLI.

  doc_tables.py run llm         # perplexity grid of zoo/llama-kjv   -> docs/data/llm_quality.json
  doc_tables.py run operators   # rel. L2 grid and sensitivity of the zoo's neural operators
                                    #                                  -> docs/data/operator_quality.json
  doc_tables.py run operator-baselines  # only the BitFusion and ANT columns of that grid (the rest kept)
  doc_tables.py run cost        # analytic cost of every operator on the paper's designs
                                    #                                  -> docs/data/operator_cost.json
  doc_tables.py run decode      # OPT-6.7B decode: designs x DRAM presets x batch, cycle executor
                                    #                                  -> docs/data/decode.json
  doc_tables.py run paper       # the paper's workloads on its designs (mixpe compare, cycle executor)
                                    #                                  -> docs/data/paper.json
  doc_tables.py run area        # areas of the paper's designs, iso-area comparisons and the search for
                                    # the best MixPE at the MixPE-W4A8 64x64 area (analytic executor)
                                    #                                  -> docs/data/area.json
  doc_tables.py render          # rewrite the tables in docs/*.md from docs/data/*.json
  doc_tables.py check           # exit 1 if a doc's table differs from its rendering (a CI test)

`run` needs a built mixpe (MIXPE_BIN, default build/runtime/mixpe) and, for operators, the
datasets (generated on first use with `mixpe data` into MIXPE_DATA_DIR, default build/data).
Only the standard library is used.
"""
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "docs", "data")
MIXPE = os.environ.get("MIXPE_BIN", os.path.join(ROOT, "build", "runtime", "mixpe"))
DATASET_DIR = os.environ.get("MIXPE_DATA_DIR", os.path.join(ROOT, "build", "data"))

# The held-out text and how much of it the LLM grid scores (the whole grid must run in minutes).
LLM_MODEL = "llama-kjv"
LLM_TEXT = os.path.join(ROOT, "zoo", "llama-kjv", "heldout.txt")
LLM_MAX_TOKENS = 8192
LLM_NSAMPLES = 16  # calibration windows for GPTQ/AWQ
LLM_CTX = 256

# Datasets: the commands that make them (the test split is what eval scores).
DATASETS = {
    "darcy64": ["data", "darcy", "--n", "1000", "--n-test", "200", "--res", "64", "--seed", "1"],
    "burgers128": ["data", "burgers", "--n", "1000", "--n-test", "200", "--res", "128", "--seed", "2"],
}
OPERATORS = [  # (zoo model, dataset)
    ("fno-darcy", "darcy64"),
    ("mgno-darcy", "darcy64"),
    ("fno1d-burgers", "burgers128"),
    ("ifno1d-burgers", "burgers128"),
    ("deeponet-burgers", "burgers128"),
]
PAPER_SCALE = ["fno3d-les", "ifno3d-les", "fno2d-ns"]
OPERATOR_SAMPLES = 50  # test samples per evaluation (the first 50 of the 200 in each test split)
DESIGNS = ["mixpe_w4a8_64x64", "mixpe_w4a16_32x32", "fp16_32x28", "int8_32x32", "ant_32x32", "bitfusion_32x40"]

# Numerics variants of the operator accuracy table: (label, eval arguments).
OPERATOR_VARIANTS = [
    ("float", ["--numerics", "float"]),
    ("W8A8 int8", ["--numerics", "int8"]),
    ("W8A8 g128", ["--numerics", "mixpe-int8", "--wbits", "8", "--group", "128"]),
    ("W4A8 g32", ["--numerics", "mixpe-int8", "--wbits", "4", "--group", "32"]),
    ("W4A8 g64", ["--numerics", "mixpe-int8", "--wbits", "4", "--group", "64"]),
    ("W4A8 g128", ["--numerics", "mixpe-int8", "--wbits", "4", "--group", "128"]),
    ("W4A16 g128", ["--numerics", "mixpe-fp16", "--wbits", "4", "--group", "128"]),
    ("W3A8 g64", ["--numerics", "mixpe-int8", "--wbits", "3", "--group", "64"]),
    ("W2A8 g32", ["--numerics", "mixpe-int8", "--wbits", "2", "--group", "32"]),
]
# The other accelerators' numerics on their own designs (run operator-baselines adds just these).
OPERATOR_BASELINES = [
    ("W4A8 BitFusion", ["--numerics", "bitfusion"]),
    ("W4A8 ANT", ["--numerics", "ant"]),
]
OPERATOR_VARIANTS += OPERATOR_BASELINES
SENSITIVITY_ARGS = ["--numerics", "mixpe-int8", "--wbits", "4", "--group", "64"]

LLM_BITS = [2, 3, 4, 8]
LLM_A16_BITS = [3, 4]  # FP16 activations: the bit widths where weights are not lossless
LLM_GROUPS = [32, 64, 128, -1]
LLM_METHODS = ["rtn", "gptq", "awq"]


def mixpe(args, quiet=True):
    """Runs mixpe with `--json -` and returns the parsed JSON."""
    cmd = [MIXPE] + args + ["--json", "-"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def dataset(name):
    path = os.path.join(DATASET_DIR, name + ".safetensors")
    if not os.path.exists(path):
        os.makedirs(DATASET_DIR, exist_ok=True)
        subprocess.run([MIXPE] + DATASETS[name] + ["-o", path], check=True)
    return path


def save(name, obj):
    os.makedirs(DATA, exist_ok=True)
    tmp = os.path.join(DATA, name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, os.path.join(DATA, name))


def load(name):
    with open(os.path.join(DATA, name)) as f:
        return json.load(f)


def machine():
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    except OSError:
        cpu = "?"
    return {"cpu": cpu, "cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d")}


def run_llm():
    """The perplexity grid; saved after every cell, and cells already in the data file are kept,
    so an interrupted run continues where it stopped (delete the file to start over)."""
    path = os.path.join(DATA, "llm_quality.json")
    done = {r["label"]: r for r in load("llm_quality.json")["rows"]} if os.path.exists(path) else {}
    rows = []
    base = ["eval", "--model", LLM_MODEL, "--text", LLM_TEXT, "--ctx", str(LLM_CTX), "--max-tokens", str(LLM_MAX_TOKENS),
            "--nsamples", str(LLM_NSAMPLES)]

    def cell(label, extra):
        if label in done:
            rows.append(done[label])
            return
        t0 = time.time()
        j = mixpe(base + extra)
        j.pop("token_ids", None), j.pop("nll", None), j.pop("scored_positions", None)
        j["label"], j["args"], j["wall_seconds"] = label, extra, round(time.time() - t0, 2)
        rows.append(j)
        save("llm_quality.json", {"machine": machine(), "text": os.path.relpath(LLM_TEXT, ROOT), "max_tokens": LLM_MAX_TOKENS,
                                  "nsamples": LLM_NSAMPLES, "ctx": LLM_CTX, "rows": rows})
        print(f"  {label:40s} ppl {j['perplexity']:.4f}  ({j['wall_seconds']} s)", file=sys.stderr)

    cell("float", ["--numerics", "float"])
    cell("int8 W8A8", ["--numerics", "int8"])
    for numerics, bits_list in (("mixpe-int8", LLM_BITS), ("mixpe-fp16", LLM_A16_BITS)):
        for method in LLM_METHODS:
            for bits in bits_list:
                for group in LLM_GROUPS:
                    cell(f"{numerics} {method} W{bits} g{group}",
                         ["--numerics", numerics, "--method", method, "--wbits", str(bits), "--group", str(group)])


def run_operators():
    rows, sens = [], []
    for model, data in OPERATORS:
        path = dataset(data)
        for label, extra in OPERATOR_VARIANTS:
            j = mixpe(["eval", "--model", model, "--data", path, "--samples", str(OPERATOR_SAMPLES)] + extra)
            for k in ("rel_l2_vs_truth", "rel_l2_vs_float", "float_rel_l2_vs_truth"):
                j[k].pop("per_sample", None)
            j["label"], j["model_name"], j["dataset"] = label, model, data
            rows.append(j)
            print(f"  {model:18s} {label:12s} truth {j['rel_l2_vs_truth']['mean']:.5f} "
                  f"float {j['rel_l2_vs_float']['mean']:.5f}", file=sys.stderr)
        # Per-layer sensitivity: one operand group quantized alone, the rest FP32.
        groups = sensitivity_groups(model)  # by op name; the DFT matrices: run_dft
        for name, regex in groups:
            j = mixpe(["eval", "--model", model, "--data", path, "--samples", str(OPERATOR_SAMPLES), "--only", regex] + SENSITIVITY_ARGS)
            sens.append({"model_name": model, "group": name, "regex": regex,
                         "rel_l2_vs_float": j["rel_l2_vs_float"]["mean"], "rel_l2_vs_truth": j["rel_l2_vs_truth"]["mean"]})
            print(f"  {model:18s} only {name:14s} vs float {sens[-1]['rel_l2_vs_float']:.5f}", file=sys.stderr)
    save("operator_quality.json", {"machine": machine(), "rows": rows, "sensitivity": sens, "samples": OPERATOR_SAMPLES,
                                   "sensitivity_numerics": " ".join(SENSITIVITY_ARGS), "datasets": DATASETS})


def run_operator_baselines():
    """Replaces the OPERATOR_BASELINES rows of docs/data/operator_quality.json, keeping the rest."""
    d = load("operator_quality.json")
    labels = [lab for lab, _ in OPERATOR_BASELINES]
    d["rows"] = [r for r in d["rows"] if r["label"] not in labels]
    for model, data in OPERATORS:
        for label, extra in OPERATOR_BASELINES:
            j = mixpe(["eval", "--model", model, "--data", dataset(data), "--samples", str(d["samples"])] + extra)
            for k in ("rel_l2_vs_truth", "rel_l2_vs_float", "float_rel_l2_vs_truth"):
                j[k].pop("per_sample", None)
            j["label"], j["model_name"], j["dataset"] = label, model, data
            d["rows"].append(j)
            print(f"  {model:18s} {label:14s} truth {j['rel_l2_vs_truth']['mean']:.5f} "
                  f"float {j['rel_l2_vs_float']['mean']:.5f} ({j['seconds']:.0f} s)", file=sys.stderr)
    order = [lab for lab, _ in OPERATOR_VARIANTS]
    models = [m for m, _ in OPERATORS]
    d["rows"].sort(key=lambda r: (models.index(r["model_name"]), order.index(r["label"])))
    save("operator_quality.json", d)


def run_dft():
    """Adds the DFT matrices as a sensitivity group of the FNO-family models, at 8 bits (the
    default) and at the design's 4 bits (--dft-bits 0)."""
    d = load("operator_quality.json")
    d["sensitivity"] = [s for s in d["sensitivity"] if not s["group"].startswith("DFT")]
    for model, data in OPERATORS:
        if "fno" not in model:
            continue
        for label, extra in (("DFT matrices, 8-bit", []), ("DFT matrices, 4-bit", ["--dft-bits", "0"])):
            j = mixpe(["eval", "--model", model, "--data", dataset(data), "--samples", str(OPERATOR_SAMPLES), "--only", "^i?dft_"]
                      + SENSITIVITY_ARGS + extra)
            d["sensitivity"].append({"model_name": model, "group": label, "regex": "^i?dft_",
                                     "rel_l2_vs_float": j["rel_l2_vs_float"]["mean"], "rel_l2_vs_truth": j["rel_l2_vs_truth"]["mean"]})
            print(f"  {model:18s} {label:20s} vs float {d['sensitivity'][-1]['rel_l2_vs_float']:.5f}", file=sys.stderr)
    d["sensitivity"].sort(key=lambda s: [m for m, _ in OPERATORS].index(s["model_name"]))
    save("operator_quality.json", d)


def sensitivity_groups(model):
    """Operand groups of a model from its simulated op names: every op prefix up to the first dot
    for top-level ops, and per layer for `layers.N.*` (and the DFT matrices as one group)."""
    j = mixpe(["simulate", "--model", model, "--hw", "mixpe_w4a8_64x64", "--executor", "analytic", "-q"])
    names = [op["name"] for op in j["ops"] if op["kind"] == "linear"]
    groups = []
    for n in names:
        parts = n.split(".")
        key = ".".join(parts[:2]) if parts[0] in ("layers", "branch", "trunk") and len(parts) > 1 else parts[0]
        regex = "^" + key.replace(".", r"\.") + r"(\.|$)"
        if key not in [g[0] for g in groups]:
            groups.append((key, regex))
    return groups


# Decode at the memory roofline (docs/decode.md): (label, preset, overrides).
DECODE_DESIGNS = [
    ("MixPE-W4A8 64x64", "mixpe_w4a8_64x64", []),
    ("MixPE-W4A8 64x64, OS only", "mixpe_w4a8_64x64", ["array.dataflow=os"]),
    ("MixPE-W4A8 64x64, 4x weight path", "mixpe_w4a8_64x64",
     ["array.ws_load_bits=64", "buffers.wbuf.banks=32", "buffers.wbuf.size_kib=512"]),
    ("MixPE-W4A16 32x32", "mixpe_w4a16_32x32", []),
    ("INT8 32x32", "int8_32x32", []),
    ("FP16 32x28", "fp16_32x28", []),
]
DECODE_DRAMS = ["ideal_1024b", "lpddr5_6400", "hbm2", "ddr4_3200"]
DECODE_BATCHES = [1, 16]
DECODE_MODEL, DECODE_SEQ = "opt-6.7b", 2048

# The paper's comparison (docs/paper-comparison.md): (model, phase, batch, seq or None).
PAPER_WORKLOADS = [
    ("opt-6.7b", "prefill", 1, 64), ("llama-2-13b", "prefill", 1, 64), ("vit-b16", "prefill", 1, None),
    ("vit-h14", "prefill", 1, None), ("opt-6.7b", "decode", 1, 2048), ("opt-6.7b", "decode", 16, 2048),
    ("llama-2-13b", "decode", 1, 2048), ("llama-2-13b", "decode", 16, 2048),
]
PAPER_DESIGNS = ["fp16_32x28", "int8_32x32", "ant_32x32", "bitfusion_32x40", "mixpe_w4a16_32x32", "mixpe_w4a8_64x64",
                 "mixpe_w4a8_32x32"]
SIX_DESIGNS = PAPER_DESIGNS[:6]  # the paper's six (the last is our iso-PE-count control)


def summarize(j):
    """What the decode and paper tables keep of a mixpe.simulate/1 report."""
    gemm_cycles = sum(op["cycles"] for op in j["ops"] if op["dataflow"] in ("os", "ws"))
    ws_cycles = sum(op["cycles"] for op in j["ops"] if op["dataflow"] == "ws")
    e = j["energy_pj"]
    kind = lambda k: sum(op["cycles"] for op in j["ops"] if op["kind"] in k)
    return {"seconds": j["seconds"], "joules": j["joules"], "tokens": j["tokens"], "utilization": j["utilization"],
            "roofline_seconds": j["roofline"]["seconds"],
            "memory_bound_share": j["roofline"]["memory_bound_cycles"] / max(1, j["roofline"]["cycles"]),
            "ws_share_of_gemm_time": ws_cycles / max(1, gemm_cycles),
            "energy_share": {k: e[k] / e["total"] for k in ("pe", "dequant", "edge", "vector", "sram", "dram", "static")},
            "time_share": {"linear": kind(("linear",)) / j["total_cycles"],
                           "attention": kind(("attn_score", "attn_value")) / j["total_cycles"]}}


def run_decode():
    """Rows already in docs/data/decode.json with the same design, overrides, DRAM and batch are kept
    (delete the file to start over)."""
    path = os.path.join(DATA, "decode.json")
    key = lambda r: (r["design"], tuple(r["overrides"]), r["dram"], r["batch"])
    done = {key(r): r for r in load("decode.json")["rows"]} if os.path.exists(path) else {}
    rows = []
    for label, hw, ov in DECODE_DESIGNS:
        for dram in DECODE_DRAMS:
            for batch in DECODE_BATCHES:
                if (label, tuple(ov), dram, batch) in done:
                    rows.append(done[(label, tuple(ov), dram, batch)])
                    continue
                args = ["simulate", "--model", DECODE_MODEL, "--hw", hw, "--phase", "decode", "--batch", str(batch), "--seq",
                        str(DECODE_SEQ), "--executor", "cycle", "-q", "-p", f"dram.preset={dram}"]
                for o in ov:
                    args += ["-p", o]
                t0 = time.time()
                r = summarize(mixpe(args))
                r.update({"design": label, "hw": hw, "overrides": ov, "dram": dram, "batch": batch})
                rows.append(r)
                print(f"  {label:36s} {dram:12s} b{batch:<3d} {r['seconds'] * 1e3:9.2f} ms  roofline "
                      f"{r['roofline_seconds'] * 1e3:9.2f} ms  ({time.time() - t0:.0f} s)", file=sys.stderr)
    save("decode.json", {"machine": machine(), "executor": "cycle", "model": DECODE_MODEL, "seq": DECODE_SEQ, "rows": rows})


def run_paper():
    rows = []
    for model, phase, batch, seq in PAPER_WORKLOADS:
        args = ["compare", "--model", model, "--phase", phase, "--batch", str(batch), "--executor", "cycle",
                "--hw", ",".join(PAPER_DESIGNS)] + (["--seq", str(seq)] if seq else [])
        t0 = time.time()
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "compare.json")
            subprocess.run([MIXPE] + args + ["--json", out], check=True, capture_output=True, text=True)
            with open(out) as f:
                j = json.load(f)
        for hw, rep in zip(PAPER_DESIGNS, j["reports"]):
            r = summarize(rep)
            r.update({k: v for k, v in j["table"][PAPER_DESIGNS.index(hw)].items() if k.startswith("norm_")})
            r.update({"model_name": model, "phase": phase, "batch": batch, "seq": seq, "hw": hw})
            rows.append(r)
        print(f"  {model:12s} {phase:8s} b{batch:<3d} ({time.time() - t0:.0f} s)", file=sys.stderr)
    save("paper.json", {"machine": machine(), "executor": "cycle", "rows": rows})


# Iso-area: the paper's designs resized to the area of its MixPE-W4A8 64x64, and a search over
# MixPE-W4A8 array shapes, group sizes and buffer sizes within that area (mixpe sweep with
# constraints.max_area_mm2). Workloads: the paper's LLM prefills.
ISO_REFERENCE = "mixpe_w4a8_64x64"
ISO_WORKLOADS = [("opt-6.7b", "prefill", 1, 64), ("llama-2-13b", "prefill", 1, 64)]
SEARCH_VARY = {"array.rows": [32, 48, 64, 80, 96, 112, 128], "array.cols": [32, 48, 64, 80, 96, 112, 128],
               "array.group_size": [64, 128, 256], "buffers.wbuf.size_kib": [64, 128, 256],
               "buffers.ibuf.size_kib": [128, 256], "array.dataflow": ["os", "both"]}


def run_area():
    designs = {hw: mixpe(["hw", "show", hw])["area"] for hw in PAPER_DESIGNS}
    iso = []
    with tempfile.TemporaryDirectory() as tmp:
        for model, phase, batch, seq in ISO_WORKLOADS:
            for target in (None, ISO_REFERENCE):
                out = os.path.join(tmp, "compare.json")
                args = ["compare", "--model", model, "--phase", phase, "--batch", str(batch), "--seq", str(seq), "--executor",
                        "analytic", "--hw", ",".join(SIX_DESIGNS), "--json", out] + (["--iso-area", target] if target else [])
                subprocess.run([MIXPE] + args, check=True, capture_output=True, text=True)
                with open(out) as f:
                    j = json.load(f)
                iso.append({"model_name": model, "phase": phase, "batch": batch, "seq": seq, "iso_area": target,
                            "iso_area_mm2": j["iso_area_mm2"], "baseline": j["baseline"], "table": j["table"]})
        spec = os.path.join(tmp, "search.yaml")
        with open(spec, "w") as f:
            f.write("workloads:\n" + "".join(f"  - {{model: {m}, phase: {p}, batch: {b}, seq: {q}}}\n" for m, p, b, q in ISO_WORKLOADS))
            f.write(f"hw: {ISO_REFERENCE}\nconstraints: {{max_area_mm2: {ISO_REFERENCE}}}\nvary:\n")
            f.write("".join(f"  {k}: [{', '.join(map(str, v))}]\n" for k, v in SEARCH_VARY.items()))
        csv_path = os.path.join(tmp, "search.csv")
        t0 = time.time()
        subprocess.run([MIXPE, "sweep", "-q", spec, "-o", csv_path], check=True)
        seconds = time.time() - t0

        with open(csv_path) as f:
            rows = list(csv.DictReader(f))
    search = []
    for model, phase, batch, seq in ISO_WORKLOADS:
        mine = [r for r in rows if (r["model"], r["phase"], int(r["batch"]), int(r["seq"])) == (model, phase, batch, seq)]
        ok = [r for r in mine if r["status"] == "ok"]
        ref = next(r for r in ok if all(r[k] == v for k, v in (("array.rows", "64"), ("array.cols", "64"), ("array.group_size", "128"),
                                                                ("buffers.wbuf.size_kib", "128"), ("buffers.ibuf.size_kib", "256"),
                                                                ("array.dataflow", "both"))))
        keep = lambda r: {k: r[k] for k in list(SEARCH_VARY) + ["latency_ms", "energy_mj", "area_mm2", "utilization"]}
        best_e = min(ok, key=lambda r: float(r["energy_mj"]))
        best_t = min(ok, key=lambda r: float(r["latency_ms"]))
        search.append({"model_name": model, "phase": phase, "batch": batch, "seq": seq, "points": len(mine), "within_area": len(ok),
                       "reference": keep(ref), "best_perf_per_watt": keep(best_e), "best_latency": keep(best_t)})
    print(f"  area: {len(rows)} search points in {seconds:.1f} s", file=sys.stderr)
    save("area.json", {"machine": machine(), "executor": "analytic", "reference": ISO_REFERENCE, "designs": designs, "iso": iso,
                       "search_vary": SEARCH_VARY, "search_seconds": seconds, "search": search})


def run_cost():
    rows = []
    for model in [m for m, _ in OPERATORS] + PAPER_SCALE:
        for hw in DESIGNS:
            j = mixpe(["simulate", "--model", model, "--hw", hw, "--executor", "analytic", "-q"])
            gemm = sum(op["cycles"] for op in j["ops"] if op["kind"] == "linear")
            rows.append({"model_name": model, "hw": hw, "seconds": j["seconds"], "joules": j["joules"],
                         "utilization": j["utilization"], "gemm_cycle_share": gemm / max(1, j["total_cycles"]),
                         "macs": sum(op.get("macs", 0) for op in j["ops"])})
            print(f"  {model:18s} {hw:20s} {j['seconds'] * 1e3:10.4f} ms", file=sys.stderr)
    # How well each GEMM kind of the 2D FNO fills the 64x64 array, by batch.
    fill = []
    for batch in (1, 16, 64):
        j = mixpe(["simulate", "--model", "fno-darcy", "--hw", "mixpe_w4a8_64x64", "--executor", "analytic", "-q",
                   "--batch", str(batch)])
        kinds = {}
        for op in j["ops"]:
            kind = op["name"].split(".")[-1] if op["kind"] == "linear" else "vector ops"
            k = kinds.setdefault(kind, {"macs": 0, "cycles": 0})
            k["macs"] += op.get("macs", 0)
            k["cycles"] += op["cycles"]
        fill.append({"batch": batch, "total_cycles": j["total_cycles"], "utilization": j["utilization"], "kinds": kinds})
    save("operator_cost.json", {"machine": machine(), "executor": "analytic", "batch": 1, "rows": rows, "fill": fill})


# ----- rendering -----

def fmt_ppl(v):
    return f"{v:.2f}" if v < 1000 else f"{v:.3g}"


def render_llm(d):
    rows = {r["label"]: r for r in d["rows"]}
    fl = rows["float"]["perplexity"]
    out = [f"Held-out text `{d['text']}`, first {d['max_tokens']} tokens, windows of {d['ctx']} tokens. "
           f"Float perplexity **{fl:.3f}**; INT8 W8A8 baseline (`int8`, per-channel W8) "
           f"**{rows['int8 W8A8']['perplexity']:.3f}** ({100 * (rows['int8 W8A8']['perplexity'] / fl - 1):+.2f}%).", ""]
    for numerics, title, bits_list in (("mixpe-int8", "MixPE W·A8 (`mixpe-int8`, INT8 per-token activations)", LLM_BITS),
                                       ("mixpe-fp16", "MixPE W·A16 (`mixpe-fp16`, FP16 activations aligned per group)", LLM_A16_BITS)):
        out += [f"**{title}** — perplexity (change vs float)", "",
                "| method | bits | g32 | g64 | g128 | per-channel |", "|---|---|---|---|---|---|"]
        for method in LLM_METHODS:
            for bits in bits_list:
                cells = []
                for g in LLM_GROUPS:
                    r = rows.get(f"{numerics} {method} W{bits} g{g}")
                    cells.append("—" if r is None else f"{fmt_ppl(r['perplexity'])} ({100 * (r['perplexity'] / fl - 1):+.1f}%)")
                out.append(f"| {method} | W{bits} | " + " | ".join(cells) + " |")
        out.append("")
    times = {}
    for r in d["rows"]:
        m = r.get("method")
        if r["label"] != "float" and m:
            times.setdefault(m, []).append(r["wall_seconds"])
    out.append(f"GPTQ/AWQ calibrate on {d.get('nsamples', LLM_NSAMPLES)} windows of 256 tokens from `calib.txt`. "
               "Wall time per cell (quantization + evaluation), mean over the grid: " +
               ", ".join(f"{m} {sum(v) / len(v):.1f} s" for m, v in sorted(times.items())) + ".")
    return "\n".join(out)


def render_operator_accuracy(d):
    models = []
    for r in d["rows"]:
        if r["model_name"] not in models:
            models.append(r["model_name"])
    labels = [v[0] for v in OPERATOR_VARIANTS]
    by = {(r["model_name"], r["label"]): r for r in d["rows"]}
    out = [f"Mean relative L2 error over the first {d['samples']} test samples against the ground truth (and, in "
           "parentheses, against the float model's prediction); worst sample in the JSON.", "",
           "| model | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for m in models:
        cells = []
        for lab in labels:
            r = by.get((m, lab))
            if r is None:
                cells.append("—")
            elif lab == "float":
                cells.append(f"{r['rel_l2_vs_truth']['mean']:.4f}")
            else:
                cells.append(f"{r['rel_l2_vs_truth']['mean']:.4f} ({r['rel_l2_vs_float']['mean']:.4f})")
        out.append(f"| {m} | " + " | ".join(cells) + " |")
    out += ["", "Change of the error against the ground truth relative to float (the goal: W8A8 within +2%, W4A8 g128 "
            "within +10%):", "", "| model | W8A8 int8 | W8A8 g128 | W4A8 g128 |", "|---|---|---|---|"]
    for m in models:
        f = by[(m, "float")]["rel_l2_vs_truth"]["mean"]
        cells = []
        for lab in ("W8A8 int8", "W8A8 g128", "W4A8 g128"):
            r = by.get((m, lab))
            cells.append("—" if r is None else f"{100 * (r['rel_l2_vs_truth']['mean'] / f - 1):+.2f}%")
        out.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def render_sensitivity(d):
    out = [f"One operand group quantized alone ({d['sensitivity_numerics']}), everything else FP32: mean relative L2 "
           "error against the float model. Groups are the model's top-level ops and layers (the DFT matrices, shared by "
           "all layers, are a group of their own); groups that hold no weights are left out (IFNO's iterations 1-3 "
           "reuse the weights of `layers.0`).", "", "| model | group | rel. L2 vs float |", "|---|---|---|"]
    for s in d["sensitivity"]:
        if s["rel_l2_vs_float"] == 0.0:
            continue
        group = s["group"] if s["group"].startswith("DFT") else f"`{s['group']}`"
        out.append(f"| {s['model_name']} | {group} | {s['rel_l2_vs_float']:.5f} |")
    return "\n".join(out)


def render_cost(d):
    out = [f"Batch {d['batch']}, {d['executor']} executor. Latency in µs (energy in µJ); utilization of the PE array.", "",
           "| model | " + " | ".join(DESIGNS) + " |", "|---|" + "---|" * len(DESIGNS)]
    by = {(r["model_name"], r["hw"]): r for r in d["rows"]}
    models = []
    for r in d["rows"]:
        if r["model_name"] not in models:
            models.append(r["model_name"])
    for m in models:
        cells = []
        for hw in DESIGNS:
            r = by.get((m, hw))
            cells.append("—" if r is None else f"{r['seconds'] * 1e6:.1f} ({r['joules'] * 1e6:.1f}), {100 * r['utilization']:.1f}%")
        out.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def render_fill(d):
    out = ["`fno-darcy` (width 32, 8x8 modes, 64x64 grid) on `mixpe_w4a8_64x64`, analytic executor: share of the "
           "step's cycles and array utilization (useful MACs / (64·64·cycles)) per GEMM kind.", "",
           "| op | " + " | ".join(f"batch {f['batch']}: time share, util." for f in d["fill"]) + " |",
           "|---|" + "---|" * len(d["fill"])]
    kinds = list(d["fill"][0]["kinds"].keys())
    for kind in kinds:
        cells = []
        for f in d["fill"]:
            k = f["kinds"][kind]
            util = "" if kind == "vector ops" else f", {100 * k['macs'] / (64 * 64 * max(1, k['cycles'])):.1f}%"
            cells.append(f"{100 * k['cycles'] / f['total_cycles']:.1f}%{util}")
        out.append(f"| {kind} | " + " | ".join(cells) + " |")
    out.append("| whole step | " + " | ".join(f"{f['total_cycles']} cycles, {100 * f['utilization']:.1f}%" for f in d["fill"]) + " |")
    return "\n".join(out)


def render_decode(d):
    out = [f"{d['model']} decode, context {d['seq']}, {d['executor']} executor. Roofline: each op's compulsory bytes at the "
           "DRAM peak or its operations at the array's peak, whichever is longer, summed over ops. WS: share of the GEMM time "
           "on the weight-stationary dataflow.", "",
           "| design | DRAM | batch | latency ms | roofline ms | % of roofline | mJ/token | DRAM energy | WS |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    last = None
    for r in d["rows"]:
        name = r["design"] if r["design"] != last else ""
        last = r["design"]
        out.append(f"| {name} | {r['dram']} | {r['batch']} | {r['seconds'] * 1e3:.1f} | {r['roofline_seconds'] * 1e3:.1f} | "
                   f"{100 * r['roofline_seconds'] / r['seconds']:.0f}% | {r['joules'] * 1e3 / r['tokens']:.2f} | "
                   f"{100 * r['energy_share']['dram']:.0f}% | {100 * r['ws_share_of_gemm_time']:.0f}% |")
    return "\n".join(out)


MODEL_NAMES = {"opt-6.7b": "OPT-6.7B", "llama-2-13b": "LLaMA-2-13B", "vit-b16": "ViT-B/16", "vit-h14": "ViT-H/14"}


def paper_rows(d, phase, batch=None):
    return [r for r in d["rows"] if r["phase"] == phase and (batch is None or r["batch"] == batch)]


def render_paper_prefill(d):
    out = ["| model | design | latency ms | energy mJ | time all | energy all | time GEMMs | time linear | energy linear | util |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    last = None
    for r in paper_rows(d, "prefill"):
        name = MODEL_NAMES[r["model_name"]] if r["model_name"] != last else ""
        last = r["model_name"]
        out.append(f"| {name} | {r['hw']} | {r['seconds'] * 1e3:.1f} | {r['joules'] * 1e3:.1f} | {r['norm_time_all']:.3f} | "
                   f"{r['norm_energy_all']:.3f} | {r['norm_time_gemm']:.3f} | {r['norm_time_linear']:.3f} | "
                   f"{r['norm_energy_linear']:.3f} | {100 * r['utilization']:.1f}% |")
    return "\n".join(out)


def render_paper_decode(d):
    out = ["| model | batch | design | latency ms | energy mJ | time all | energy all | % of roofline | WS | util |",
           "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    last = None
    for r in paper_rows(d, "decode"):
        key = (r["model_name"], r["batch"])
        lead = f"| {MODEL_NAMES[r['model_name']]} | {r['batch']} " if key != last else "| | "
        last = key
        out.append(lead + f"| {r['hw']} | {r['seconds'] * 1e3:.1f} | {r['joules'] * 1e3:.1f} | {r['norm_time_all']:.3f} | "
                   f"{r['norm_energy_all']:.3f} | {100 * r['roofline_seconds'] / r['seconds']:.0f}% | "
                   f"{100 * r['ws_share_of_gemm_time']:.0f}% | {100 * r['utilization']:.1f}% |")
    return "\n".join(out)


def render_paper_change(d):
    before = {(r["model_name"], r["phase"], r["batch"], r["hw"]): r for r in load("paper_before.json")["rows"]}
    out = ["Latency now against the previous model (" + load("paper_before.json")["source"] + "):", "",
           "| workload | " + " | ".join(PAPER_DESIGNS) + " |", "|---|" + "---:|" * len(PAPER_DESIGNS)]
    for model, phase, batch, _ in PAPER_WORKLOADS:
        cells = []
        for hw in PAPER_DESIGNS:
            now = next((r for r in d["rows"] if (r["model_name"], r["phase"], r["batch"], r["hw"]) == (model, phase, batch, hw)), None)
            was = before.get((model, phase, batch, hw))
            cells.append("—" if now is None or was is None else f"{100 * (now['seconds'] / was['seconds'] - 1):+.1f}%")
        out.append(f"| {MODEL_NAMES[model]} {phase}{'' if phase == 'prefill' else f' b{batch}'} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def render_paper_energy(d):
    out = ["| design | PE | dequant + edge | vector | SRAM | DRAM | static |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in d["rows"]:
        if (r["model_name"], r["phase"]) == ("opt-6.7b", "prefill"):
            e = r["energy_share"]
            out.append(f"| {r['hw']} | {100 * e['pe']:.1f}% | {100 * (e['dequant'] + e['edge']):.1f}% | {100 * e['vector']:.1f}% | "
                       f"{100 * e['sram']:.1f}% | {100 * e['dram']:.1f}% | {100 * e['static']:.1f}% |")
    return "\n".join(out)


def render_paper_headline(d):
    def pair(model, phase, batch, base):
        rs = {r["hw"]: r for r in d["rows"] if (r["model_name"], r["phase"], r["batch"]) == (model, phase, batch)}
        a, b = rs[base], rs["mixpe_w4a8_64x64"]
        return a["seconds"] / b["seconds"], a["joules"] / b["joules"]
    cols = [("OPT-6.7B prefill 64", ("opt-6.7b", "prefill", 1)), ("LLaMA-2-13B prefill 64", ("llama-2-13b", "prefill", 1)),
            ("OPT-6.7B decode b1", ("opt-6.7b", "decode", 1)), ("OPT-6.7B decode b16", ("opt-6.7b", "decode", 16))]
    out = ["| MixPE-W4A8 64x64 over | | paper | " + " | ".join(f"ours, {c}" for c, _ in cols) + " |", "|---|---|---:|" + "---:|" * len(cols)]
    for base in ("bitfusion_32x40", "ant_32x32", "int8_32x32"):
        vals = [pair(*k, base) for _, k in cols]
        out += [f"| {base} | speedup | 2.6x | " + " | ".join(f"**{v[0]:.2f}x**" for v in vals) + " |",
                "| | energy reduction | 1.4x | " + " | ".join(f"**{v[1]:.2f}x**" for v in vals) + " |"]
    return "\n".join(out)


def render_area_designs(d):
    names = [p["name"] for p in next(iter(d["designs"].values()))["parts"]]
    out = ["| design | total mm2 | " + " | ".join(names) + " |", "|---|---:|" + "---:|" * len(names)]
    for hw, a in d["designs"].items():
        parts = {p["name"]: p["mm2"] for p in a["parts"]}
        out.append(f"| {hw} | {a['total_mm2']:.3f} | " + " | ".join(f"{parts[n]:.3f}" for n in names) + " |")
    return "\n".join(out)


def render_iso_area(d):
    out = []
    for model, phase, batch, seq in ISO_WORKLOADS:
        out += [f"**{MODEL_NAMES[model]} {phase} {seq} tokens** (analytic executor; perf/W and perf/mm2 normalized to the FP16 "
                "design of the same table, higher is better)", "",
                "| designs | design | array | area mm2 | latency ms | energy mJ | perf/W | perf/mm2 |", "|---|---|---|---:|---:|---:|---:|---:|"]
        for run in (r for r in d["iso"] if (r["model_name"], r["phase"], r["seq"]) == (model, phase, seq)):
            label = "as published" if run["iso_area"] is None else f"iso-area {run['iso_area_mm2']:.3f} mm2"
            for i, t in enumerate(run["table"]):
                out.append(f"| {label if i == 0 else ''} | {t['hw']} | {t['rows']}x{t['cols']} | {t['area_mm2']:.3f} | "
                           f"{t['seconds'] * 1e3:.1f} | {t['joules'] * 1e3:.1f} | {t['norm_perf_per_watt']:.3f} | {t['norm_perf_per_mm2']:.3f} |")
        out.append("")
    return "\n".join(out).rstrip()


def render_area_search(d):
    v = d["search_vary"]
    out = [f"Searched: {', '.join(f'`{k}` {vals}' for k, vals in v.items())} on `{d['reference']}` "
           f"(W4A8, g128 in the reference), keeping the designs no larger than it ({d['search_seconds']:.0f} s for all points).", "",
           "| workload | design | rows x cols | group | WBUF KiB | IBUF KiB | dataflow | area mm2 | latency ms | energy mJ | perf/W vs reference |",
           "|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    for s in d["search"]:
        ref_e = float(s["reference"]["energy_mj"])
        for label, r in (("reference", s["reference"]), ("best perf/W", s["best_perf_per_watt"]), ("fastest", s["best_latency"])):
            out.append(f"| {MODEL_NAMES[s['model_name']] + ' (' + str(s['within_area']) + ' of ' + str(s['points']) + ' fit)' if label == 'reference' else ''} | "
                       f"{label} | {r['array.rows']}x{r['array.cols']} | {r['array.group_size']} | {r['buffers.wbuf.size_kib']} | "
                       f"{r['buffers.ibuf.size_kib']} | {r['array.dataflow']} | {float(r['area_mm2']):.3f} | {float(r['latency_ms']):.1f} | "
                       f"{float(r['energy_mj']):.1f} | {ref_e / float(r['energy_mj']):.3f}x |")
    return "\n".join(out)


TABLES = {  # table name -> (doc, data file, renderer)
    "llm-quality": ("docs/quantization.md", "llm_quality.json", render_llm),
    "operator-accuracy": ("docs/neural-operators.md", "operator_quality.json", render_operator_accuracy),
    "operator-sensitivity": ("docs/neural-operators.md", "operator_quality.json", render_sensitivity),
    "operator-cost": ("docs/neural-operators.md", "operator_cost.json", render_cost),
    "operator-fill": ("docs/neural-operators.md", "operator_cost.json", render_fill),
    "decode": ("docs/decode.md", "decode.json", render_decode),
    "paper-prefill": ("docs/paper-comparison.md", "paper.json", render_paper_prefill),
    "paper-decode": ("docs/paper-comparison.md", "paper.json", render_paper_decode),
    "paper-change": ("docs/paper-comparison.md", "paper.json", render_paper_change),
    "paper-headline": ("docs/paper-comparison.md", "paper.json", render_paper_headline),
    "paper-energy": ("docs/paper-comparison.md", "paper.json", render_paper_energy),
    "area-designs": ("docs/sim.md", "area.json", render_area_designs),
    "iso-area": ("docs/paper-comparison.md", "area.json", render_iso_area),
    "area-search": ("docs/paper-comparison.md", "area.json", render_area_search),
}


def replace_table(text, name, body):
    begin, end = f"<!-- BEGIN TABLE {name} -->", f"<!-- END TABLE {name} -->"
    if begin not in text or end not in text:
        raise SystemExit(f"{name}: markers {begin} / {end} missing")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return head + begin + "\n" + body + "\n" + end + tail


def rendered_docs(strict):
    docs = {}
    for name, (doc, data, render) in TABLES.items():
        if not os.path.exists(os.path.join(DATA, data)):
            if strict:
                raise SystemExit(f"{name}: docs/data/{data} is missing (run scripts/tables/doc_tables.py run)")
            continue
        path = os.path.join(ROOT, doc)
        text = docs.get(path)
        if text is None:
            with open(path) as f:
                text = f.read()
        docs[path] = replace_table(text, name, render(load(data)))
    return docs


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    what = sys.argv[1]
    if what == "run":
        for part in sys.argv[2:] or ["llm", "operators", "dft", "cost", "decode", "paper", "area"]:
            {"llm": run_llm, "operators": run_operators, "operator-baselines": run_operator_baselines, "dft": run_dft,
             "cost": run_cost, "decode": run_decode, "paper": run_paper, "area": run_area}[part]()
        what = "render"
    if what == "render":
        for path, text in rendered_docs(strict=False).items():
            with open(path, "w") as f:
                f.write(text)
    elif what == "check":
        bad = []
        for path, text in rendered_docs(strict=True).items():
            with open(path) as f:
                if f.read() != text:
                    bad.append(os.path.relpath(path, ROOT))
        if bad:
            print("tables out of date in: " + ", ".join(bad) + " (run scripts/tables/doc_tables.py render)", file=sys.stderr)
            return 1
        print("tables match their data")
    else:
        raise SystemExit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
