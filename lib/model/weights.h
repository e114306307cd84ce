#pragma once
// Strict loading of a module's parameters from a safetensors file: every missing, unexpected or
// mis-shaped tensor is reported in one error, by name and shape.
#include <filesystem>
#include <set>
#include <string>

#include "io/safetensors.h"
#include "model/family.h"
#include "nn/module.h"

namespace thg::model {

// Loads the tensors named `prefix + parameter name` into `module` (cast to each parameter's dtype
// and device). Tensors in the file outside `prefix` are ignored; inside it they must all match.
void load_parameters(nn::Module& module, const io::SafetensorsFile& file, const std::string& prefix);

// THG model files (any family): safetensors whose metadata holds thg.format and the config YAML.
// The embedded config of `file` (opened from `path`), checked; throws Error::input naming the file.
ModelConfig model_file_config(const io::SafetensorsFile& file, const std::filesystem::path& path);
// Refuses a file holding tensors outside the family's `parts` (the first name component).
void check_model_file_parts(const io::SafetensorsFile& file, const std::filesystem::path& path,
                            const std::set<std::string>& parts);
// Writes every parameter of `model` as `dtype`, with its config, as a THG model file.
void save_model_file(ModelFamily& model, const std::filesystem::path& path, c10::ScalarType dtype);

}  // namespace thg::model
