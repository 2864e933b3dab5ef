#!/usr/bin/env bash
# Installs mixpe's Debian 12 packages; a no-op when all are present.
#   install-deps.sh        everything: build, RTL, tests, benchmarks, Python module, MPI, fuzzing
#   install-deps.sh cli    only what the mixpe CLI needs (scripts/mixpe's first build)
set -euo pipefail

cli_packages=(
  build-essential cmake ninja-build pkg-config python3
  libsystemc-dev libeigen3-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev libfftw3-dev
)
packages=("${cli_packages[@]}")
if [ "${1:-all}" != cli ]; then
  packages+=(
    git verilator yosys
    libgtest-dev libgmock-dev libbenchmark-dev
    pybind11-dev python3-dev python3-numpy
    libopenmpi-dev openmpi-bin
    clang-14 libclang-rt-14-dev
  )
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "mixpe: installing ${#missing[@]} Debian packages (a few minutes on a fresh machine; apt's progress follows): ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# -q keeps apt's per-package lines (download, unpack, set up) and drops the terminal spinners; on
# stderr, so that `mixpe ... --json -` on a fresh machine still writes only JSON to stdout.
"${sudo_cmd[@]}" apt-get update -q >&2
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
