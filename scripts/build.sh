#!/usr/bin/env bash
# Installs dependencies, configures and builds mixpe into build/ (Release, Ninja).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"
build_dir="${MIXPE_BUILD_DIR:-$root/build}"
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >&2
fi
cmake --build "$build_dir" --parallel "$(nproc)" >&2
