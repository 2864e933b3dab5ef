#!/usr/bin/env bash
# Yosys area flow: synthesizes each PE kind, the edge and dequantization units and 4x4 arrays; prints a Markdown
# table of cells, flip-flops and `stat -tech cmos` transistor estimates.
# Usage: rtl/synth/run.sh [--update-doc] [--data] [--only REGEX]
#   --update-doc  update the table in docs/rtl.md (rows of the units synthesized, in the list's order)
#   --data        merge the keyed units' numbers into configs/tech/yosys_units.yaml (the area model's input)
#   --only REGEX  just the units whose name matches
set -euo pipefail
only="" update_doc=0 data=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --update-doc) update_doc=1 ;;
    --data) data=1 ;;
    --only) only=${2:?"--only needs a regular expression"}; shift ;;
    *) echo "run.sh: unknown argument '$1' (expected --update-doc, --data or --only REGEX)" >&2; exit 2 ;;
  esac
  shift
done
rtl_dir=$(cd "$(dirname "$0")/.." && pwd)
doc="$rtl_dir/../docs/rtl.md"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sources=$(ls "$rtl_dir"/mixpe_*.sv | tr '\n' ' ')

# name | top module | chparam arguments | key in configs/tech/yosys_units.yaml (sim/area.cpp reads them)
units=(
  "MixPE INT4xINT8 PE (shift-and-add)|mixpe_pe|-set ActW 8 -set WBits 4 -set GroupMax 128|pe.mixpe.a8.w4"
  "Conventional INT4xINT8 PE (multiplier)|mixpe_pe_mac|-set ActW 8 -set WBits 4 -set GroupMax 128|"
  "MixPE INT2xINT8 PE (shift-and-add)|mixpe_pe|-set ActW 8 -set WBits 2 -set GroupMax 128|pe.mixpe.a8.w2"
  "Conventional INT2xINT8 PE (multiplier)|mixpe_pe_mac|-set ActW 8 -set WBits 2 -set GroupMax 128|"
  "MixPE INT3xINT8 PE (shift-and-add)|mixpe_pe|-set ActW 8 -set WBits 3 -set GroupMax 128|pe.mixpe.a8.w3"
  "MixPE INT8(unsigned)xINT8 PE (shift-and-add)|mixpe_pe|-set ActW 8 -set WBits 8 -set GroupMax 128|pe.mixpe.a8.w8"
  "INT8xINT8 PE (multiplier, int32 acc)|mixpe_pe_mac|-set ActW 8 -set WBits 8 -set WSigned 1 -set AccW 32|pe.int8.w8"
  "INT4(signed)xINT8 PE (multiplier, int32 acc)|mixpe_pe_mac|-set ActW 8 -set WBits 4 -set WSigned 1 -set AccW 32|pe.int8.w4"
  "FP16 PE (FP16xFP16 exact, FP32 acc)|mixpe_pe_fp16||pe.fp16"
  "MixPE INT2xFP16 PE (16-bit aligned mantissa)|mixpe_pe|-set ActW 16 -set WBits 2 -set GroupMax 128|pe.mixpe.a16.w2"
  "MixPE INT3xFP16 PE (16-bit aligned mantissa)|mixpe_pe|-set ActW 16 -set WBits 3 -set GroupMax 128|pe.mixpe.a16.w3"
  "MixPE INT4xFP16 PE (16-bit aligned mantissa)|mixpe_pe|-set ActW 16 -set WBits 4 -set GroupMax 128|pe.mixpe.a16.w4"
  "MixPE INT8xFP16 PE (16-bit aligned mantissa)|mixpe_pe|-set ActW 16 -set WBits 8 -set GroupMax 128|pe.mixpe.a16.w8"
  "BitFusion fusion unit W4A8 (2 products/cycle; 16 BitBricks, 2/4/8-bit modes, int32 acc)|mixpe_bitfusion_pe|-set AccW 32|pe.bitfusion.w4a8"
  "ANT PE (int/flint/PoT 4-bit decoder x INT8, shift, int32 acc)|mixpe_ant_pe|-set AccW 32|pe.ant.w4"
  "FP16 weight dequantizer (per column)|mixpe_fp16_wdeq|-set WBits 4|wdeq.fp16"
  "BFP pre-alignment (per row)|mixpe_bfp_align||"
  "Row edge, INT8 A-sum + drain slot (per row)|mixpe_row_edge|-set AW 16 -set RowW 2|edge.mixpe.a8"
  "Row edge, BFP alignment + A-sum + drain slot (per row)|mixpe_row_edge|-set ActFp 1 -set XW 16 -set AW 24 -set RowW 2|edge.mixpe.a16"
  "Row edge, INT8 baseline drain slot (per row)|mixpe_row_edge|-set PeKind 1 -set AW 17 -set RowW 2|edge.int8"
  "Row edge, FP16 baseline drain slot (per row)|mixpe_row_edge|-set PeKind 2 -set XW 16 -set AW 25 -set RowW 2|edge.fp16"
  "Dequantization unit, MixPE INT4xINT8 (per column)|mixpe_dequant|-set PeKind 0 -set PW 19 -set AW 16 -set ZW 4 -set Rows 4|dequant.mixpe.a8.r4"
  "Dequantization unit, MixPE INT4xINT8, 8 rows|mixpe_dequant|-set PeKind 0 -set PW 19 -set AW 16 -set ZW 4 -set Rows 8|dequant.mixpe.a8.r8"
  "Dequantization unit, MixPE INT4xFP16|mixpe_dequant|-set PeKind 0 -set PW 27 -set AW 24 -set ZW 4 -set Rows 4|dequant.mixpe.a16.r4"
  "Dequantization unit, MixPE INT4xFP16, 8 rows|mixpe_dequant|-set PeKind 0 -set PW 27 -set AW 24 -set ZW 4 -set Rows 8|dequant.mixpe.a16.r8"
  "Dequantization unit, INT8 baseline|mixpe_dequant|-set PeKind 1 -set PW 32 -set AW 17 -set ZW 8 -set Rows 4|dequant.int8.r4"
  "Dequantization unit, INT8 baseline, 8 rows|mixpe_dequant|-set PeKind 1 -set PW 32 -set AW 17 -set ZW 8 -set Rows 8|dequant.int8.r8"
  "Dequantization unit, FP16 baseline (pass-through)|mixpe_dequant|-set PeKind 2 -set PW 32 -set AW 25 -set ZW 4 -set Rows 4|dequant.fp16.r4"
  "Dequantization unit, FP16 baseline, 8 rows|mixpe_dequant|-set PeKind 2 -set PW 32 -set AW 25 -set ZW 4 -set Rows 8|dequant.fp16.r8"
  "Register, 64 bits, asynchronous reset (skew and chain registers)|mixpe_delay|-set Width 64 -set Depth 1|reg.bit64"
  "FP32 adder (vector lane)|mixpe_fp_add32||fp.add32"
  "FP32 multiplier (vector lane)|mixpe_fp_mul32||fp.mul32"
  "4x4 array, MixPE INT4xINT8|mixpe_array|-set Rows 4 -set Cols 4 -set PeKind 0 -set WBits 4 -set GroupMax 128|array4x4.mixpe.a8.w4"
  "4x4 array, INT8 baseline|mixpe_array|-set Rows 4 -set Cols 4 -set PeKind 1 -set WBits 8 -set WSigned 1 -set GroupMax 256|array4x4.int8.w8"
  "4x4 array, FP16 baseline|mixpe_array|-set Rows 4 -set Cols 4 -set PeKind 2 -set WBits 4 -set GroupMax 256|array4x4.fp16.w4"
  "4x4 array, MixPE INT4xFP16|mixpe_array|-set Rows 4 -set Cols 4 -set PeKind 0 -set ActFp 1 -set WBits 4 -set GroupMax 128|array4x4.mixpe.a16.w4"
  "2x8 array, MixPE INT4xINT8 (area-model check)|mixpe_array|-set Rows 2 -set Cols 8 -set PeKind 0 -set WBits 4 -set GroupMax 128|array2x8.mixpe.a8.w4"
  "2x8 array, INT8 baseline (area-model check)|mixpe_array|-set Rows 2 -set Cols 8 -set PeKind 1 -set WBits 8 -set WSigned 1 -set GroupMax 256|array2x8.int8.w8"
  "WS PE, MixPE INT4xINT8 (weight register, psum in/out)|mixpe_pe_ws|-set PeKind 0 -set ActW 8 -set WBits 4 -set PW 19|"
  "4x4 WS array, MixPE INT4xINT8|mixpe_array_ws|-set Rows 4 -set Cols 4 -set PeKind 0 -set WBits 4 -set GroupMax 128|"
)
all_units=("${units[@]}")
if [[ -n $only ]]; then
  kept=()
  for u in "${units[@]}"; do [[ ${u%%|*} =~ $only ]] && kept+=("$u"); done
  units=("${kept[@]}")
