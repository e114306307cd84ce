#!/usr/bin/env bash
# Reproduces the shipped default model from scratch: builds THG, makes the synthetic dataset
# (thg-synth), trains it with configs/train/default-cpu.yaml (thg-train; resumable: rerun after an
# interruption), exports weights/default.safetensors (fp16) and evaluates it on held-out clips.
# On the 2-core CPU this takes about 2 hours; extra arguments go to thg-train (e.g. --device cuda).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$THG_ROOT/scripts/build.sh"
bin="$THG_BUILD_DIR/apps"
data="$THG_ROOT/data/synth"
run="$THG_ROOT/runs/default-cpu"
# 2000 training clips (the CPU recipe uses the first 200; GPU recipes use more) + 120 held out.
"$bin/thg-synth" --out "$data" --train-clips 2000 --test-clips 120 --seed 1
"$bin/thg-train" --recipe "$THG_ROOT/configs/train/default-cpu.yaml" --dataset "$data/train.jsonl" --out "$run" \
  --export "$THG_ROOT/weights/default.safetensors" "$@"
"$bin/thg" evaluate --dataset "$data/test.jsonl" --out "$run/eval" --clips 12 \
  --weights "$THG_ROOT/weights/default.safetensors"
