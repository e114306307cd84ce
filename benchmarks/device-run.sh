#!/usr/bin/env bash
# Runs on the GPU machine (the device tool), from the repository root:
#   ./scripts/device-deps.sh            # here, once: fills .device-deps/
#   run(carry=[".device-deps"], command="benchmarks/device-run.sh")
# Builds THG without FFmpeg against the machine's torch, runs the GPU tests (kernel parity, the
# model with each backend), compute-sanitizer memcheck on the kernels, the kernel benchmark and
# the UNet C++-vs-Python benchmark, and leaves logs and results under $OUT (benchmarks/results/ on
# the way back). Each step runs even if an earlier one failed; the exit status says if any did.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${OUT:-$root/out}
mkdir -p "$out/results"
deps="$root/.device-deps"
prefix=/tmp/thg-deps
status=0
step() {  # step NAME COMMAND...: runs, logs to $out/NAME.log, remembers a failure
  local name=$1; shift
  echo "== $name" | tee -a "$out/summary.txt"
  if "$@" >"$out/$name.log" 2>&1; then echo "   ok" | tee -a "$out/summary.txt"
  else echo "   FAILED (exit $?), see $name.log" | tee -a "$out/summary.txt"; tail -20 "$out/$name.log"; status=1; fi
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/gpu.txt" 2>&1
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "commit $commit, $(date -u +%F)" >> "$out/gpu.txt"

# Build dependencies carried as Debian packages, unpacked into a prefix (never into /).
mkdir -p "$prefix"
for deb in "$deps"/debs/*.deb; do dpkg -x "$deb" "$prefix"; done
export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
pyprefix=/tmp/thg-py
python3 -m pip install --quiet --no-index --no-deps --target "$pyprefix" "$deps"/wheels/*.whl > "$out/pip.log" 2>&1
export PYTHONPATH="$pyprefix:${PYTHONPATH:-}"
torch_cmake=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')

build=/tmp/thg-build
step configure cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTHG_WITH_FFMPEG=OFF \
  -DCMAKE_PREFIX_PATH="$torch_cmake;$prefix/usr" \
  -DTHG_PYTHON=
step build cmake --build "$build" -j "$(nproc)" --target thg thg_tests thg-bench-kernels
step gpu-tests "$build/tests/thg_tests" --gtest_filter='Fused*:Model*:Guidance*:Sched*'
step memcheck compute-sanitizer --tool memcheck --error-exitcode 9 "$build/tests/thg_tests" \
  --gtest_filter='FusedKernelsGpu.AttentionMatchesMathOnManyShapes:FusedKernelsGpu.GroupNormSiluMatchesTorch'
step bench-kernels-fp16 "$build/benchmarks/thg-bench-kernels" --root "$root" --out "$out/results" --commit "$commit" --dtype fp16
step bench-kernels-bf16 "$build/benchmarks/thg-bench-kernels" --root "$root" --out "$out/results" --commit "$commit" --dtype bf16 --configs default
step bench-unet python3 "$root/benchmarks/unet_forward.py" --thg "$build/apps/thg" --device cuda --dtype float16 --results "$out/results"
cat "$out/summary.txt"
exit $status
