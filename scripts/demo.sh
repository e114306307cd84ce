#!/usr/bin/env bash
# README command (a): installs what is missing, builds, and makes out/demo.mp4 from a real
# public-domain photo (examples/astronaut.png, see examples/README.md) and the bundled speech with
# the default model, motion-warp (weights/motion.safetensors, weights/MOTION.md): the face is found,
# its motion generated from the speech and rendered by warping the photo's own pixels, and pasted
# back into the whole photo.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$THG_ROOT/scripts/build.sh"
mkdir -p "$THG_ROOT/out"
"$THG_BUILD_DIR/apps/thg" generate --portrait "$THG_ROOT/examples/astronaut.png" \
  --audio "$THG_ROOT/examples/speech.wav" --output "$THG_ROOT/out/demo.mp4" "$@"
