#!/usr/bin/env bash
# The one prepared script for the lent GPU machine (the device tool; H200, 16 cores, no network,
# 10 minutes a command, only a few files under $OUT come back). From the repository root:
#   ./scripts/device-deps.sh                     # here, once: fills .device-deps/
#   run(carry=[".device-deps"], timeout_s=600, command="benchmarks/device-run.sh <sha>")
# where <sha> is `git rev-parse HEAD` here, written out (the copy there has no .git).
#
# 1. Prerequisites, in the first seconds, one line and exit 2 for each one missing: the commit
#    (THG_COMMIT, the first argument, or `git rev-parse` where .git exists), a GPU (nvidia-smi),
#    nvcc (PATH or /usr/local/cuda/bin), cmake/ninja/c++/dpkg-deb, the carried .device-deps/
#    (checked against its MANIFEST and SHA256SUMS), python3 with a CUDA torch.
# 2. Stages in order of value, each under its own `timeout`, all under one deadline
#    (THG_DEADLINE_S, default 540 s from the start); a stage that cannot finish before the
#    deadline is skipped, and summary.txt says so: configure (CUDA compiler and arch 90 explicit;
#    stops unless thg_kernels is in the build), build (<= 240 s, -j16, only thg, thg_tests and
#    thg-bench-kernels), GPU tests (THG_REQUIRE_GPU=1: a skip is a failure), compute-sanitizer
#    memcheck and racecheck on the KernelSanitizer tests (small shapes), the kernel benchmark
#    (fp16, then bf16), the UNet C++-vs-Python benchmark (pixel-latent, then sd15), and the bundled
#    model's UNet step per chunk size and attention backend (the end-to-end stand-in: a build
#    without FFmpeg has no generation path, see benchmarks/README.md).
# 3. After every stage, all logs and results are packed again into $OUT/device-results.tar.gz,
#    with $OUT/summary.txt beside it: whatever stops the run, two files come back.
#
# Environment: THG_DEADLINE_S (540), THG_JOBS (16), THG_BUILD_DIR (/tmp/thg-build),
# THG_BUILD_TIMEOUT_S (240), THG_PYTHON3 (python3), THG_REHEARSAL=1 (on a machine without a GPU:
# skips only the GPU presence check and the GPU stages, to rehearse everything else).
# Exit: 0 all stages passed; 1 a stage failed or timed out; 2 a prerequisite is missing; 3 none
# failed but some were skipped for the deadline.
set -uo pipefail
t0=$SECONDS
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${OUT:-$root/out/device-run}
deadline=${THG_DEADLINE_S:-540}
rehearsal=${THG_REHEARSAL:-0}
jobs=${THG_JOBS:-16}
build=${THG_BUILD_DIR:-/tmp/thg-build}
build_timeout=${THG_BUILD_TIMEOUT_S:-240}
py=${THG_PYTHON3:-python3}
deps="$root/.device-deps"
prefix=/tmp/thg-deps      # the carried Debian packages, unpacked (never into /)
pyprefix=/tmp/thg-py      # the carried wheels that python3 lacks
reserve=15                # seconds kept back at the deadline for the last packing

die() { echo "device-run: $*" >&2; exit 2; }
[[ $deadline =~ ^[0-9]+$ ]] || die "THG_DEADLINE_S must be a number of seconds, not '$deadline'"

# ---- 1. prerequisites (each a line and exit 2) --------------------------------------------------
commit=${THG_COMMIT:-${1:-}}
if [[ -z $commit && -e $root/.git ]]; then commit=$(git -C "$root" rev-parse HEAD 2>/dev/null) || commit=; fi
[[ -n $commit ]] || die "no commit: pass it as THG_COMMIT=<sha> or as the first argument (this copy has no .git)"
[[ $commit =~ ^[0-9A-Za-z._+-]+$ ]] || die "commit '$commit' has odd characters"

if [[ $rehearsal == 1 ]]; then
  echo "device-run: REHEARSAL (THG_REHEARSAL=1): no GPU check, GPU stages skipped"