fi

synth_one() {
  local idx=$1 top=$2 params=$3
  local chparam=""
  [[ -n $params ]] && chparam="chparam $params $top"
  # Async resets and enables become gates so that every cell is one `stat -tech cmos` knows.
  yosys -q -l "$work/$idx.log" -p "
    read_verilog -sv -DSYNTHESIS $sources
    $chparam
    hierarchy -top $top
    synth -flatten -top $top
    async2sync
    dfflegalize -cell \$_DFF_P_ 01
    abc -g cmos2
    opt_clean
    tee -q -o $work/$idx.stat stat -tech cmos" > /dev/null
}

pids=()
for i in "${!units[@]}"; do
  IFS='|' read -r name top params key <<< "${units[$i]}"
  synth_one "$i" "$top" "$params" &
  pids+=($!)
  # Two synthesis runs at a time.
  if (( ${#pids[@]} >= 2 )); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done

table="| unit | cells | flip-flops | transistors (stat -tech cmos) |
|---|---:|---:|---:|"
records=""
for i in "${!units[@]}"; do
  IFS='|' read -r name top params key <<< "${units[$i]}"
  stat="$work/$i.stat"
  cells=$(awk '/Number of cells:/ {v=$4} END {print v}' "$stat")
  dffs=$(awk '/\$_DFF_P_/ {v=$2} END {print v+0}' "$stat")
  tr=$(awk '/Estimated number of transistors:/ {v=$5} END {print v}' "$stat")
  table+=$'\n'"| $name | $cells | $dffs | $tr |"
  if [[ -n $key ]]; then records+=$'\n'"$key|$name|$top|$params|$cells|$dffs|$tr"; fi
done
echo "$table"

if [[ $data == 1 ]]; then
  python3 - "$rtl_dir/../configs/tech/yosys_units.yaml" "$(yosys -V)" "$records" <<'PY'
import os, re, sys
path, version, records = sys.argv[1], sys.argv[2], sys.argv[3]
units = {}
if os.path.exists(path):  # keep the units this run did not synthesize
    for line in open(path):
        m = re.match(r"  ([\w.]+): (\{.*\})$", line)
        if m:
            units[m.group(1)] = m.group(2)
for rec in filter(None, records.split("\n")):
    key, name, top, params, cells, dffs, tr = rec.split("|")
    units[key] = '{transistors: %s, cells: %s, flip_flops: %s, unit: "%s", top: %s, params: "%s"}' % (
        tr, cells, dffs, name, top, params)
with open(path + ".tmp", "w") as f:
    f.write("# Generated by rtl/synth/run.sh --data (%s, synth -flatten; abc -g cmos2; stat -tech cmos).\n" % version)
    f.write("# Transistor estimates of the RTL units the area model composes (sim/area.cpp, docs/sim.md \"Area\").\n")
    f.write("units:\n")
    for key in sorted(units):
        f.write("  %s: %s\n" % (key, units[key]))
os.replace(path + ".tmp", path)
PY
  echo "updated configs/tech/yosys_units.yaml"
fi

if [[ $update_doc == 1 ]]; then
  all_names=$(for u in "${all_units[@]}"; do echo "${u%%|*}"; done)
  python3 - "$doc" "$table" "$all_names" <<'PY'
import sys
path, table, names = sys.argv[1], sys.argv[2], sys.argv[3].split("\n")
text = open(path).read()
begin, end = "<!-- area-table begin -->", "<!-- area-table end -->"
a, b = text.index(begin) + len(begin), text.index(end)
def rows(t):
    return {line.split("|")[1].strip(): line for line in t.strip().split("\n")[2:]}
head = table.strip().split("\n")[:2]
merged = {**rows(text[a:b]), **rows(table)}  # this run's rows replace the doc's
body = [merged[n] for n in names if n in merged]
open(path, "w").write(text[:a] + "\n" + "\n".join(head + body) + "\n" + text[b:])
PY
  echo "updated $doc"
fi
