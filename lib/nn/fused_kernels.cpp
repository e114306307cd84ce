#include "nn/fused_kernels.h"

#include "nn/fused_applicability.h"

#include <ATen/core/grad_mode.h>

#ifdef THG_HAVE_CUDA_KERNELS
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>

#include "flash_attention.h"
#include "fused_plan.h"
#include "group_norm_silu.h"
#endif

namespace thg::nn {

#ifdef THG_HAVE_CUDA_KERNELS
namespace {
OperandFacts facts_of(const at::Tensor& t) {
  OperandFacts f;
  f.on_cuda = t.is_cuda();
  f.device = f.on_cuda ? t.device().index() : -1;
  f.dtype = t.scalar_type();
  f.sizes = t.sizes();
  f.contiguous = t.is_contiguous();
  // The kernels are forward-only: training (anything that needs gradients) stays on LibTorch.
  f.needs_grad = at::GradMode::is_enabled() && t.requires_grad();
  return f;
}
}  // namespace

bool fused_kernels_built() { return true; }

const char* fused_attention_unavailable(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  return attention_unavailable(facts_of(q), facts_of(k), facts_of(v));
}

at::Tensor fused_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  auto last_contiguous = [](const at::Tensor& t) { return t.stride(3) == 1 ? t : t.contiguous(); };
  return kernels::flash_attention_cuda(last_contiguous(q), last_contiguous(k), last_contiguous(v));
}

const char* fused_group_norm_unavailable(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                         int64_t groups) {
  return group_norm_unavailable(facts_of(x), facts_of(weight), facts_of(bias), groups);
}

at::Tensor fused_group_norm(const at::Tensor& x, int64_t groups, const at::Tensor& weight, const at::Tensor& bias,
                            double eps, bool apply_silu) {
  return kernels::group_norm_silu_cuda(x, groups, weight, bias, eps, apply_silu);
}

namespace {
// Device time between two events recorded on the stream: what the candidates' kernels took,
// without the host's launch latency (which is of the order of the kernels themselves).
class CudaEventTimer : public KernelTimer {
 public:
  explicit CudaEventTimer(c10::DeviceIndex device)
      : device_(device), begin_(cudaEventDefault), end_(cudaEventDefault) {}
  void start() override { begin_.record(at::cuda::getCurrentCUDAStream(device_)); }
  double stop_seconds() override {
    end_.record(at::cuda::getCurrentCUDAStream(device_));
    end_.synchronize();
    return static_cast<double>(begin_.elapsed_time(end_)) / 1000.0;
  }

 private:
  c10::DeviceIndex device_;
  at::cuda::CUDAEvent begin_, end_;
};
}  // namespace

std::unique_ptr<KernelTimer> device_timer(const at::Tensor& t) {
  if (t.is_cuda()) return std::make_unique<CudaEventTimer>(t.device().index());
  return std::make_unique<HostClockTimer>();
}

#else

bool fused_kernels_built() { return false; }

const char* fused_attention_unavailable(const at::Tensor&, const at::Tensor&, const at::Tensor&) {
  return "this build has no CUDA kernels (nvcc was not found or THG_WITH_CUDA_KERNELS=OFF)";
}
at::Tensor fused_attention(const at::Tensor&, const at::Tensor&, const at::Tensor&) {
  throw std::logic_error("fused_attention called in a build without CUDA kernels");
}
const char* fused_group_norm_unavailable(const at::Tensor&, const at::Tensor&, const at::Tensor&, int64_t) {
  return "this build has no CUDA kernels (nvcc was not found or THG_WITH_CUDA_KERNELS=OFF)";
}
at::Tensor fused_group_norm(const at::Tensor&, int64_t, const at::Tensor&, const at::Tensor&, double, bool) {
  throw std::logic_error("fused_group_norm called in a build without CUDA kernels");
}
std::unique_ptr<KernelTimer> device_timer(const at::Tensor&) { return std::make_unique<HostClockTimer>(); }

#endif

}  // namespace thg::nn
