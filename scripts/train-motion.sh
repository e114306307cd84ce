#!/usr/bin/env bash
# Reproduces weights/motion.safetensors (the motion-warp model, issue 22) from scratch: builds THG,
# makes a motion-only synthetic dataset (speech + exact motion tracks, no video: ~20 s), trains it
# with configs/train/motion-cpu.yaml (resumable: rerun after an interruption; about 20 min on 2
# uncontended cores) and exports the fp16 weights. Extra arguments go to thg-train (--device cuda).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$THG_ROOT/scripts/build.sh"
bin="$THG_BUILD_DIR/apps"
data="$THG_ROOT/data/motion-synth"
"$bin/thg-synth" --out "$data" --train-clips 4000 --test-clips 200 --seed 1 --no-video
"$bin/thg-train" --recipe "$THG_ROOT/configs/train/motion-cpu.yaml" --dataset "$data/train.jsonl" \
  --out "$THG_ROOT/runs/motion-cpu" --export "$THG_ROOT/weights/motion.safetensors" "$@"
