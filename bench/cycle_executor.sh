#!/usr/bin/env bash
# Wall time of the cycle (SystemC) executor on whole-model steps; prints a table.
# Usage: bench/cycle_executor.sh [build-dir]   (SystemC elaborates once per process: one run per case)
set -euo pipefail
build="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}"
mixpe="$build/runtime/mixpe"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
printf '%-58s %12s %14s %10s\n' "case" "wall s" "sim cycles" "instr"
run() {
  local label="$1"; shift
  local json; json="$(mktemp)"
  local t0 t1
  t0=$(date +%s.%N)
  "$mixpe" simulate -q --executor cycle --json "$json" "$@"
  t1=$(date +%s.%N)
  local cycles instr
  cycles=$(grep -m1 '"total_cycles"' "$json" | tr -dc '0-9')
  instr=$(grep -m1 '"instructions"' "$json" | tr -dc '0-9')
  printf '%-58s %12.2f %14s %10s\n' "$label" "$(echo "$t1 - $t0" | bc)" "$cycles" "$instr"
  rm -f "$json"
}
run "llama-2-7b decode b1 ctx2048, mixpe_w4a8_64x64 (tile)" --hw mixpe_w4a8_64x64 --model llama-2-7b --phase decode --batch 1 --seq 2048
run "llama-2-7b decode b16 ctx2048, mixpe_w4a8_64x64 (tile)" --hw mixpe_w4a8_64x64 --model llama-2-7b --phase decode --batch 16 --seq 2048
run "opt-6.7b prefill b1 seq64, fp16_32x28 (tile)" --hw fp16_32x28 --model opt-6.7b --phase prefill --batch 1 --seq 64
run "tiny prefill b1 seq64, mixpe_w4a8_64x64 (per-PE model)" --hw mixpe_w4a8_64x64 -p array.model=pe --model tiny --phase prefill --batch 1 --seq 64
