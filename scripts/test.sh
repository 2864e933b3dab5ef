#!/usr/bin/env bash
# Builds mixpe with the RTL, tests and benchmarks, and runs the whole test suite with CTest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh" -DMIXPE_BUILD_RTL=ON -DMIXPE_BUILD_TESTS=ON -DMIXPE_BUILD_BENCH=ON
cd "${MIXPE_BUILD_DIR:-$root/build}"
ctest --output-on-failure --parallel "$(nproc)" "$@"
