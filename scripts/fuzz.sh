#!/usr/bin/env bash
# Builds the libFuzzer targets for the file readers with clang and runs each for a while (CI: a
# short smoke run from scripts/test.sh; longer runs by hand).
# Usage: scripts/fuzz.sh [seconds per target, default 60] [target ...]
#   (targets: safetensors gguf mixpe hwconfig hfconfig)
# Needs clang-14 and libclang-rt-14-dev (Debian); findings go to build-fuzz/findings/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(safetensors gguf mixpe hwconfig hfconfig)
fi
build_dir="${MIXPE_FUZZ_BUILD_DIR:-$root/build-fuzz}"
cc="${CC:-clang-14}"
cxx="${CXX:-clang++-14}"
if ! command -v "$cxx" >/dev/null; then
  echo "fuzz.sh: $cxx not found (apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 1
fi
if [ ! -f "$build_dir/build.ninja" ]; then
  CC="$cc" CXX="$cxx" cmake -S "$root/fuzz" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
fi
cmake --build "$build_dir" --parallel "$(nproc)" >&2
mkdir -p "$build_dir/findings"
status=0
for t in "${targets[@]}"; do
  # New inputs go to a scratch corpus so the checked-in seeds stay small.
  work="$build_dir/corpus/$t"
  mkdir -p "$work"
  echo "fuzz.sh: fuzz_$t for ${seconds}s" >&2
  if ! "$build_dir/fuzz_$t" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
      -artifact_prefix="$build_dir/findings/$t-" "$work" "$root/fuzz/corpus/$t" 2>"$build_dir/fuzz_$t.log"; then
    echo "fuzz.sh: fuzz_$t found a failure; see $build_dir/fuzz_$t.log and $build_dir/findings/" >&2
    status=1
  fi
  tail -n 2 "$build_dir/fuzz_$t.log" >&2
done
exit $status
