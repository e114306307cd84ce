#include "nn/fused_applicability.h"

#include "fused_plan.h"  // kernels/: plain C++, the tiling rules the kernels follow

namespace thg::nn {

namespace {
bool half_type(c10::ScalarType t) { return t == c10::ScalarType::Half || t == c10::ScalarType::BFloat16; }
}  // namespace

const char* attention_unavailable(const OperandFacts& q, const OperandFacts& k, const OperandFacts& v) {
  if (!q.on_cuda || !k.on_cuda || !v.on_cuda) return "tensors are not on a CUDA device";
  if (k.device != q.device || v.device != q.device) return "q, k and v are on different devices";
  if (!half_type(q.dtype)) return "dtype is not fp16 or bf16";
  if (k.dtype != q.dtype || v.dtype != q.dtype) return "q, k and v dtypes differ";
  if (q.sizes.size() != 4 || k.sizes.size() != 4 || v.sizes.size() != 4) return "tensors are not [B, H, L, D]";
  if (k.sizes != v.sizes) return "k and v shapes differ";
  if (k.sizes[0] != q.sizes[0] || k.sizes[1] != q.sizes[1] || k.sizes[3] != q.sizes[3])
    return "k and v do not match q's batch, heads and head dim";
  if (!kernels::plan_attention(q.sizes[3], q.sizes[2], k.sizes[2]).supported)
    return "the head dim is not a multiple of 8 up to 160, or a sequence is empty";
  if (q.sizes[0] * q.sizes[1] > kMaxInt32 || k.sizes[2] > kMaxInt32) return "batch x heads or keys exceed 2^31";
  if (q.sizes[2] > kMaxAttentionQueryLen) return "more queries than the kernel's grid can hold";
  if (q.needs_grad || k.needs_grad || v.needs_grad) return "gradients are needed (the kernel is forward-only)";
  return nullptr;
}

const char* group_norm_unavailable(const OperandFacts& x, const OperandFacts& weight, const OperandFacts& bias,
                                   int64_t groups) {
  if (!x.on_cuda) return "the tensor is not on a CUDA device";
  if (!weight.on_cuda || !bias.on_cuda || weight.device != x.device || bias.device != x.device)
    return "weight or bias is not on the tensor's device";
  const c10::ScalarType t = x.dtype;
  if (t != c10::ScalarType::Float && !half_type(t)) return "dtype is not fp32, fp16 or bf16";
  if (weight.dtype != bias.dtype) return "weight and bias dtypes differ";
  if (weight.dtype != t && weight.dtype != c10::ScalarType::Float) return "weight dtype is neither the tensor's nor fp32";
  if (x.sizes.size() < 2) return "the tensor is not [N, C, ...]";
  if (groups <= 0) return "groups must be positive";
  if (x.sizes[1] % groups != 0) return "channels not divisible by groups";
  if (weight.sizes.size() != 1 || bias.sizes.size() != 1 || weight.sizes[0] != x.sizes[1] || bias.sizes[0] != x.sizes[1])
    return "weight and bias are not [C]";
  if (!weight.contiguous || !bias.contiguous) return "weight or bias is not contiguous";
  if (x.sizes[0] * groups > kMaxGridY) return "N x groups exceeds the kernel's grid (65535)";
  if (x.needs_grad || weight.needs_grad || bias.needs_grad) return "gradients are needed (the kernel is forward-only)";
  return nullptr;
}

}  // namespace thg::nn
