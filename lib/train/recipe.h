#pragma once
// A training recipe (configs/train/*.yaml): which model, which data, and the two stages'
// hyper-parameters. Everything that decides the result is here, so a recipe + its seed
// reproduces a model.
#include <cstdint>
#include <filesystem>
#include <string>

#include "model/config.h"

namespace thg::train {

struct StageOptions {
  int64_t steps = 1000;
  int64_t batch = 8;          // VAE: images per step; UNet: groups of `frames` frames
  int64_t frames = 8;         // UNet: consecutive frames per group (temporal attention)
  double lr = 2e-4;
  int64_t warmup = 100;       // linear warm-up steps, then cosine decay to lr/10
  double weight_decay = 0.01;
  double mouth_weight = 4.0;  // loss weight inside the mouth box (1: uniform)
  double kl_weight = 1e-6;    // VAE only
  int64_t crop = 0;           // VAE only: train on crops of this size (0: whole frames), half of them on the mouth
  double drop_all = 0.05;     // UNet: both conditions dropped (classifier-free guidance)
  double drop_audio = 0.1;    // UNet: audio dropped, reference kept
  double ema_decay = 0.999;   // UNet
  // UNet: weight of an auxiliary loss in which a linear probe on the frame's audio tokens predicts
  // its mouth shape (mouth.csv: open, width, round, teeth, tongue). The probe exists only in
  // training; it makes the audio encoder carry what moves the mouth from the first step, instead of
  // waiting for the denoising loss to discover it through the UNet's cross-attention. 0: off.
  double mouth_probe = 0.0;
};

struct Recipe {
  std::filesystem::path source;        // the recipe file
  model::ModelConfig model;
  std::string model_config_text;       // the model YAML as written
  uint64_t seed = 1;
  int64_t max_clips = 0;               // 0: all training clips
  int64_t checkpoint_every = 200;      // steps
  int64_t log_every = 20;
  // Warm start (`init:`, relative to the recipe file): a trained THG model file whose weights
  // (autoencoder with its latent scale, encoders, UNet) the unet stage starts from, with a fresh
  // optimiser and learning-rate schedule; the vae stage is then skipped. Lets a recipe continue a
  // finished run for more steps, which resuming cannot (the schedule depends on `steps`). Empty: none.
  std::filesystem::path init;
  StageOptions vae, unet;
  StageOptions motion;  // the motion-warp family's one stage (train/motion_trainer.h)
};

// Reads a recipe; `model:` is a path relative to the recipe file. Throws Error::input.
Recipe load_recipe(const std::filesystem::path& path);

// Learning rate at `step` (0-based) of a stage.
double learning_rate(const StageOptions& stage, int64_t step);

}  // namespace thg::train
