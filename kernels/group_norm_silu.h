#pragma once
// THG's fused GroupNorm (+ optional SiLU) on CUDA: statistics reduced by several blocks per
// group (so a batch of one fills the GPU), then normalise + affine + SiLU in one pass, instead of
// PyTorch's group_norm followed by a separate silu kernel. The CPU reference is
// at::group_norm + at::silu (lib/nn/layers.cpp).
#include <ATen/core/Tensor.h>

namespace thg::kernels {

// x [N, C, ...] (any trailing dims; made contiguous), weight and bias [C] in x's dtype or fp32;
// C divisible by `groups`. fp32, fp16 or bf16. Statistics in fp32, biased variance (as PyTorch).
at::Tensor group_norm_silu_cuda(const at::Tensor& x, int64_t groups, const at::Tensor& weight, const at::Tensor& bias,
                                double eps, bool apply_silu);

}  // namespace thg::kernels
