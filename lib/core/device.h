#pragma once
// Choosing where the model runs: "auto" (CUDA when present), "cpu", "cuda", "cuda:N".
#include <c10/core/Device.h>
#include <string>

namespace thg {

// Throws Error::input for an unknown name or a CUDA device that is not present.
c10::Device select_device(const std::string& name);
bool cuda_available();

}  // namespace thg
