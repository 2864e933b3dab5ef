#!/usr/bin/env bash
# Builds mixpe with the RTL, tests and benchmarks and runs the whole test suite with CTest; then the
# tests again in an AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan: clang 14, which
# compiles the sanitized code in about half g++'s time; no Verilator, no SystemC, whose coroutine
# stacks ASan cannot follow) and a short libFuzzer run of every file reader (scripts/fuzz.sh,
# build-fuzz). MIXPE_TEST_SANITIZE=0 skips the last two. Arguments go to the first ctest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh" -DMIXPE_BUILD_RTL=ON -DMIXPE_BUILD_TESTS=ON -DMIXPE_BUILD_BENCH=ON -DMIXPE_BUILD_MPI=ON -DMIXPE_BUILD_PYTHON=ON
(cd "${MIXPE_BUILD_DIR:-$root/build}" && ctest --output-on-failure --parallel "$(nproc)" "$@")
if [ "${MIXPE_TEST_SANITIZE:-1}" = 0 ]; then
  exit 0
fi
asan_dir="${MIXPE_ASAN_BUILD_DIR:-$root/build-asan}"
echo "test.sh: the tests again with ASan and UBSan ($asan_dir)" >&2
MIXPE_BUILD_DIR="$asan_dir" "$root/scripts/build.sh" -DCMAKE_CXX_COMPILER=clang++-14 -DMIXPE_SANITIZE=ON -DMIXPE_BUILD_SIM=OFF -DMIXPE_BUILD_RTL=OFF \
  -DMIXPE_BUILD_BENCH=OFF -DMIXPE_BUILD_PYTHON=OFF -DMIXPE_BUILD_MPI=OFF -DMIXPE_BUILD_TESTS=ON
(cd "$asan_dir" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --output-on-failure --parallel "$(nproc)" -LE install)
echo "test.sh: fuzz smoke run of every file reader" >&2
"$root/scripts/fuzz.sh" "${MIXPE_FUZZ_SECONDS:-10}"
