#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into build-fuzz/ and runs each for SECONDS
# (default 30) on a copy of its committed seed corpus. Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$THG_ROOT/scripts/setup.sh"
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors model_config manifest image audio dataset)
build="$THG_ROOT/build-fuzz"
if [ ! -f "$build/build.ninja" ]; then
  mkdir -p "$build"
  torch_prefix=$("$THG_VENV/bin/python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
  CC=clang CXX=clang++ cmake -S "$THG_ROOT" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTHG_FUZZ=ON \
    -DCMAKE_PREFIX_PATH="$torch_prefix" >"$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 1; }
fi
cmake --build "$build" -j"$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}")
# LeakSanitizer stays on; libtorch's own static allocations at exit are not ours.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$THG_ROOT/fuzz/lsan.supp}
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  mkdir -p "$corpus"
  cp -n "$THG_ROOT/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null || true
  echo "fuzz: $t for ${seconds}s" >&2
  mkdir -p "$build/artifacts"
  set +e
  "$build/fuzz/fuzz_$t" "$corpus" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=262144 \
    -artifact_prefix="$build/artifacts/$t-" -print_final_stats=1 >"$build/fuzz_$t.log" 2>&1
  rc=$?
  set -e
  grep -E "stat::number_of_executed_units|stat::peak_rss|Done [0-9]+ runs" "$build/fuzz_$t.log" >&2 || true
  if [ $rc -ne 0 ]; then
    grep -E "ERROR|SUMMARY|artifact" "$build/fuzz_$t.log" >&2 || true
    echo "fuzz: $t found a problem (log: $build/fuzz_$t.log)" >&2
    exit 1
  fi
done
