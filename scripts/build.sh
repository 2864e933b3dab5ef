#!/usr/bin/env bash
# Installs dependencies, configures and builds mixpe into build/ (Release, Ninja): everything, or
# only the targets named in MIXPE_BUILD_TARGETS (space-separated), e.g. `mixpe`. Arguments are
# CMake options; given, they (re)configure the build directory, which is otherwise configured once.
# MIXPE_DEPS=cli installs only the CLI's packages (scripts/install-deps.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh" "${MIXPE_DEPS:-all}"
build_dir="${MIXPE_BUILD_DIR:-$root/build}"
if [ ! -f "$build_dir/build.ninja" ] || [ $# -gt 0 ]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >&2
fi
targets=()
for t in ${MIXPE_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build_dir" --parallel "$(nproc)" "${targets[@]}" >&2
