#pragma once
// THG's fused attention forward on CUDA: softmax(q k^T / sqrt(d)) v in one kernel (tiled, online
// softmax, tensor cores, fp32 accumulation), never materialising the score matrix. The CPU
// reference is the `math` backend in lib/nn/attention.cpp; kernels/fused_plan.h says which shapes
// run.
#include <ATen/core/Tensor.h>

namespace thg::kernels {

// q [B, H, Lq, D], k and v [B, H, Lk, D]: one CUDA device, one dtype (fp16 or bf16), the last
// dimension contiguous, D a multiple of 8 up to 160. Any other strides are read as they are.
// Writes into `out` ([B, H, Lq, D], last dimension contiguous).
void flash_attention_cuda(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, at::Tensor& out);

// As above; `out` is allocated in [B, Lq, H, D] storage (returned as a [B, H, Lq, D] view), the
// layout the attention module's output projection reads, so no transpose copy follows.
at::Tensor flash_attention_cuda(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

}  // namespace thg::kernels
