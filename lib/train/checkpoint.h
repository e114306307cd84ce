#pragma once
// Training checkpoints: one safetensors file with the model ("model.*"), the optimizer moments
// ("adam.*"), the EMA weights ("ema.*"), the objective's own training-only
// parameters ("objective.*") and, in its metadata, the stage, the step and the model config.
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "model/talking_head.h"
#include "train/adamw.h"

namespace thg::train {

struct CheckpointState {
  std::string stage;
  int64_t step = 0;
  std::vector<std::pair<std::string, at::Tensor>> optimizer, ema, objective;
};

void save_checkpoint(const std::filesystem::path& path, model::ModelFamily& model, const CheckpointState& state);

// Loads weights into `model` (same config required) and returns the optimizer, EMA and objective state.
CheckpointState load_checkpoint(const std::filesystem::path& path, model::ModelFamily& model);

}  // namespace thg::train
