#!/usr/bin/env bash
# Installs what is missing, configures (once) and builds THG into $THG_BUILD_DIR (default ./build).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$THG_ROOT/scripts/setup.sh"
start=$(date +%s)
if [ ! -f "$THG_BUILD_DIR/build.ninja" ]; then
  mkdir -p "$THG_BUILD_DIR"
  torch_prefix=$("$THG_VENV/bin/python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
  cmake -S "$THG_ROOT" -B "$THG_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$torch_prefix" -DPython3_EXECUTABLE="$THG_VENV/bin/python" "$@" >"$THG_BUILD_DIR/configure.log" 2>&1 \
    || { cat "$THG_BUILD_DIR/configure.log" >&2; exit 1; }
fi
cmake --build "$THG_BUILD_DIR" -j"$(nproc)"
echo "build: done in $(( $(date +%s) - start )) s ($THG_BUILD_DIR)" >&2
