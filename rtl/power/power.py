# Switching-activity energy of synthesized gate netlists: operand streams, testbench, toggle counting, report.
#
# Subcommands (run by rtl/power/run.sh, with /usr/bin/python3 for numpy):
#   stim NETLIST KIND OUTDIR          writes OUTDIR/tb.sv and OUTDIR/{real,uniform}.hex
#   count NETLIST VCD OUT.json        energy of one run (toggles x capacitance proxy) as JSON
#   report RESULTS.json [--data YAML --tools STR] [--update-doc DOC]
#   tech ACTIVITY.yaml                rewrites 28nm_rtl.yaml beside it from the ratios already in ACTIVITY.yaml
import json
import math
import re
import sys

# Capacitance proxy, in gate-input loads: a net switching costs its driven gate inputs plus one for the
# driver's own output; a flip-flop's clock pin and internal clock inverter are two loads switched twice a cycle.
kClockLoadsPerFlop = 2
kClockEdgesPerCycle = 2
kWarmup = 4          # reset cycles before the stream
kGroup = 128         # elements per quantization group (the `last` pulse period)
kSeedReal, kSeedUniform = 20261202, 7


# ---------------------------------------------------------------- netlist
def parse_netlist(path):
    """Ports, per-bit fanout (gate inputs driven, including flip-flop D pins) and flip-flops of a
    `write_verilog -noattr` gate netlist (assign-expressions for NAND/NOR/NOT, always blocks for flops)."""
    text = open(path).read()
    module = re.search(r"^module (\w+)\(", text, re.M).group(1)
    widths, ports = {}, []
    for kind, rng, name in re.findall(r"^\s*(input|output|wire|reg)\s+(?:\[(\d+):0\]\s+)?(\S+)\s*;", text, re.M):
        w = int(rng) + 1 if rng else 1
        name = name.lstrip("\\")  # escaped names (`\g_asum.a_q `) appear unescaped in the VCD
        widths[name] = w
        if kind in ("input", "output"):
            ports.append((kind, name, w))
    parent = {}

    def find(b):
        while parent.get(b, b) != b:
            b = parent[b]
        return b

    def bits(expr):
        expr = re.sub(r"\d+'[hbd][0-9a-fA-FxzXZ_]+", " ", expr)
        out = []
        for name, idx in re.findall(r"(\\\S+ |[A-Za-z_][\w$]*)\s*(?:\[(\d+)\])?", expr):
            name = name.strip().lstrip("\\")
            if idx:
                out.append("%s[%s]" % (name, idx))
            elif widths.get(name, 1) == 1:
                out.append(name)
            else:
                out.extend("%s[%d]" % (name, i) for i in reversed(range(widths[name])))
        return out

    fanout = {}
    n_gates = 0
    for lhs, rhs in re.findall(r"^\s*assign\s+(.+?)\s*=\s*(.+?);\s*$", text, re.M):
        if "~" in rhs or "&" in rhs or "|" in rhs or "^" in rhs:
            n_gates += 1
            for b in bits(rhs):
                fanout[b] = fanout.get(b, 0) + 1
        else:  # a plain connection: both names are one electrical net
            lb, rb = bits(lhs), bits(rhs.replace("{", "").replace("}", "").replace(",", " "))
            for a, b in zip(lb, rb):
                parent[find(a)] = find(b)
    flops = []
    for q, d in re.findall(r"^\s*(?:else\s+)?(\S+(?:\s*\[\d+\])?)\s*<=\s*([^;]+);", text, re.M):
        if re.fullmatch(r"\d+'h[0-9a-fA-F]+", d.strip()):
            continue  # the reset branch
        flops.append((q.replace(" ", ""), d.strip()))
        for b in bits(d):
            fanout[b] = fanout.get(b, 0) + 1
    n_async = len(re.findall(r"negedge", text))
    canon = {}
    for b, f in list(fanout.items()):
        canon[find(b)] = canon.get(find(b), 0) + f
    return {"module": module, "ports": ports, "widths": widths, "fanout": canon, "find": find,
            "flops": len(flops), "gates": n_gates, "async_flops": n_async}


# ---------------------------------------------------------------- streams
def np_mod():
    import numpy as np
    return np


def fp16_bits(v):
    np = np_mod()
    return np.asarray(v, dtype=np.float16).view(np.uint16).astype(np.int64)


