#!/usr/bin/env bash
# Switching-activity energy flow: synthesizes each PE kind and unit to a generic-gate netlist, simulates the
# netlist with Verilator on realistic and uniform-random operand streams, and weights each net's toggles by
# a capacitance proxy (docs/rtl.md "Energy from our RTL"). Prints a Markdown table of energy per active cycle.
# Usage: rtl/power/run.sh [--data] [--update-doc] [--only REGEX] [--cycles N] [--jobs N]
#   --data        write configs/tech/rtl_activity.yaml (needs the anchor, the MixPE INT4xINT8 PE, in the run)
#   --update-doc  rewrite the table in docs/rtl.md
#   --only REGEX  just the units whose name matches (always adds the anchor)
#   --cycles N    stream length per unit and stream (default 4096)
#   --jobs N      units processed at a time (default 2)
# Needs yosys, verilator (5.x, --binary --timing) and /usr/bin/python3 with numpy (python3-numpy).
set -euo pipefail
only="" data=0 update_doc=0 cycles=4096 jobs=2
while [[ $# -gt 0 ]]; do
  case $1 in
    --data) data=1 ;;
    --update-doc) update_doc=1 ;;
    --only) only=${2:?"--only needs a regular expression"}; shift ;;
    --cycles) cycles=${2:?"--cycles needs a number"}; shift ;;
    --jobs) jobs=${2:?"--jobs needs a number"}; shift ;;
    *) echo "run.sh: unknown argument '$1' (expected --data, --update-doc, --only REGEX, --cycles N or --jobs N)" >&2; exit 2 ;;
  esac
  shift
done
rtl_dir=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$rtl_dir/.." && pwd)
py=/usr/bin/python3
power="$rtl_dir/power/power.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sources=$(ls "$rtl_dir"/mixpe_*.sv | tr '\n' ' ')

# name | top module | chparam arguments | stream kind (power.py) | key in configs/tech/rtl_activity.yaml
# The first entry is the anchor every ratio is relative to.
units=(
  "MixPE INT4xINT8 PE (shift-and-add)|mixpe_pe|-set ActW 8 -set WBits 4 -set GroupMax 128|mixpe_a8_w4|pe.mixpe.a8.w4"
  "MixPE INT2xINT8 PE (shift-and-add)|mixpe_pe|-set ActW 8 -set WBits 2 -set GroupMax 128|mixpe_a8_w2|pe.mixpe.a8.w2"
  "MixPE INT3xINT8 PE (shift-and-add)|mixpe_pe|-set ActW 8 -set WBits 3 -set GroupMax 128|mixpe_a8_w3|pe.mixpe.a8.w3"
  "MixPE INT8(unsigned)xINT8 PE (shift-and-add)|mixpe_pe|-set ActW 8 -set WBits 8 -set GroupMax 128|mixpe_a8_w8|pe.mixpe.a8.w8"
  "MixPE INT4xFP16 PE (16-bit aligned mantissa)|mixpe_pe|-set ActW 16 -set WBits 4 -set GroupMax 128|mixpe_a16_w4|pe.mixpe.a16.w4"
  "Conventional INT4xINT8 PE (multiplier)|mixpe_pe_mac|-set ActW 8 -set WBits 4 -set GroupMax 128|mac_a8_w4|pe.mac.a8.w4"
  "INT8xINT8 PE (multiplier, int32 acc)|mixpe_pe_mac|-set ActW 8 -set WBits 8 -set WSigned 1 -set AccW 32|int8_w8|pe.int8.w8"
  "FP16 PE (FP16xFP16 exact, FP32 acc)|mixpe_pe_fp16||fp16|pe.fp16"
  "BitFusion PE, W4A8 (2 products/cycle)|mixpe_bitfusion_pe|-set AccW 32|bitfusion_w4a8|pe.bitfusion.w4a8"
  "ANT PE, flint 4-bit x INT8|mixpe_ant_pe|-set AccW 32|ant_flint|pe.ant.flint"
  "Row edge, INT8 A-sum + drain slot (per row, per element)|mixpe_row_edge|-set AW 16 -set RowW 2|edge_a8|edge.mixpe.a8"
  "Dequantization unit, MixPE INT4xINT8 (per item, back to back)|mixpe_dequant|-set PeKind 0 -set PW 19 -set AW 16 -set ZW 4 -set Rows 4|dequant_a8|dequant.mixpe.a8.r4"
  "FP32 adder (vector lane, per op)|mixpe_fp_add32||fp_add32|fp.add32"
  "FP32 multiplier (vector lane, per op)|mixpe_fp_mul32|-set AdjW 1|fp_mul32|fp.mul32"
)
if [[ -n $only ]]; then
  kept=("${units[0]}")
  for u in "${units[@]:1}"; do [[ ${u%%|*} =~ $only ]] && kept+=("$u"); done
  units=("${kept[@]}")
