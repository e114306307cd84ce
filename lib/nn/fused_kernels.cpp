#include "nn/fused_kernels.h"

#include <ATen/core/grad_mode.h>

#ifdef THG_HAVE_CUDA_KERNELS
#include <ATen/cuda/CUDAContext.h>

#include "flash_attention.h"
#include "fused_plan.h"
#include "group_norm_silu.h"
#endif

namespace thg::nn {

#ifdef THG_HAVE_CUDA_KERNELS
namespace {
// The kernels are forward-only: training (anything that needs gradients) stays on LibTorch.
bool needs_grad(std::initializer_list<const at::Tensor*> tensors) {
  if (!at::GradMode::is_enabled()) return false;
  for (const at::Tensor* t : tensors)
    if (t->requires_grad()) return true;
  return false;
}
}  // namespace

bool fused_kernels_built() { return true; }

const char* fused_attention_unavailable(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  if (!q.is_cuda()) return "tensors are not on a CUDA device";
  if (q.scalar_type() != at::kHalf && q.scalar_type() != at::kBFloat16) return "dtype is not fp16 or bf16";
  if (k.scalar_type() != q.scalar_type() || v.scalar_type() != q.scalar_type()) return "q, k and v dtypes differ";
  if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4) return "tensors are not [B, H, L, D]";
  if (!kernels::plan_attention(q.size(3), q.size(2), k.size(2)).supported)
    return "the head dim is not a multiple of 8 up to 160";
  if (needs_grad({&q, &k, &v})) return "gradients are needed (the kernel is forward-only)";
  return nullptr;
}

at::Tensor fused_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  auto last_contiguous = [](const at::Tensor& t) { return t.stride(3) == 1 ? t : t.contiguous(); };
  return kernels::flash_attention_cuda(last_contiguous(q), last_contiguous(k), last_contiguous(v));
}

const char* fused_group_norm_unavailable(const at::Tensor& x, const at::Tensor& weight, int64_t groups) {
  if (!x.is_cuda()) return "the tensor is not on a CUDA device";
  const auto t = x.scalar_type();
  if (t != at::kFloat && t != at::kHalf && t != at::kBFloat16) return "dtype is not fp32, fp16 or bf16";
  if (weight.scalar_type() != t && weight.scalar_type() != at::kFloat) return "weight dtype differs";
  if (x.dim() < 2 || x.size(1) % groups != 0) return "channels not divisible by groups";
  if (needs_grad({&x, &weight})) return "gradients are needed (the kernel is forward-only)";
  return nullptr;
}

at::Tensor fused_group_norm(const at::Tensor& x, int64_t groups, const at::Tensor& weight, const at::Tensor& bias,
                            double eps, bool apply_silu) {
  return kernels::group_norm_silu_cuda(x, groups, weight, bias, eps, apply_silu);
}

void synchronize_device_of(const at::Tensor& t) {
  if (t.is_cuda()) at::cuda::getCurrentCUDAStream(t.device().index()).synchronize();
}

#else

bool fused_kernels_built() { return false; }

const char* fused_attention_unavailable(const at::Tensor&, const at::Tensor&, const at::Tensor&) {
  return "this build has no CUDA kernels (nvcc was not found or THG_WITH_CUDA_KERNELS=OFF)";
}
at::Tensor fused_attention(const at::Tensor&, const at::Tensor&, const at::Tensor&) {
  throw std::logic_error("fused_attention called in a build without CUDA kernels");
}
const char* fused_group_norm_unavailable(const at::Tensor&, const at::Tensor&, int64_t) {
  return "this build has no CUDA kernels (nvcc was not found or THG_WITH_CUDA_KERNELS=OFF)";
}
at::Tensor fused_group_norm(const at::Tensor&, int64_t, const at::Tensor&, const at::Tensor&, double, bool) {
  throw std::logic_error("fused_group_norm called in a build without CUDA kernels");
}
void synchronize_device_of(const at::Tensor&) {}

#endif

}  // namespace thg::nn
