#pragma once
// The one place lib/ meets kernels/: whether THG's fused CUDA kernels apply to given tensors, and
// calling them. Builds without CUDA kernels compile this file too: every check then says why not.
#include <ATen/core/Tensor.h>

#include <memory>

#include "nn/kernel_choice.h"


namespace thg::nn {

bool fused_kernels_built();

// nullptr when flash_attention_cuda can run q [B,H,Lq,D], k/v [B,H,Lk,D]; otherwise the reason,
// for the error a user sees when they asked for `fused`. Static text: `auto` asks on every
// attention call, CPU runs included, so the answer must not allocate.
const char* fused_attention_unavailable(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);
at::Tensor fused_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

const char* fused_group_norm_unavailable(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                         int64_t groups);
at::Tensor fused_group_norm(const at::Tensor& x, int64_t groups, const at::Tensor& weight, const at::Tensor& bias,
                            double eps, bool apply_silu);

// The timer for `auto`'s measurements of work on `t`'s device: CUDA events on its current stream
// where CUDA kernels are built and `t` is on a GPU, the host clock otherwise.
std::unique_ptr<KernelTimer> device_timer(const at::Tensor& t);

}  // namespace thg::nn
