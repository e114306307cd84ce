#pragma once
// Converting model output to bytes for the encoder.
#include <ATen/core/Tensor.h>

namespace thg {

// float [N, 3, H, W] in [0, 1] (any device, float/half/bfloat16) -> CPU uint8 [N, H, W, 3],
// clamped and rounded to nearest. Uses the fused CUDA kernel for CUDA tensors when built.
at::Tensor frames_to_rgb8(const at::Tensor& frames);

}  // namespace thg
