#pragma once
// CUDA entry point: float frames [N, 3, H, W] in [0, 1] -> uint8 [N, H, W, 3] (rounded, clamped),
// one fused pass instead of clamp/mul/round/permute/contiguous/cast on the GPU, so that only
// the final bytes cross to the host. The CPU reference is thg::frames_to_rgb8 in lib/core.
#include <ATen/core/Tensor.h>

namespace thg::kernels {

at::Tensor frames_to_rgb8_cuda(const at::Tensor& frames);

}  // namespace thg::kernels