def fp32_bits(v):
    np = np_mod()
    return np.asarray(v, dtype=np.float32).view(np.uint32).astype(np.int64)


def act_values(rng, tokens, k, uniform):
    """LLM-like activations: per token Gaussian or Laplacian (alternating), 1% fixed outlier channels x20."""
    np = np_mod()
    if uniform:
        return rng.uniform(-4.0, 4.0, size=(tokens, k))
    v = np.empty((tokens, k))
    for t in range(tokens):
        v[t] = rng.standard_normal(k) if t % 2 == 0 else rng.laplace(0.0, 1.0 / math.sqrt(2.0), k)
    outliers = np.random.default_rng(99).choice(k, size=max(1, k // 100), replace=False)
    v[:, outliers] *= 20.0
    return v * np.exp(rng.normal(0.0, 0.5, size=(tokens, 1)))


def int8_tokens(rng, tokens, k, uniform):
    """Per-token symmetric INT8 codes and their scales."""
    np = np_mod()
    if uniform:
        return rng.integers(-128, 128, size=(tokens, k)), np.full(tokens, 0.01)
    v = act_values(rng, tokens, k, False)
    scale = np.abs(v).max(axis=1) / 127.0
    return np.clip(np.rint(v / scale[:, None]), -127, 127).astype(np.int64), scale


def group_quant(rng, chans, k, bits, uniform, sigma=0.02):
    """Unsigned b-bit codes of Gaussian weights, asymmetric per group of 128: (codes, zero points, scales)."""
    np = np_mod()
    qmax = (1 << bits) - 1
    ng = k // kGroup
    if uniform:
        return (rng.integers(0, qmax + 1, size=(chans, k)), rng.integers(0, qmax + 1, size=(chans, ng)),
                rng.uniform(1e-3, 1e-2, size=(chans, ng)))
    w = rng.normal(0.0, sigma, size=(chans, ng, kGroup))
    lo, hi = w.min(axis=2), w.max(axis=2)
    s = (hi - lo) / qmax
    z = np.clip(np.rint(-lo / s), 0, qmax)
    q = np.clip(np.rint(w / s[:, :, None]) + z[:, :, None], 0, qmax)
    return q.reshape(chans, k).astype(np.int64), z.astype(np.int64), s


def aligned_mantissas(x16):
    """mant = rne(x 2^(13 - E)), E the max effective exponent of each group of 128 (mixpe_bfp_align)."""
    np = np_mod()
    x = x16.astype(np.float64)
    t, k = x.shape
    xg = x.reshape(t, k // kGroup, kGroup)
    mag = np.abs(xg)
    e = np.where(mag >= 2.0 ** -14, np.floor(np.log2(np.maximum(mag, 2.0 ** -24))), -14)
    emax = e.max(axis=2, keepdims=True)
    mant = np.rint(xg * 2.0 ** (13 - emax))
    return mant.reshape(t, k).astype(np.int64)


def ant_flint_codes(w):
    """4-bit sign-magnitude flint codes of w, per-channel scale max|w|/16 (magnitudes 0,1,2,3,4,6,8,16)."""
    np = np_mod()
    grid = np.array([0, 1, 2, 3, 4, 6, 8, 16], dtype=np.float64)
    s = np.abs(w).max(axis=1, keepdims=True) / 16.0
    m = np.abs(np.abs(w / s)[..., None] - grid).argmin(axis=-1)
    return np.where((w < 0) & (m > 0), 8, 0) + m


def pe_streams(kind, uniform, cycles):
    """Per-cycle values of a PE's stream inputs: tiles of K = 512 (4 groups), one token x one channel each."""
    np = np_mod()
    rng = np.random.default_rng(kSeedUniform if uniform else kSeedReal)
    k_tile = 512
    per = {"bitfusion_w4a8": 2}.get(kind, 1)  # products per cycle
    tiles = cycles * per // k_tile
    k = k_tile
    xs, qs, extra = None, None, {}
    if kind.startswith("mixpe_a8_w") or kind.startswith("mac_a8_w"):
        bits = int(kind.split("_w")[1])
        xs, _ = int8_tokens(rng, tiles, k, uniform)
        qs, _, _ = group_quant(rng, tiles, k, bits, uniform)
    elif kind.startswith("mixpe_a16_w"):
        bits = int(kind.split("_w")[1])
        if uniform:
            xs = rng.integers(-(1 << 14) + 1, 1 << 14, size=(tiles, k))
        else:
            xs = aligned_mantissas(act_values(rng, tiles, k, False).astype(np.float16))
        qs, _, _ = group_quant(rng, tiles, k, bits, uniform)
    elif kind == "int8_w8":
        xs, _ = int8_tokens(rng, tiles, k, uniform)
        if uniform:
            qs = rng.integers(-128, 128, size=(tiles, k))
        else:
            w = rng.normal(0.0, 0.02, size=(tiles, k))
            qs = np.rint(w / (np.abs(w).max(axis=1, keepdims=True) / 127.0)).astype(np.int64)
    elif kind == "fp16":
        xs = fp16_bits(act_values(rng, tiles, k, uniform))
        if uniform:
            qs = fp16_bits(rng.uniform(-0.1, 0.1, size=(tiles, k)))
        else:
            q, z, s = group_quant(rng, tiles, k, 4, False)
            deq = (q.reshape(tiles, k // kGroup, kGroup) - z[:, :, None]) * s[:, :, None]
            qs = fp16_bits(deq.reshape(tiles, k))
    elif kind == "bitfusion_w4a8":
        x, _ = int8_tokens(rng, tiles, k, uniform)
        if uniform:
            q = rng.integers(-8, 8, size=(tiles, k))
        else:
            w = rng.normal(0.0, 0.02, size=(tiles, k))
            q = np.rint(w / (np.abs(w).max(axis=1, keepdims=True) / 7.0)).astype(np.int64)
        x, q = (x & 0xFF).reshape(-1, 2), (q & 0xF).reshape(-1, 2)
        xs, qs = x[:, 0] | (x[:, 1] << 8), q[:, 0] | (q[:, 1] << 4)
        extra = {"wmode_i": 1, "amode_i": 2}
    elif kind == "ant_flint":
        xs, _ = int8_tokens(rng, tiles, k, uniform)
        qs = rng.integers(0, 16, size=(tiles, k)) if uniform else ant_flint_codes(rng.normal(0.0, 0.02, size=(tiles, k)))
        extra = {"type_i": 1}
    else:
        raise ValueError("unknown PE stream kind '%s'" % kind)
    xs, qs = np.asarray(xs).reshape(-1)[:cycles], np.asarray(qs).reshape(-1)[:cycles]
    n = np.arange(cycles)
    g_cycles = kGroup // per
    vals = {"x_i": xs, "q_i": qs, "valid_i": np.ones(cycles, np.int64),
            "last_i": (n % g_cycles == g_cycles - 1).astype(np.int64), "dr_ready_i": np.ones(cycles, np.int64)}
    for key, v in extra.items():
        vals[key] = np.full(cycles, v, np.int64)
    return vals, per


def edge_streams(uniform, cycles):
    """Row edge (INT8): one token's activations along K = 4096, valid every cycle, A restarts per group."""
    np = np_mod()
    rng = np.random.default_rng(kSeedUniform if uniform else kSeedReal)
    k = 4096
    tokens = -(-cycles // k)
    x, scale = int8_tokens(rng, tokens, k, uniform)
    n = np.arange(cycles)
    grp = (n % k) // kGroup
    return {"x_i": x.reshape(-1)[:cycles], "valid_i": np.ones(cycles, np.int64),
            "last_i": (n % kGroup == kGroup - 1).astype(np.int64),
            "tfirst_i": (grp == 0).astype(np.int64), "tlast_i": (grp == k // kGroup - 1).astype(np.int64),
            "sx_i": fp32_bits(scale[n // k]), "dr_ready_i": np.ones(cycles, np.int64)}, 1


def dequant_streams(uniform, cycles, rows=4, pw=19, aw=16):
    """MixPE INT4xINT8 dequantization items back to back: per column, per group, one item per row (token)."""
    np = np_mod()
    rng = np.random.default_rng(kSeedUniform if uniform else kSeedReal)
    k = 4096
    ng = k // kGroup
    cols = -(-cycles // (ng * rows))
    x, xs = int8_tokens(rng, rows, k, uniform)
    p = np.zeros((cols, ng, rows), np.int64)
    a = np.zeros((cols, ng, rows), np.int64)
    z = np.zeros((cols, ng), np.int64)
    s = np.zeros((cols, ng))
    for c in range(cols):
        q, zc, sc = group_quant(rng, 1, k, 4, uniform)
        prod = (q[0][None, :] * x).reshape(rows, ng, kGroup).sum(axis=2)
        p[c] = prod.T
        a[c] = x.reshape(rows, ng, kGroup).sum(axis=2).T
        z[c], s[c] = zc[0], sc[0]
    if uniform:
        p = rng.integers(-(1 << (pw - 1)), 1 << (pw - 1), size=p.shape)
        a = rng.integers(-(1 << (aw - 1)), 1 << (aw - 1), size=a.shape)
    n = np.arange(cycles)
    col, rem = n // (ng * rows), n % (ng * rows)
    grp, row = rem // rows, rem % rows
    col = col % cols
    # z and s load in the cycle before a group's first item (the last item of the previous group).
    nxt = n + 1
    ncol, nrem = (nxt // (ng * rows)) % cols, nxt % (ng * rows)
    return {"zs_load_i": (row == rows - 1).astype(np.int64), "z_i": z[ncol, nrem // rows],
            "s_i": fp16_bits(s[ncol, nrem // rows]), "valid_i": np.ones(cycles, np.int64),
            "p_i": p[col, grp, row] & ((1 << pw) - 1), "a_i": a[col, grp, row] & ((1 << aw) - 1),
            "sx_i": fp32_bits(xs[row]), "first_i": (grp == 0).astype(np.int64),
            "last_i": (grp == ng - 1).astype(np.int64), "row_i": row}, 1


def vector_streams(kind, uniform, cycles):
    """FP32 vector-lane operands: Gaussian values with a log-normal per-row scale (uniform: U(-1, 1))."""
    np = np_mod()
    rng = np.random.default_rng(kSeedUniform if uniform else kSeedReal)
    if uniform:
        a, b = rng.uniform(-1, 1, cycles), rng.uniform(-1, 1, cycles)
    else:
        row = np.repeat(np.exp(rng.normal(0, 1, cycles // 64 + 1)), 64)[:cycles]
        a = rng.standard_normal(cycles) * row
        b = rng.standard_normal(cycles) * row if kind == "fp_add32" else np.repeat(rng.uniform(0.05, 2.0, cycles // 64 + 1), 64)[:cycles]
    return {"a_i": fp32_bits(a), "b_i": fp32_bits(b)}, 1


def streams(kind, uniform, cycles):
    if kind == "edge_a8":
        return edge_streams(uniform, cycles)
    if kind == "dequant_a8":
        return dequant_streams(uniform, cycles)
    if kind in ("fp_add32", "fp_mul32"):
        return vector_streams(kind, uniform, cycles)
    return pe_streams(kind, uniform, cycles)


def cmd_stim(netlist, kind, outdir, cycles):
    np = np_mod()
    net = parse_netlist(netlist)
    inputs = [(n, w) for d, n, w in net["ports"] if d == "input" and n != "clk_i"]
    total = sum(w for _, w in inputs)
    rows = kWarmup + cycles
    for label, uniform in (("real", False), ("uniform", True)):
        vals, per = streams(kind, uniform, cycles)
        unknown = set(vals) - {n for n, _ in inputs}
        if unknown:
            raise SystemExit("%s: stream kind '%s' drives ports %s the module lacks" % (netlist, kind, sorted(unknown)))
        words = [0] * rows
        for i in range(rows):
            word, off = 0, 0
            for name, w in reversed(inputs):
                if name == "rst_ni":
                    v = 1 if i >= kWarmup - 1 else 0
                elif i < kWarmup or name not in vals:
                    v = 0
                else:
                    v = int(vals[name][i - kWarmup])
                word |= (v & ((1 << w) - 1)) << off
                off += w
            words[i] = word
        digits = (total + 3) // 4
        with open("%s/%s.hex" % (outdir, label), "w") as f:
            f.write("\n".join("%0*x" % (digits, wd) for wd in words) + "\n")
    conns = []
    off = total
    for name, w in inputs:
        conns.append("  wire [%d:0] %s = stim_q[%d:%d];" % (w - 1, name, off - 1, off - w))
        off -= w
    ports = ", ".join(".%s(%s)" % (n, "clk" if n == "clk_i" else n if d == "input" else "") for d, n, _ in net["ports"])
    with open("%s/tb.sv" % outdir, "w") as f:
        f.write("""// Generated by rtl/power/power.py: replays a stimulus file into the netlist; inputs change with the clock edge.
module power_tb;
  localparam int Rows = %d;
  logic clk = 1'b0;
  logic [%d:0] mem [0:Rows-1];
  logic [%d:0] stim_q = '0;
  int i = 0;
  string stim, vcd;
  initial begin
    if (!$value$plusargs("stim=%%s", stim) || !$value$plusargs("vcd=%%s", vcd)) $fatal(1, "need +stim= and +vcd=");
    $readmemh(stim, mem);
    $dumpfile(vcd);
    $dumpvars(0, power_tb);
  end
  always #1 clk = ~clk;
  always @(posedge clk) begin
    if (i == Rows) $finish;  // the last row's edge: the unit's registers take it, the inputs hold
    else stim_q <= mem[i];
    i <= i + 1;
  end
%s
  %s u (%s);
endmodule
""" % (rows, total - 1, total - 1, "\n".join(conns), net["module"], ports))
    json.dump({"per_cycle_ops": per}, open("%s/meta.json" % outdir, "w"))


# ---------------------------------------------------------------- toggles
def read_vcd(path, scope_tail, t_start):
    """Per-bit toggle counts of every variable under the scope ending in `scope_tail`, counted after t_start."""
    names, codes = {}, {}
    scope = []
    f = open(path)
    for line in f:
        line = line.lstrip()
        if line.startswith("$scope"):
            scope.append(line.split()[2])
        elif line.startswith("$upscope"):
            scope.pop()
        elif line.startswith("$var"):
            tok = line.split()
            width, code, name = int(tok[2]), tok[3], tok[4]
            if len(scope) >= 1 and scope[-1] == scope_tail:
                lsb = 0
                if len(tok) > 6 and tok[5].startswith("["):
                    rng = tok[5].strip("[]").split(":")
                    lsb = int(rng[-1])
                names[name] = (code, width, lsb)
                codes.setdefault(code, width)
        elif line.startswith("$enddefinitions"):
            break
    value = {c: None for c in codes}
    tog = {c: [0] * w for c, w in codes.items()}
    t = 0
    for line in f:
        c0 = line[0]
        if c0 == "#":
            t = int(line[1:])
            continue
        if c0 == "b":
            v, code = line[1:].split()
        elif c0 in "01xz":
            v, code = c0, line[1:].strip()
        else:
            continue
        if code not in value:
            continue
        nv = int(v.replace("x", "0").replace("z", "0"), 2)
        old = value[code]
        value[code] = nv
        if old is None or t <= t_start:
            continue
        d = old ^ nv
        tc = tog[code]
        i = 0
        while d:
            if d & 1:
                tc[i] += 1
            d >>= 1
            i += 1
    return names, tog, t


def cmd_count(netlist, vcd, out):
    net = parse_netlist(netlist)
    t_start = 2 * kWarmup + 2  # posedges at odd times; the first stream row lands at posedge kWarmup
    names, tog, t_end = read_vcd(vcd, "u", t_start)
    cycles = (t_end - t_start) // 2
    inputs = {n for d, n, _ in net["ports"] if d == "input"}
    widths = net["widths"]
    find = net["find"]
    seen, data, missing = set(), 0.0, []
    in_energy = 0.0
    for name, (code, width, lsb) in names.items():
        if name == "clk_i":
            continue
        for i in range(width):
            b = "%s[%d]" % (name, lsb + i) if widths.get(name, width) > 1 or width > 1 else name
            c = find(b)
            if c in seen:
                continue
            seen.add(c)
            fo = net["fanout"].get(c, 0)
            w = fo + (0 if name in inputs else 1)
            e = tog[code][i] * w
            data += e
            if name in inputs:
                in_energy += e
    for b in net["fanout"]:
        if b not in seen and not b.startswith("clk_i"):
            missing.append(b)
    clock = net["flops"] * kClockLoadsPerFlop * kClockEdgesPerCycle * cycles
    res = {"cycles": cycles, "gates": net["gates"], "flops": net["flops"],
           "data_per_cycle": data / cycles, "input_per_cycle": in_energy / cycles,
           "clock_per_cycle": clock / cycles, "energy_per_cycle": (data + clock) / cycles,
           "nets": len(seen), "nets_missing_in_vcd": len(missing)}
    json.dump(res, open(out, "w"), indent=1)
    if missing:
        print("warning: %s: %d nets with fanout not in the VCD, e.g. %s" % (netlist, len(missing), missing[:5]), file=sys.stderr)


# ---------------------------------------------------------------- report
def cmd_report(results_path, data_path=None, tools="", doc=None):
    res = json.load(open(results_path))
    anchor_key = "pe.mixpe.a8.w4"
    anchor = {s: res[anchor_key][s]["energy_per_cycle"] for s in ("real", "uniform")}
    lines = ["| unit | key | gates | flip-flops | energy / cycle (realistic) | ratio to MixPE INT4xINT8 PE | "
             "ratio, data only (no clock) | ratio (uniform random streams) | ops / cycle |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    anchor_data = res[anchor_key]["real"]["data_per_cycle"]
    for key, r in res.items():
        real, uni = r["real"], r["uniform"]
        lines.append("| %s | `%s` | %d | %d | %.1f | %.3f | %.3f | %.3f | %d |" % (
            r["name"], key, real["gates"], real["flops"], real["energy_per_cycle"],
            real["energy_per_cycle"] / anchor["real"], real["data_per_cycle"] / anchor_data,
            uni["energy_per_cycle"] / anchor["uniform"], r["ops_per_cycle"]))
    table = "\n".join(lines)
    print(table)
    if data_path:
        with open(data_path + ".tmp", "w") as f:
            f.write("# Generated by rtl/power/run.sh --data: relative dynamic energy per active cycle of our RTL units\n")
            f.write("# (docs/rtl.md \"Energy from our RTL\"). Units: gate-input loads switched per cycle.\n")
            f.write("tools: \"%s\"\n" % tools)
            f.write("method: \"Yosys synth -flatten; dfflegalize (async-reset flops kept as cells); abc -g cmos2; "
                    "write_verilog -noattr; Verilator zero-delay simulation, VCD per cycle; energy = sum over nets of "
                    "toggles x (gate inputs driven + 1 for the driver; input ports: gate inputs driven only) + "
                    "flip-flops x %d clock loads x %d edges per cycle\"\n" % (kClockLoadsPerFlop, kClockEdgesPerCycle))
            f.write("streams:\n")
            f.write("  real: \"activations: per token N(0,1) or Laplace(0,1/sqrt2) (alternating), 1%% fixed outlier "
                    "channels x20, log-normal token scale, per-token symmetric INT8; FP16 paths: the same values in FP16, "
                    "aligned mantissas rne(x 2^(13-E)) per group; weights N(0,0.02): MixPE/conventional b-bit unsigned "
                    "asymmetric per group of %d (zero point ~ 2^(b-1)), INT8 MAC symmetric per channel, FP16 PE the "
                    "dequantized INT4 weights in FP16, BitFusion W4A8 signed 4-bit per channel (2 products per cycle), "
                    "ANT flint 4-bit per channel; tiles of K = 512 (one token x one channel), valid every cycle, last "
                    "every %d elements; no drain-chain traffic from other PEs\"\n" % (kGroup, kGroup))
            f.write("  uniform: \"uniform random codes over each operand's full range (FP16: U(-4,4) activations, "
                    "U(-0.1,0.1) weights; aligned mantissas U(-2^14, 2^14)), same framing\"\n")
            f.write("anchor_key: %s\n" % anchor_key)
            f.write("units:\n")
            for key, r in res.items():
                real, uni = r["real"], r["uniform"]
                f.write("  %s: {ratio: %.4f, ratio_uniform: %.4f, ratio_data_only: %.4f, energy_per_cycle: %.2f, "
                        "energy_per_cycle_uniform: %.2f, ops_per_cycle: %d, gates: %d, flip_flops: %d, cycles: %d, "
                        "unit: \"%s\", top: %s, params: \"%s\"}\n" % (
                            key, real["energy_per_cycle"] / anchor["real"], uni["energy_per_cycle"] / anchor["uniform"],
                            real["data_per_cycle"] / anchor_data, real["energy_per_cycle"], uni["energy_per_cycle"],
                            r["ops_per_cycle"], real["gates"], real["flops"], real["cycles"], r["name"], r["top"],
                            r["params"]))
        import os
        os.replace(data_path + ".tmp", data_path)
        print("updated %s" % data_path)
        write_rtl_tech_table(data_path, {k: r["real"]["energy_per_cycle"] / anchor["real"] for k, r in res.items()})
    if doc:
        text = open(doc).read()
        begin, end = "<!-- power-table begin -->", "<!-- power-table end -->"
        a, b = text.index(begin) + len(begin), text.index(end)
        open(doc, "w").write(text[:a] + "\n" + table + "\n" + text[b:])
        print("updated %s" % doc)


kAnchorPj = 0.6886  # arXiv 2411.16158: 8/4-bit MixPE PE, 344.3 uW at 500 MHz
kNodeScale = 28.0 / 45.0  # C ~ feature size at the same 0.9 V (Horowitz's 45 nm figures are at 0.9 V)


def write_rtl_tech_table(activity_path, ratio):
    """configs/tech/28nm_rtl.yaml: the activity ratios x the paper's anchor; SRAM from Horowitz scaled to 28 nm."""
    import os
    tech_dir = os.path.dirname(activity_path)
    r = {k: float("%.4f" % v) for k, v in ratio.items()}  # the ratios as written to rtl_activity.yaml
    need = ["pe.mixpe.a8.w4", "pe.mixpe.a16.w4", "pe.fp16", "pe.int8.w8", "pe.bitfusion.w4a8", "pe.ant.flint", "edge.mixpe.a8",
            "dequant.mixpe.a8.r4", "fp.add32", "fp.mul32"]
    missing = [k for k in need if k not in r]
    if missing:
        print("28nm_rtl.yaml not written: this run lacks %s" % missing)
        return

    def pe(key, unit, what):
        return '  %s: {value: %.12g, source: "%s: %.4f x the anchor 0.6886 pJ (configs/tech/rtl_activity.yaml %s, docs/rtl.md \\"Energy from our RTL\\")"}\n' % (
            key, kAnchorPj * r[unit], what, r[unit], unit)

    def sram(key, paper_value, what):
        return '  %s: {value: %.4f, source: "%s x 28/45 (C ~ feature size, 0.9 V at both nodes) = %.3f x %.4f"}\n' % (
            key, paper_value * kNodeScale, what, paper_value, kNodeScale)

    out = ["# Generated by rtl/power/run.sh --data: technology/energy table at 28 nm, 500 MHz with energies from our RTL's\n",
           "# switching activity (configs/tech/rtl_activity.yaml), anchored to the paper's MixPE 8/4-bit PE. Same keys as\n",
           "# 28nm_500mhz.yaml (the paper's per-PE powers, also available as paper28). docs/rtl.md \"Energy from our RTL\".\n",
           "name: 28nm_rtl\n", "entries:\n",
           "  # PE energy per active PE-cycle = activity ratio to the MixPE INT4xINT8 PE x 0.6886 pJ.\n",
           '  pe_mixpe_a8_pj:   {value: %.4f, source: "anchor: arXiv 2411.16158 8/4-bit MixPE PE 344.3 uW at 500 MHz / 500 MHz '
           '(our pe.mixpe.a8.w4, activity ratio 1 by definition)"}\n' % kAnchorPj,
           pe("pe_mixpe_a16_pj", "pe.mixpe.a16.w4", "our MixPE INT4 x 16-bit aligned mantissa PE"),
           pe("pe_fp16_pj", "pe.fp16", "our FP16 PE"),
           pe("pe_int8_pj", "pe.int8.w8", "our INT8xINT8 MAC PE (int32 acc)"),
           pe("pe_bitfusion_pj", "pe.bitfusion.w4a8", "our BitFusion fusion unit per cycle, W4A8 (2 products)"),
           pe("pe_ant_pj", "pe.ant.flint", "our ANT PE (flint 4-bit x INT8)"),
           "  # Edge unit (A = sum x, per element) and dequantization unit (per item), from the same activity model.\n",
           pe("edge_add_pj", "edge.mixpe.a8", "our INT8 row edge per active cycle"),
           pe("dequant_op_pj", "dequant.mixpe.a8.r4", "our MixPE INT4xINT8 dequantization unit per item"),
           '  vector_op_pj:     {value: %.12g, source: "mean of our FP32 adder (fp.add32, %.4f) and multiplier (fp.mul32, %.4f) '
           'per op x the anchor 0.6886 pJ (configs/tech/rtl_activity.yaml)"}\n' % (
               kAnchorPj * 0.5 * (r["fp.add32"] + r["fp.mul32"]), r["fp.add32"], r["fp.mul32"]),
           "  # SRAM per bit: Horowitz ISSCC 2014 (45 nm, 0.9 V) 64-bit reads (32 KB 20 pJ, 1 MB 100 pJ) interpolated\n",
           "  # log-linearly in size as in 28nm_500mhz.yaml, then scaled to 28 nm.\n",
           sram("wbuf_read_pj_per_bit", 0.595, "Horowitz 45 nm interpolated to 128 KiB (38 pJ / 64 bit)"),
           '  wbuf_write_pj_per_bit: {value: %.4f, source: "ASSUMPTION: write = read (no sourced write/read ratio found)"}\n' % (0.595 * kNodeScale),
           sram("ibuf_read_pj_per_bit", 0.82, "Horowitz 45 nm interpolated to 256 KiB (52.5 pJ / 64 bit)"),
           '  ibuf_write_pj_per_bit: {value: %.4f, source: "ASSUMPTION: write = read (no sourced write/read ratio found)"}\n' % (0.82 * kNodeScale),
           sram("obuf_read_pj_per_bit", 0.595, "Horowitz 45 nm interpolated to 128 KiB (38 pJ / 64 bit)"),
           '  obuf_write_pj_per_bit: {value: %.4f, source: "ASSUMPTION: write = read (no sourced write/read ratio found)"}\n' % (0.595 * kNodeScale),
           "  # DRAM energy is a property of the memory, not of this node: see dram.* in sim/config.cpp (docs/sim.md).\n",
           "  # Leakage, paid for every cycle of the run (no source: the paper gives no leakage split).\n",
           '  leakage_uw_per_pe:       {value: 34.43, source: "ASSUMPTION: 10% of the paper\'s 8/4-bit PE 344.3 uW (as 28nm_500mhz)"}\n',
           '  leakage_uw_per_sram_kib: {value: 5.0,   source: "ASSUMPTION: placeholder until SRAM macros are characterised (as 28nm_500mhz)"}\n']
    # Area keys: the same as the paper table's (area is not what this flow measures).
    base = open(os.path.join(tech_dir, "28nm_500mhz.yaml")).read().split("\n")
    area = [l + "\n" for l in base if re.match(r"\s+(logic_ge_um2|logic_utilization|sram_bitcell_um2|sram_array_efficiency):", l)]
    out.append("  # Area (sim/area.cpp): copied from 28nm_500mhz.yaml.\n")
    out.extend(area)
    path = os.path.join(tech_dir, "28nm_rtl.yaml")
    with open(path + ".tmp", "w") as f:
        f.write("".join(out))
    os.replace(path + ".tmp", path)
    print("updated %s" % path)


def cmd_tech(activity_path):
    """Rewrites 28nm_rtl.yaml from the ratios already in rtl_activity.yaml (no RTL run)."""
    ratio = {}
    for line in open(activity_path):
        m = re.match(r"\s+(\S+): \{ratio: ([0-9.]+),", line)
        if m:
            ratio[m.group(1)] = float(m.group(2))
    write_rtl_tech_table(activity_path, ratio)


def main(argv):
    if argv[1] == "tech":
        cmd_tech(argv[2])
    elif argv[1] == "stim":
        cmd_stim(argv[2], argv[3], argv[4], int(argv[5]))
    elif argv[1] == "count":
        cmd_count(argv[2], argv[3], argv[4])
    elif argv[1] == "report":
        args = argv[3:]
        opt = {args[i]: args[i + 1] for i in range(0, len(args), 2)}
        cmd_report(argv[2], opt.get("--data"), opt.get("--tools", ""), opt.get("--update-doc"))
    else:
        raise SystemExit("power.py: unknown subcommand '%s'" % argv[1])


if __name__ == "__main__":
    main(sys.argv)
