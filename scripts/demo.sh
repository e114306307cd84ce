#!/usr/bin/env bash
# README command (a): installs what is missing, builds, and makes out/demo.mp4 from the bundled
# portrait and speech with the bundled default model.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$THG_ROOT/scripts/build.sh"
mkdir -p "$THG_ROOT/out"
"$THG_BUILD_DIR/apps/thg" generate --portrait "$THG_ROOT/examples/portrait.png" \
  --audio "$THG_ROOT/examples/speech.wav" --output "$THG_ROOT/out/demo.mp4" "$@"
