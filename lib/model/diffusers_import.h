#pragma once
// Importing diffusers checkpoints (a model folder with config.json and
// diffusion_pytorch_model.safetensors) into one THG "parts" file: tensors prefixed by part
// ("unet.", "vae."), each part's config stored as YAML metadata. Every tensor is checked against
// the module built from the config (strict loading), so a file that converts also loads.
#include <filesystem>
#include <string>

namespace thg::model {

struct DiffusersImport {
  std::filesystem::path unet_dir;  // empty: none
  std::filesystem::path vae_dir;   // empty: none
  std::filesystem::path output;
  std::string dtype = "float16";   // float32 | float16 | bfloat16
};

struct DiffusersImportResult {
  int64_t tensors = 0;
  int64_t parameters = 0;
};

DiffusersImportResult import_diffusers(const DiffusersImport& options);

}  // namespace thg::model
