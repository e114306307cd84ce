#pragma once
// Strict loading of a module's parameters from a safetensors file: every missing, unexpected or
// mis-shaped tensor is reported in one error, by name and shape.
#include <string>

#include "io/safetensors.h"
#include "nn/module.h"

namespace thg::model {

// Loads the tensors named `prefix + parameter name` into `module` (cast to each parameter's dtype
// and device). Tensors in the file outside `prefix` are ignored; inside it they must all match.
void load_parameters(nn::Module& module, const io::SafetensorsFile& file, const std::string& prefix);

}  // namespace thg::model
