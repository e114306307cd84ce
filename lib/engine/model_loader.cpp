#include "engine/model_loader.h"

#include <ATen/ATen.h>

#include "core/device.h"
#include "core/error.h"
#include "core/log.h"
#include "model/talking_head.h"

namespace thg::pipeline {

LoadedModel load_model(const ModelSource& source) {
  const c10::Device device = select_device(source.device);
  const c10::ScalarType dtype = parse_dtype(source.dtype);
  if (device.is_cpu() && dtype == at::kHalf)
    throw Error::input("", "--dtype float16 is not supported on the CPU (use float32 or bfloat16)");

  LoadedModel loaded;
  // An explicit --weights wins; an explicit --config means "random init of this architecture";
  // otherwise the bundled default: its weights when present, else a random init of its config.
  std::filesystem::path weights = source.weights;
  std::filesystem::path config = source.config;
  if (weights.empty() && config.empty()) {
    model::DefaultModelPaths paths = model::default_model_paths();
    std::error_code ec;
    if (std::filesystem::exists(paths.weights, ec)) weights = paths.weights;
    else config = paths.config;
  }
  if (!weights.empty()) {
    loaded.model = model::load_model_file(weights);
    loaded.description = weights.string();
    loaded.weights = weights;
  } else {
    loaded.model = model::random_model(model::load_model_config(config), source.init_seed);
    loaded.random_weights = true;
    loaded.description = config.string() + " (random init)";
    log::warn("no trained weights: using a seeded random initialisation of " + config.string() +
              "; the video will not resemble the portrait until trained weights are used");
  }
  loaded.model->to(device, dtype);
  // Inference runs the same convolution shapes for every step and chunk: let cuDNN time its
  // algorithms once per shape and keep the fastest (the first step pays for it).
  if (device.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);
  return loaded;
}

}  // namespace thg::pipeline
