#include "flash_attention.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAGuard.h>

#include <cmath>
#include <cstdint>

#include "flash_attention.cuh"

namespace thg::kernels {

namespace {

void check_inputs(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& out) {
  TORCH_CHECK(q.is_cuda() && k.device() == q.device() && v.device() == q.device() && out.device() == q.device(),
              "flash_attention_cuda: q, k, v and out must be on one CUDA device");
  TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4 && out.dim() == 4, "flash_attention_cuda: need 4-d [B,H,L,D] tensors");
  TORCH_CHECK(q.scalar_type() == k.scalar_type() && q.scalar_type() == v.scalar_type() && q.scalar_type() == out.scalar_type(),
              "flash_attention_cuda: q, k, v and out must share one dtype");
  TORCH_CHECK(q.scalar_type() == at::kHalf || q.scalar_type() == at::kBFloat16, "flash_attention_cuda: fp16 or bf16 only, got ",
              q.scalar_type());
  TORCH_CHECK(k.sizes() == v.sizes() && k.size(0) == q.size(0) && k.size(1) == q.size(1) && k.size(3) == q.size(3),
              "flash_attention_cuda: k and v must be [B,H,Lk,D] with q's B, H and D");
  TORCH_CHECK(out.sizes() == q.sizes(), "flash_attention_cuda: out must have q's shape");
  for (const at::Tensor* t : {&q, &k, &v, &out})
    TORCH_CHECK(t->stride(3) == 1, "flash_attention_cuda: the last dimension must be contiguous");
  TORCH_CHECK(q.size(2) <= INT32_MAX && k.size(2) <= INT32_MAX && q.size(0) * q.size(1) <= INT32_MAX &&
                  (q.size(2) + 15) / 16 <= 65535,
              "flash_attention_cuda: sequence or batch too long");
}

bool aligned16(const at::Tensor& t) {
  return reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0 && t.stride(0) % 8 == 0 && t.stride(1) % 8 == 0 &&
         t.stride(2) % 8 == 0;
}

void strides_of(const at::Tensor& t, int64_t (&s)[3]) {
  for (int i = 0; i < 3; ++i) s[i] = t.stride(i);
}

}  // namespace

void flash_attention_cuda(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, at::Tensor& out) {
  check_inputs(q, k, v, out);
  const int64_t head_dim = q.size(3), query_len = q.size(2), key_len = k.size(2);
  const AttentionPlan plan = plan_attention(head_dim, query_len, key_len);
  TORCH_CHECK(plan.supported, "flash_attention_cuda: head dim ", head_dim, " is not a multiple of 8 in 8..", kMaxFusedHeadDim);
  if (q.numel() == 0) return;
  c10::cuda::CUDAGuard guard(q.device());
  AttentionParams p{};
  p.q = q.data_ptr();
  p.k = k.data_ptr();
  p.v = v.data_ptr();
  p.out = out.data_ptr();
  strides_of(q, p.q_strides);
  strides_of(k, p.k_strides);
  strides_of(v, p.v_strides);
  strides_of(out, p.out_strides);
  p.heads = static_cast<int>(q.size(1));
  p.query_len = static_cast<int>(query_len);
  p.key_len = static_cast<int>(key_len);
  p.head_dim = static_cast<int>(head_dim);
  p.scale_log2 = static_cast<float>(M_LOG2E / std::sqrt(static_cast<double>(head_dim)));
  p.vectorized = aligned16(q) && aligned16(k) && aligned16(v);
  const int batch_heads = static_cast<int>(q.size(0) * q.size(1));
  cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  const bool launched = q.scalar_type() == at::kHalf ? launch_flash_attention_f16(p, plan, batch_heads, stream)
                                                     : launch_flash_attention_bf16(p, plan, batch_heads, stream);
  TORCH_CHECK(launched, "flash_attention_cuda: no kernel compiled for head dim ", plan.padded_head_dim, ", ", plan.warps,
              " warps, key tile ", plan.key_tile);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

at::Tensor flash_attention_cuda(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  at::Tensor out = at::empty({q.size(0), q.size(2), q.size(1), q.size(3)}, q.options()).transpose(1, 2);
  flash_attention_cuda(q, k, v, out);
  return out;
}

}  // namespace thg::kernels
