#pragma once
// thg-train's two stages, on the same lib/model code that inference runs:
//  1. the autoencoder (reconstruction + a small KL, mouth-weighted), then its latent scale is
//     measured and stored in the model config (as Stable Diffusion's scaling factor was);
//  2. the UNet with the audio and reference encoders (noise prediction on groups of consecutive
//     frames, with condition dropout for classifier-free guidance), the autoencoder frozen, and an
//     EMA of the weights that is what gets saved.
// Each stage checkpoints every `checkpoint_every` steps (weights, optimizer moments, EMA, step) and
// resumes from its checkpoint; batches and noise are drawn from (seed, stage, step), so a resumed
// run continues exactly as an uninterrupted one would.
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <filesystem>
#include <functional>
#include <string>

#include "train/recipe.h"

namespace thg::train {

struct TrainOptions {
  Recipe recipe;
  std::filesystem::path dataset;   // the train.jsonl of a thg-synth dataset
  std::filesystem::path out;       // run folder: checkpoints, stage results, log
  c10::Device device = c10::kCPU;
  bool resume = true;              // continue from checkpoints in `out`
  int64_t max_steps_this_run = 0;  // > 0: stop (with a checkpoint) after this many steps, for time-boxed sessions
  // Every step draws step 0's batch, noise and timesteps: the classic "overfit one batch" check
  // that the optimiser, gradients and loss are wired right (the loss must collapse).
  bool repeat_first_batch = false;
  // Called after each optimiser step with (step number from 1, that step's loss): for tests,
  // dashboards and embedders that want the curve rather than the log line.
  std::function<void(int64_t step, double loss)> on_step;
};

// Paths inside a run folder.
std::filesystem::path stage_checkpoint(const std::filesystem::path& out, const std::string& stage);
std::filesystem::path stage_result(const std::filesystem::path& out, const std::string& stage);

// Writes the trained model (the unet stage's result) to `path` in `dtype`, with the sampling
// settings of the recipe's model config (its generation defaults: sampler, steps, guidance; and the
// scheduler's timestep spacing), which are not learned and can be tuned after training; the noise
// schedule itself stays the trained one, and the chunk length is the UNet's training group length
// (unet.frames).
void export_model(const std::filesystem::path& out, const Recipe& recipe, const std::filesystem::path& path,
                  c10::ScalarType dtype);

// Runs a stage ("vae" or "unet") to completion or to max_steps_this_run. Returns true when the
// stage is complete (its result file written).
bool run_stage(const TrainOptions& options, const std::string& stage);

}  // namespace thg::train
