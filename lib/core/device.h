#pragma once
// Choosing where the model runs: "auto" (CUDA when present), "cpu", "cuda", "cuda:N".
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <string>

namespace thg {

// Throws Error::input for an unknown name or a CUDA device that is not present.
c10::Device select_device(const std::string& name);
bool cuda_available();
// "float32" | "float16" | "bfloat16" (or fp32 / fp16 / bf16); throws Error::input listing them.
c10::ScalarType parse_dtype(const std::string& name);

}  // namespace thg
