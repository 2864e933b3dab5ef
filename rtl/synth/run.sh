#!/usr/bin/env bash
# Yosys area flow: synthesizes each PE kind, the edge and dequantization units and 4x4 arrays; prints a Markdown
# table of cells, flip-flops and `stat -tech cmos` transistor estimates.
# Usage: rtl/synth/run.sh [--update-doc | --only REGEX]   (--only: just the units whose name matches, no doc update)
set -euo pipefail
only=""
if [[ ${1:-} == --only ]]; then
  only=${2:?"--only needs a regular expression"}
fi
rtl_dir=$(cd "$(dirname "$0")/.." && pwd)
doc="$rtl_dir/../docs/rtl.md"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sources=$(ls "$rtl_dir"/mixpe_*.sv | tr '\n' ' ')

# name | top module | chparam arguments
units=(
  "MixPE INT4xINT8 PE (shift-and-add)|mixpe_pe|-set ActW 8 -set WBits 4 -set GroupMax 128"
  "Conventional INT4xINT8 PE (multiplier)|mixpe_pe_mac|-set ActW 8 -set WBits 4 -set GroupMax 128"
  "MixPE INT2xINT8 PE (shift-and-add)|mixpe_pe|-set ActW 8 -set WBits 2 -set GroupMax 128"
  "Conventional INT2xINT8 PE (multiplier)|mixpe_pe_mac|-set ActW 8 -set WBits 2 -set GroupMax 128"
  "MixPE INT8(unsigned)xINT8 PE (shift-and-add)|mixpe_pe|-set ActW 8 -set WBits 8 -set GroupMax 128"
  "INT8xINT8 PE (multiplier, int32 acc)|mixpe_pe_mac|-set ActW 8 -set WBits 8 -set WSigned 1 -set AccW 32"
  "FP16 PE (FP16xFP16 exact, FP32 acc)|mixpe_pe_fp16|"
  "MixPE INT4xFP16 PE (16-bit aligned mantissa)|mixpe_pe|-set ActW 16 -set WBits 4 -set GroupMax 128"
  "FP16 weight dequantizer (per column)|mixpe_fp16_wdeq|-set WBits 4"
  "BFP pre-alignment (per row)|mixpe_bfp_align|"
  "Row edge, INT8 A-sum + drain slot (per row)|mixpe_row_edge|-set AW 16 -set RowW 2"
  "Dequantization unit, MixPE INT4xINT8 (per column)|mixpe_dequant|-set PeKind 0 -set PW 19 -set AW 16 -set ZW 4 -set Rows 4"
  "4x4 array, MixPE INT4xINT8|mixpe_array|-set Rows 4 -set Cols 4 -set PeKind 0 -set WBits 4 -set GroupMax 128"
  "4x4 array, INT8 baseline|mixpe_array|-set Rows 4 -set Cols 4 -set PeKind 1 -set WBits 8 -set WSigned 1 -set GroupMax 256"
  "4x4 array, FP16 baseline|mixpe_array|-set Rows 4 -set Cols 4 -set PeKind 2 -set WBits 4 -set GroupMax 256"
  "4x4 array, MixPE INT4xFP16|mixpe_array|-set Rows 4 -set Cols 4 -set PeKind 0 -set ActFp 1 -set WBits 4 -set GroupMax 128"
  "WS PE, MixPE INT4xINT8 (weight register, psum in/out)|mixpe_pe_ws|-set PeKind 0 -set ActW 8 -set WBits 4 -set PW 19"
  "4x4 WS array, MixPE INT4xINT8|mixpe_array_ws|-set Rows 4 -set Cols 4 -set PeKind 0 -set WBits 4 -set GroupMax 128"
)
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
  IFS='|' read -r name top params <<< "${units[$i]}"
  synth_one "$i" "$top" "$params" &
  pids+=($!)
  # Two synthesis runs at a time.
  if (( ${#pids[@]} >= 2 )); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done

table="| unit | cells | flip-flops | transistors (stat -tech cmos) |
|---|---:|---:|---:|"
for i in "${!units[@]}"; do
  IFS='|' read -r name top params <<< "${units[$i]}"
  stat="$work/$i.stat"
  cells=$(awk '/Number of cells:/ {v=$4} END {print v}' "$stat")
  dffs=$(awk '/\$_DFF_P_/ {v=$2} END {print v+0}' "$stat")
  tr=$(awk '/Estimated number of transistors:/ {v=$5} END {print v}' "$stat")
  table+=$'\n'"| $name | $cells | $dffs | $tr |"
done
echo "$table"

if [[ ${1:-} == --update-doc ]]; then
  python3 - "$doc" "$table" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
begin, end = "<!-- area-table begin -->", "<!-- area-table end -->"
a, b = text.index(begin) + len(begin), text.index(end)
open(path, "w").write(text[:a] + "\n" + table + "\n" + text[b:])
PY
  echo "updated $doc"
fi
