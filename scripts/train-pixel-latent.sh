#!/usr/bin/env bash
# Reproduces the shipped default model from scratch: builds THG, makes the synthetic dataset
# (thg-synth), trains it with configs/train/pixel-latent-cpu.yaml and then continues that run with
# configs/train/pixel-latent-cpu-continue.yaml (thg-train; resumable: rerun after an interruption),
# exports weights/pixel-latent.safetensors (fp16) and evaluates it on held-out clips.
# On the 2-core CPU this takes about 3 hours (2 h + 1 h); extra arguments go to thg-train (e.g. --device cuda).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$THG_ROOT/scripts/build.sh"
bin="$THG_BUILD_DIR/apps"
data="$THG_ROOT/data/synth"
run="$THG_ROOT/runs/pixel-latent-cpu"
more="$THG_ROOT/runs/pixel-latent-cpu-continue"
# 2000 training clips (the CPU recipes use the first 200/300; GPU recipes use more) + 120 held out.
"$bin/thg-synth" --out "$data" --train-clips 2000 --test-clips 120 --seed 1
"$bin/thg-train" --recipe "$THG_ROOT/configs/train/pixel-latent-cpu.yaml" --dataset "$data/train.jsonl" --out "$run" "$@"
# The continuation's recipe names $run/unet.safetensors as its init model.
"$bin/thg-train" --recipe "$THG_ROOT/configs/train/pixel-latent-cpu-continue.yaml" --dataset "$data/train.jsonl" \
  --out "$more" --export "$THG_ROOT/weights/pixel-latent.safetensors" "$@"
"$bin/thg" evaluate --dataset "$data/test.jsonl" --out "$run/eval" --clips 12 \
  --weights "$THG_ROOT/weights/pixel-latent.safetensors"
