#pragma once
// Whether THG's fused CUDA kernels can run on given operands, decided from plain facts about the
// tensors (device, dtype, sizes, layout) rather than from the tensors themselves, so that every
// condition the kernels enforce is checked here first and tested on machines without a GPU.
// `auto` asks on every call: a "no" must cost nothing and must never reach a kernel that would
// throw on a user's GPU. nullptr means "can run"; otherwise a static reason (no allocation).
#include <c10/core/ScalarType.h>
#include <c10/util/ArrayRef.h>

#include <cstdint>

namespace thg::nn {

struct OperandFacts {
  bool on_cuda = false;
  int device = -1;                      // CUDA device index (on_cuda only)
  c10::ScalarType dtype = c10::ScalarType::Float;
  c10::IntArrayRef sizes;               // non-owning: the tensor's (or the test's) sizes
  bool contiguous = false;
  bool needs_grad = false;              // autograd wants gradients through it
};

// The kernels' launch limits, shared with kernels/ (they check the same numbers).
inline constexpr int64_t kMaxGridY = 65535;           // CUDA's limit on gridDim.y
inline constexpr int64_t kMaxAttentionQueryLen = kMaxGridY * 16;  // query tiles of >= 16 rows on grid y
inline constexpr int64_t kMaxInt32 = 2147483647;

// flash attention: q [B,H,Lq,D], k and v [B,H,Lk,D] (any strides; the last dim is made contiguous).
const char* attention_unavailable(const OperandFacts& q, const OperandFacts& k, const OperandFacts& v);

// GroupNorm (+SiLU): x [N,C,...] (made contiguous), weight and bias [C] contiguous, one dtype
// (x's or fp32), on x's device.
const char* group_norm_unavailable(const OperandFacts& x, const OperandFacts& weight, const OperandFacts& bias,
                                   int64_t groups);

}  // namespace thg::nn
