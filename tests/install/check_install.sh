#!/usr/bin/env bash
# ctest install_tree: `cmake --install` into a temporary prefix, then the installed CLI and Python
# module run with no path into the source or build tree (configs, zoo and the CLI found from the
# prefix); `cpack` makes a .deb holding them, with library dependencies filled in.
# Usage: check_install.sh BUILD_DIR WORK_DIR WITH_SYSTEMC(ON|OFF)
set -euo pipefail
build=$1 work=$2 systemc=${3:-ON}
rm -rf "$work"
mkdir -p "$work"
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" > "$work/install.log"
unset MIXPE_CONFIG_DIR MIXPE_ZOO_DIR MIXPE_CLI
cd "$work"  # not the source tree: relative paths must not resolve there

out=$("$prefix/bin/mixpe" hw show mixpe_w4a8_64x64)
grep -q "($prefix/share/mixpe/configs/hw/mixpe_w4a8_64x64.yaml)" <<< "$out" || { echo "hw show did not read the installed configs:"; echo "$out"; exit 1; }
"$prefix/bin/mixpe" simulate --model fno-darcy --executor analytic -q --json "$work/fno.json"
grep -q '"model": "fno-darcy"' "$work/fno.json" || { echo "the installed zoo model did not run"; exit 1; }

module=$(find "$prefix" -name 'mixpe*.so' | head -n 1)
if [[ -n $module ]]; then
  latency=$(PYTHONPATH=$(dirname "$module") /usr/bin/python3 -c "import mixpe; print(mixpe.simulate(model='opt-6.7b', hw='mixpe_w4a8_64x64')['latency_ms'])")
  [[ $latency =~ ^[0-9.]+$ ]] || { echo "python: unexpected output '$latency'"; exit 1; }
  echo "python module: opt-6.7b on mixpe_w4a8_64x64 $latency ms"
fi

if command -v dpkg-deb > /dev/null; then
  (cd "$build" && cpack -G DEB -B "$work/deb" > "$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; exit 1; }
  deb=$(ls "$work"/deb/mixpe_*.deb)
  contents=$(dpkg-deb -c "$deb")
  grep -q "\./usr/bin/mixpe$" <<< "$contents" || { echo "$deb has no usr/bin/mixpe"; exit 1; }
  grep -q "\./usr/share/mixpe/configs/hw/mixpe_w4a8_64x64.yaml$" <<< "$contents" || { echo "$deb has no configs"; exit 1; }
  depends=$(dpkg-deb -f "$deb" Depends)
  grep -q "libyaml-cpp" <<< "$depends" || { echo "$deb: Depends lacks libyaml-cpp: $depends"; exit 1; }
  if [[ $systemc == ON ]]; then grep -q "libsystemc" <<< "$depends" || { echo "$deb: Depends lacks libsystemc: $depends"; exit 1; }; fi
  echo "$(basename "$deb"): $(du -h "$deb" | cut -f1), Depends: $depends"
fi
echo "install tree OK"