else
  command -v nvidia-smi >/dev/null || die "no nvidia-smi on PATH: not a GPU machine (THG_REHEARSAL=1 rehearses without one)"
  gpus=$(timeout 30 nvidia-smi -L 2>&1) || die "nvidia-smi failed: ${gpus%%$'\n'*}"
  grep -q '^GPU ' <<<"$gpus" || die "nvidia-smi lists no GPU: ${gpus%%$'\n'*}"
fi

nvcc=${THG_NVCC:-$(command -v nvcc || true)}
[[ -z $nvcc && -x /usr/local/cuda/bin/nvcc ]] && nvcc=/usr/local/cuda/bin/nvcc
[[ -n $nvcc && -x $nvcc ]] || die "no nvcc on PATH or in /usr/local/cuda/bin (the kernels cannot be built)"
cuda_bin=$(dirname "$(readlink -f "$nvcc")")
sanitizer=$(command -v compute-sanitizer || true)
for c in "$cuda_bin/compute-sanitizer" "$cuda_bin/../compute-sanitizer/compute-sanitizer"; do
  [[ -z $sanitizer && -x $c ]] && sanitizer=$c
done

for tool in cmake ninja c++ timeout tar gzip sha256sum; do
  command -v "$tool" >/dev/null || die "no $tool on PATH"
done
command -v dpkg-deb >/dev/null || command -v ar >/dev/null || die "neither dpkg-deb nor ar on PATH (to unpack .device-deps/debs)"

[[ -d $deps ]] || die "no .device-deps/: run scripts/device-deps.sh where packages can be downloaded and carry \".device-deps\""
[[ -f $deps/MANIFEST && -f $deps/SHA256SUMS ]] || die ".device-deps/ has no MANIFEST or SHA256SUMS: run scripts/device-deps.sh again"
norm() { local s=${1,,}; s=${s//-/_}; echo "${s//./_}"; }
while read -r kind name; do
  case $kind in
    deb) compgen -G "$deps/debs/${name}_*.deb" >/dev/null || die ".device-deps/ lacks the Debian package $name: run scripts/device-deps.sh again" ;;
    wheel) found=0
      for w in "$deps"/wheels/*.whl; do w=${w##*/}; [[ $(norm "${w%%-*}") == "$(norm "$name")" ]] && found=1; done
      [[ $found == 1 ]] || die ".device-deps/ lacks the wheel $name: run scripts/device-deps.sh again" ;;
    *) die ".device-deps/MANIFEST has an odd line: $kind $name" ;;
  esac
done < "$deps/MANIFEST"
bad=$(cd "$deps" && sha256sum --quiet -c SHA256SUMS 2>&1 | head -1) || die ".device-deps/ is incomplete or damaged (${bad:-checksum mismatch}): carry it again"

