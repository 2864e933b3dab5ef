#!/usr/bin/env bash
# Installs mixpe's build and test dependencies from Debian 12 packages; a no-op when all are present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git python3
  libsystemc-dev verilator yosys
  libeigen3-dev libgtest-dev libgmock-dev libbenchmark-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev libfftw3-dev
  pybind11-dev python3-dev python3-numpy
)

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
