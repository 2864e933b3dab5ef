#!/usr/bin/env bash
# Lints every RTL module with verilator --lint-only -Wall, the arrays (OS and WS) in each PE kind; waivers live in waivers.vlt.
set -euo pipefail
cd "$(dirname "$0")/.."
files=(mixpe_*.sv)
lint() { verilator --lint-only -Wall lint/waivers.vlt "${files[@]}" "$@"; }
for f in "${files[@]}"; do
  m=${f%.sv}
  [[ $m == mixpe_array ]] && continue
  lint --top-module "$m"
done
lint --top-module mixpe_pe -GWSigned=1\'b1 -GWBits=2
lint --top-module mixpe_pe_mac -GWBits=8 -GWSigned=1\'b1
lint --top-module mixpe_array -GRows=4 -GCols=4
lint --top-module mixpe_array -GRows=3 -GCols=2
lint --top-module mixpe_array -GRows=4 -GCols=4 -GActFp=1\'b1
lint --top-module mixpe_array -GRows=4 -GCols=4 -GPeKind=1 -GWBits=8 -GWSigned=1\'b1 -GGroupMax=256
lint --top-module mixpe_array -GRows=4 -GCols=4 -GPeKind=2 -GGroupMax=256
lint --top-module mixpe_pe_ws -GPeKind=1 -GWBits=8 -GWSigned=1\'b1 -GPW=32
lint --top-module mixpe_array_ws -GRows=3 -GCols=2 -GWBits=2
lint --top-module mixpe_array_ws -GRows=2 -GCols=3 -GActFp=1\'b1 -GWBits=3 -GWSigned=1\'b1
lint --top-module mixpe_array_ws -GRows=8 -GCols=2 -GActFp=1\'b1 -GWBits=8
lint --top-module mixpe_array_ws -GRows=4 -GCols=4 -GPeKind=1 -GWBits=8 -GWSigned=1\'b1 -GGroupMax=256
echo "lint clean"