py_err=$(mktemp)
torch_info=$(timeout 60 "$py" -c 'import torch, sys
gpu = torch.cuda.is_available() if torch.version.cuda else False
print(torch.__version__, torch.version.cuda or "none", int(gpu), torch.utils.cmake_prefix_path, "%d.%d.%d" % sys.version_info[:3])' 2>"$py_err") \
  || die "$py has no working torch: $(tail -1 "$py_err")"
rm -f "$py_err"
read -r torch_version torch_cuda torch_gpu torch_cmake py_version <<<"${torch_info##*$'\n'}"
[[ $torch_cuda != none ]] || die "$py's torch $torch_version is a CPU build (no CUDA)"
[[ $rehearsal == 1 || $torch_gpu == 1 ]] || die "$py's torch $torch_version sees no GPU (torch.cuda.is_available() is False)"
echo "device-run: prerequisites ok in $((SECONDS - t0)) s (commit $commit, torch $torch_version CUDA $torch_cuda, nvcc $nvcc)"

# ---- staging, packing, stages ---------------------------------------------------------------------
work=$(mktemp -d /tmp/thg-device-run.XXXXXX)
res="$work/device-results"          # the archive's one top folder
mkdir -p "$res/logs" "$res/results" "$out"
summary="$res/summary.txt"
: >"$summary"
failed=0 deadline_skips=0 last=none  # last: the last stage's outcome (ok, failed, skipped)
now() { echo $((SECONDS - t0)); }
note() { echo "$*" | tee -a "$summary"; }

pack() {  # summary.txt and everything staged, as two files under $out (each swapped in whole)
  cp "$summary" "$out/.summary.txt.tmp" && mv -f "$out/.summary.txt.tmp" "$out/summary.txt"
  tar -C "$work" -czf "$out/.device-results.tar.gz.tmp" device-results 2>/dev/null &&
    mv -f "$out/.device-results.tar.gz.tmp" "$out/device-results.tar.gz"
}
trap 'pack' EXIT
finish() {  # the verdict, last line of the summary, and the exit status
  local status=0
  if ((failed)); then status=1; elif ((deadline_skips)); then status=3; fi
  note "done in $(now) s of $deadline, exit $status"
  exit "$status"
}
trap 'note "interrupted at $(now) s"; exit 130' INT TERM

# stage NAME MIN_S MAX_S KIND [NEEDS_FILE...] -- COMMAND...
#   KIND: host (runs in rehearsals too), gpu (skipped in rehearsals), gtest (gpu + at least one test
#   must have run). Skipped when a NEEDS_FILE is missing or fewer than MIN_S seconds are left before
#   the deadline; otherwise runs under `timeout` of min(MAX_S, seconds left). Log: logs/NAME.log.
stage() {
  local name=$1 min=$2 max=$3 kind=$4; shift 4
  local needs=()
  while [[ $1 != -- ]]; do needs+=("$1"); shift; done
  shift
  local log="$res/logs/$name.log" left=$((deadline - $(now) - reserve)) f
  if [[ $kind != host && $rehearsal == 1 ]]; then
    note "$(printf '%-22s SKIPPED  rehearsal (no GPU)' "$name")"; last=skipped; pack; return 0
  fi
  for f in "${needs[@]}"; do
    if [[ ! -e $f ]]; then note "$(printf '%-22s SKIPPED  %s is missing (an earlier stage failed)' "$name" "${f#"$build/"}")"; last=skipped; pack; return 0; fi
  done
  if ((left < min)); then
    note "$(printf '%-22s SKIPPED  deadline: needs >= %d s, %d s left of %d' "$name" "$min" "$((left > 0 ? left : 0))" "$deadline")"
    deadline_skips=$((deadline_skips + 1)); last=skipped; pack; return 0
  fi
  local limit=$((max < left ? max : left)) start=$SECONDS rc
  echo "== $name (limit $limit s, at $(now) s): $*" >"$log"
  timeout -k 10 "$limit" "$@" >>"$log" 2>&1 </dev/null
  rc=$?
  local took=$((SECONDS - start)) verdict
  last=failed
  if ((rc == 124 || rc == 137)); then verdict="TIMEOUT  after $took s (limit $limit s)"; failed=1
  elif ((rc != 0)); then verdict="FAILED   exit $rc after $took s"; failed=1
  elif [[ $kind == gtest ]] && ! grep -q '^\[  PASSED  \] [1-9]' "$log"; then verdict="FAILED   no test ran ($took s)"; failed=1
  else verdict="ok       $took s"; last=ok; fi
  note "$(printf '%-22s %s' "$name" "$verdict")"
  # The lines that say the most, copied into the summary.
  grep -E '^\[  (PASSED|FAILED|SKIPPED) +\]|ERROR SUMMARY|: C\+\+ .* ms/frame|^thg-bench-kernels:|^device-run:|frames/s' "$log" \
    | head -12 | sed 's/^/      /' >>"$summary"
  pack
  return 0
}

# ---- the machine, for the record ----------------------------------------------------------------------
{
  echo "commit:     $commit"
  echo "date:       $(date -u '+%F %T UTC')"
  if [[ $rehearsal == 1 ]]; then echo "gpu:        none (rehearsal)"
  else echo "gpu:        $(timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"; fi
  echo "torch:      $torch_version (CUDA $torch_cuda), Python $py_version ($(command -v "$py"))"
  echo "nvcc:       $("$nvcc" --version | grep -o 'release .*') ($nvcc)"
  echo "sanitizer:  ${sanitizer:-none}"
  echo "cmake:      $(cmake --version | head -1); ninja $(ninja --version); $(c++ --version | head -1)"
  echo "cores:      $(nproc); deadline $deadline s; rehearsal $rehearsal"
} >"$res/machine.txt"
{ echo "THG device run"; cat "$res/machine.txt"; echo; } >"$summary"
if [[ $rehearsal != 1 ]]; then timeout 30 nvidia-smi >"$res/logs/nvidia-smi.txt" 2>&1; fi
pack

# ---- setup: the carried packages ------------------------------------------------------------------------
# These two run as stages (under `timeout`, through bash -c and declare -f).
# shellcheck disable=SC2317
unpack_debs() {
  rm -rf "$prefix" && mkdir -p "$prefix" || return 1
  local deb member
  for deb in "$deps"/debs/*.deb; do
    if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$deb" "$prefix" || return 1
    else
      member=$(ar t "$deb" | grep '^data\.tar') && ar p "$deb" "$member" | tar -xa -C "$prefix" -f - || return 1
    fi
  done
  echo "unpacked the packages of $deps/debs into $prefix"
}
# shellcheck disable=SC2317
install_wheels() {  # only the wheels whose module $py lacks (its own versions win)
  rm -rf "$pyprefix" && mkdir -p "$pyprefix" || return 1
  local w mod missing=() absent
  declare -A wheel_of=()
  for w in "$deps"/wheels/*.whl; do mod=${w##*/} mod=${mod%%-*}; wheel_of[$mod]=$w; done
  # One interpreter start for all: find_spec finds a module without importing it.
  absent=$("$py" -c 'import importlib.util, sys
print(" ".join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))' "${!wheel_of[@]}") || return 1
  echo "$py lacks: ${absent:-nothing}"
  for mod in $absent; do missing+=("${wheel_of[$mod]}"); done
  ((${#missing[@]} == 0)) ||
    "$py" -m pip install --quiet --no-index --no-deps --no-compile --target "$pyprefix" "${missing[@]}" || return 1
  # The classes the reference builds, imported for real (diffusers imports lazily): a version clash
  # with the machine's own packages shows here, with its message, not inside a benchmark.
  PYTHONPATH="$pyprefix${PYTHONPATH:+:$PYTHONPATH}" "$py" -c 'import diffusers, yaml, safetensors
from diffusers import UNet2DConditionModel, AutoencoderKL
print("diffusers", diffusers.__version__)'
}
export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$cuda_bin:$PATH"
export TORCH_CUDA_ARCH_LIST=9.0 PYTHONUNBUFFERED=1
stage unpack-debs 5 60 host -- bash -c "$(declare -f unpack_debs); deps='$deps' prefix='$prefix' unpack_debs"

# ---- configure and build ------------------------------------------------------------------------------
stage configure 10 120 host -- cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DTHG_WITH_FFMPEG=OFF -DTHG_WITH_CUDA_KERNELS=ON -DTHG_PYTHON= \
  -DCMAKE_CUDA_COMPILER="$nvcc" -DCUDAToolkit_ROOT="$(dirname "$cuda_bin")" -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DCMAKE_PREFIX_PATH="$torch_cmake;$prefix/usr"
cp "$build/CMakeCache.txt" "$res/logs/CMakeCache.txt" 2>/dev/null
if [[ $last != ok ]]; then note "STOPPED: configure $last: nothing to build"; finish; fi
# Configure drops kernels/ silently when it finds no CUDA compiler: then nothing below means anything.
if ! grep -q 'libthg_kernels\.a' "$build/build.ninja" 2>/dev/null ||
   ! grep -q -- '-DTHG_HAVE_CUDA_KERNELS=1' "$build/build.ninja"; then
  note "STOPPED: thg_kernels is not part of the build (THG_HAVE_CUDA_KERNELS off: see logs/configure.log)"
  failed=1; finish
fi
note "$(printf '%-22s %s' kernels-in-build 'ok       thg_kernels and THG_HAVE_CUDA_KERNELS=1 in build.ninja')"
# The tests first (thg comes with them), then the benchmark: a build cut short still tests.
stage build 30 "$build_timeout" host -- bash -c "cmake --build '$build' -j$jobs --target thg_tests thg && cmake --build '$build' -j$jobs --target thg-bench-kernels"
cp "$build/.ninja_log" "$res/logs/ninja_log.txt" 2>/dev/null
stage python-deps 5 60 host -- bash -c "$(declare -f install_wheels); deps='$deps' pyprefix='$pyprefix' py='$py' install_wheels"
export PYTHONPATH="$pyprefix${PYTHONPATH:+:$PYTHONPATH}"

tests="$build/tests/thg_tests" thg="$build/apps/thg" bench="$build/benchmarks/thg-bench-kernels"
export THG_REQUIRE_GPU=1
# ---- GPU stages, in order of value -----------------------------------------------------------------------
stage gpu-tests 20 120 gtest "$tests" -- "$tests" --gtest_color=no \
  --gtest_filter='FusedKernelsGpu.*:Pixels.Cuda*:*Gpu*:*CudaVsCpu*:KernelSanitizer.*' \
  --gtest_output="xml:$res/results/gpu-tests.xml"
if [[ -n $sanitizer || $rehearsal == 1 ]]; then
  for tool in memcheck racecheck; do
    stage "$tool" 30 90 gtest "$tests" -- env PYTORCH_NO_CUDA_MEMORY_CACHING=1 \
      "$sanitizer" --tool "$tool" --error-exitcode 9 "$tests" --gtest_color=no --gtest_filter='KernelSanitizer.*'
  done
else
  note "$(printf '%-22s SKIPPED  no compute-sanitizer next to nvcc or on PATH' memcheck/racecheck)"
fi
for dtype in fp16 bf16; do
  stage "bench-kernels-$dtype" 30 100 gpu "$bench" -- "$bench" --root "$root" --out "$res/results" \
    --commit "$commit" --dtype "$dtype" --configs pixel-latent,sd15
done
# unet_forward.py reads the commit with `git rev-parse`: this copy has no .git, so a stand-in git
# answers with the commit passed in.
shim="$work/bin"
mkdir -p "$shim"
printf '#!/bin/sh\ncase "$*" in *rev-parse*) echo %s; exit 0;; esac\nexit 1\n' "${commit:0:12}" >"$shim/git"
chmod +x "$shim/git"
git_path=$PATH
git -C "$root" rev-parse HEAD >/dev/null 2>&1 || git_path="$shim:$PATH"
for config in pixel-latent sd15; do  # one run each: unet_forward.py writes only at its end
  stage "bench-unet-$config" 30 100 gpu "$thg" -- env PATH="$git_path" "$py" "$root/benchmarks/unet_forward.py" \
    --thg "$thg" --device cuda --dtype float16 --configs "$config" --results "$res/results/unet_forward_$config"
done
# End to end without FFmpeg: decoded (synthetic) portrait and 20 s of speech-like audio -> RGB
# frames on the host, with the pixel-latent model's defaults; then its UNet step per chunk size and backend.
for dtype in float16 float32; do
  stage "bench-e2e-$dtype" 20 90 gpu "$thg" -- "$thg" bench e2e --weights "$root/weights/pixel-latent.safetensors" \
    --device cuda --dtype "$dtype" --seconds 20 \
    --repeats 3 --out "$res/results/bench_e2e_$dtype" -q
done
# The motion-warp model (weights/motion.safetensors): motion diffusion + the warp renderer at 384 px.
for dtype in float16 float32; do
  stage "bench-e2e-motion-$dtype" 20 90 gpu "$thg" -- "$thg" bench e2e --weights "$root/weights/motion.safetensors" \
    --device cuda --dtype "$dtype" --seconds 20 --repeats 3 --out "$res/results/bench_e2e_motion_$dtype" -q
done
stage bench-unet-bundled 20 90 gpu "$thg" -- "$thg" bench unet --device cuda --dtype float16 \
  --frames 1,8,16,24 --backends sdpa,fused,auto --repeats 10 --out "$res/results/bench_unet_bundled" -q

finish
