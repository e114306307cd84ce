#pragma once
// Choosing and loading the model a command runs: an explicit weights file, or the bundled default
// (which, until trained weights ship, is a seeded random initialisation, announced by a warning).
#include <filesystem>
#include <memory>
#include <string>

#include "model/family.h"

namespace thg::pipeline {

struct ModelSource {
  std::filesystem::path weights;  // empty: the bundled default
  std::filesystem::path config;   // only for random initialisation when no weights exist
  std::string device = "auto";
  std::string dtype = "float32";  // float32 | float16 | bfloat16
  uint64_t init_seed = 0;
};

struct LoadedModel {
  std::unique_ptr<model::ModelFamily> model;
  bool random_weights = false;
  std::filesystem::path weights;  // the file loaded (empty for a random initialisation)
  std::string description;  // which file(s) it came from
};

LoadedModel load_model(const ModelSource& source);

}  // namespace thg::pipeline