fi

run_one() {
  local idx=$1 top=$2 params=$3 kind=$4
  local d="$work/$idx" chparam=""
  mkdir -p "$d"
  [[ -n $params ]] && chparam="chparam $params $top"
  # The area flow's synthesis, except that asynchronous-reset flip-flops stay cells (async2sync would add a
  # reset gate behind every flop output, an area-model device that switches with the data).
  yosys -q -l "$d/yosys.log" -p "
    read_verilog -sv -DSYNTHESIS $sources
    $chparam
    hierarchy -top $top
    synth -flatten -top $top
    dfflegalize -cell \$_DFF_P_ 01 -cell \$_DFF_PN0_ 01 -cell \$_DFF_PN1_ 01
    abc -g cmos2
    opt_clean -purge
    write_verilog -noattr $d/net.v" > /dev/null
  $py "$power" stim "$d/net.v" "$kind" "$d" "$cycles"
  verilator --binary --timing --trace --trace-underscore -Wno-fatal -Wno-lint -Wno-style --top-module power_tb \
    -Mdir "$d/obj" -j 1 -CFLAGS -O1 "$d/tb.sv" "$d/net.v" > "$d/verilator.log" 2>&1 ||
    { echo "run.sh: verilator failed for $top (see $d/verilator.log)" >&2; tail -20 "$d/verilator.log" >&2; return 1; }
  for s in real uniform; do
    "$d/obj/Vpower_tb" +stim="$d/$s.hex" +vcd="$d/$s.vcd" > "$d/$s.log"
    $py "$power" count "$d/net.v" "$d/$s.vcd" "$d/$s.json"
    rm -f "$d/$s.vcd"
  done
}

pids=()
# Last first: the big units (dequantization, FP32 lanes) sit at the end of the list and take longest.
for ((i = ${#units[@]} - 1; i >= 0; i--)); do
  IFS='|' read -r name top params kind key <<< "${units[$i]}"
  run_one "$i" "$top" "$params" "$kind" &
  pids+=($!)
  # Synthesis, Verilator build and simulation are single-threaded each.
  if (( ${#pids[@]} >= jobs )); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done

# Collect the per-unit JSON into one results file, in the list's order.
records=""
for i in "${!units[@]}"; do records+="${units[$i]}"$'\n'; done
$py - "$work" "$records" > "$work/results.json" <<'PY'
import json, sys
work, records = sys.argv[1], sys.argv[2]
out = {}
for i, rec in enumerate(filter(None, records.split("\n"))):
    name, top, params, kind, key = rec.split("|")
    meta = json.load(open("%s/%d/meta.json" % (work, i)))
    out[key] = {"name": name, "top": top, "params": params, "kind": kind, "ops_per_cycle": meta["per_cycle_ops"],
                "real": json.load(open("%s/%d/real.json" % (work, i))),
                "uniform": json.load(open("%s/%d/uniform.json" % (work, i)))}
print(json.dumps(out, indent=1))
PY

args=()
if [[ $data == 1 ]]; then
  tools="$(yosys -V | cut -d' ' -f1-2); $(verilator --version | cut -d' ' -f1-2); numpy $($py -c 'import numpy; print(numpy.__version__)')"
  args+=(--data "$root/configs/tech/rtl_activity.yaml" --tools "$tools")
fi
[[ $update_doc == 1 ]] && args+=(--update-doc "$root/docs/rtl.md")
$py "$power" report "$work/results.json" "${args[@]}"
