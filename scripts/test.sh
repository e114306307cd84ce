#!/usr/bin/env bash
# README command (b): installs what is missing, builds, and runs every test.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$THG_ROOT/scripts/build.sh"
ctest --test-dir "$THG_BUILD_DIR" --output-on-failure -j"$(nproc)" "$@"
