#include "group_norm_silu.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <c10/cuda/CUDAGuard.h>

#include "cuda_types.cuh"
#include "fused_plan.h"
#include "kernel_math.h"

namespace thg::kernels {

namespace {

constexpr int kThreads = 256;

__device__ Moments shuffle_down(const Moments& m, int offset) {
  return {__shfl_down_sync(0xffffffffu, m.count, offset), __shfl_down_sync(0xffffffffu, m.mean, offset),
          __shfl_down_sync(0xffffffffu, m.m2, offset)};
}

// Block `split` of group `ng` reduces its share of the group's contiguous elements to
// (count, mean, m2) in partial[ng][split].
template <typename T>
__global__ void __launch_bounds__(kThreads) group_moments_kernel(const T* __restrict__ x, int64_t group_elements,
                                                                 Moments* __restrict__ partial) {
  const int64_t ng = blockIdx.y;
  const int splits = gridDim.x, split = blockIdx.x;
  const int64_t chunk = (group_elements + splits - 1) / splits;
  const int64_t begin = split * chunk, end = min(begin + chunk, group_elements);
  const T* base = x + ng * group_elements;
  Moments m;
  for (int64_t i = begin + threadIdx.x; i < end; i += kThreads) add_sample(m, to_float(base[i]));
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) merge_moments(m, shuffle_down(m, offset));
  __shared__ Moments per_warp[kThreads / 32];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) per_warp[warp] = m;
  __syncthreads();
  if (threadIdx.x == 0) {
    Moments total = per_warp[0];
    for (int w = 1; w < kThreads / 32; ++w) merge_moments(total, per_warp[w]);
    partial[ng * splits + split] = total;
  }
}

template <typename T, typename W>
__global__ void __launch_bounds__(kThreads) group_norm_apply_kernel(const T* __restrict__ x, T* __restrict__ y,
                                                                    const W* __restrict__ weight, const W* __restrict__ bias,
                                                                    const Moments* __restrict__ partial, int splits,
                                                                    int64_t group_elements, int64_t spatial,
                                                                    int channels_per_group, int groups, float eps,
                                                                    bool apply_silu) {
  const int64_t ng = blockIdx.y;
  __shared__ float mean, inv_std;
  if (threadIdx.x == 0) {
    Moments m = partial[ng * splits];
    for (int s = 1; s < splits; ++s) merge_moments(m, partial[ng * splits + s]);
    mean = m.mean;
    inv_std = rsqrtf(fmaxf(m.m2 / m.count, 0.f) + eps);
  }
  __syncthreads();
  const int first_channel = static_cast<int>(ng % groups) * channels_per_group;
  const T* in = x + ng * group_elements;
  T* out = y + ng * group_elements;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(kThreads) + threadIdx.x; i < group_elements;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    const int c = first_channel + static_cast<int>(i / spatial);
    float v = (to_float(in[i]) - mean) * inv_std * to_float(weight[c]) + to_float(bias[c]);
    if (apply_silu) v = v / (1.f + __expf(-v));
    out[i] = from_float<T>(v);
  }
}

template <typename T, typename W>
void launch(const at::Tensor& x, at::Tensor& y, const at::Tensor& weight, const at::Tensor& bias, int64_t groups,
            double eps, bool apply_silu) {
  const int64_t n = x.size(0), c = x.size(1);
  const int64_t spatial = x.numel() / (n * c), group_elements = (c / groups) * spatial, ng = n * groups;
  const int sm_count = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int splits = plan_group_norm_splits(ng, group_elements, sm_count);
  at::Tensor partial = at::empty({ng * splits * 3}, x.options().dtype(at::kFloat));
  auto* moments = reinterpret_cast<Moments*>(partial.data_ptr<float>());
  cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  group_moments_kernel<T><<<dim3(splits, static_cast<unsigned>(ng)), kThreads, 0, stream>>>(
      reinterpret_cast<const T*>(x.data_ptr()), group_elements, moments);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  const int64_t apply_blocks = std::clamp<int64_t>((group_elements + kThreads * 4 - 1) / (kThreads * 4), 1, 1024);
  group_norm_apply_kernel<T, W><<<dim3(static_cast<unsigned>(apply_blocks), static_cast<unsigned>(ng)), kThreads, 0, stream>>>(
      reinterpret_cast<const T*>(x.data_ptr()), reinterpret_cast<T*>(y.data_ptr()),
      reinterpret_cast<const W*>(weight.data_ptr()), reinterpret_cast<const W*>(bias.data_ptr()), moments, splits,
      group_elements, spatial, static_cast<int>(c / groups), static_cast<int>(groups), static_cast<float>(eps), apply_silu);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

template <typename T>
void launch_for_weights(const at::Tensor& x, at::Tensor& y, const at::Tensor& weight, const at::Tensor& bias,
                        int64_t groups, double eps, bool apply_silu) {
  if (weight.scalar_type() == at::kFloat) launch<T, float>(x, y, weight, bias, groups, eps, apply_silu);
  else launch<T, T>(x, y, weight, bias, groups, eps, apply_silu);
}

}  // namespace

at::Tensor group_norm_silu_cuda(const at::Tensor& x_in, int64_t groups, const at::Tensor& weight, const at::Tensor& bias,
                                double eps, bool apply_silu) {
  TORCH_CHECK(x_in.is_cuda() && x_in.dim() >= 2, "group_norm_silu_cuda: need a CUDA tensor [N, C, ...]");
  TORCH_CHECK(groups > 0 && x_in.size(1) % groups == 0, "group_norm_silu_cuda: channels ", x_in.size(1),
              " not divisible by ", groups, " groups");
  TORCH_CHECK(weight.numel() == x_in.size(1) && bias.numel() == x_in.size(1) && weight.is_contiguous() &&
                  bias.is_contiguous() && weight.scalar_type() == bias.scalar_type() && weight.device() == x_in.device() &&
                  bias.device() == x_in.device(),
              "group_norm_silu_cuda: weight and bias must be contiguous [C] on x's device, one dtype");
  TORCH_CHECK(weight.scalar_type() == at::kFloat || weight.scalar_type() == x_in.scalar_type(),
              "group_norm_silu_cuda: weight dtype must be x's or fp32");
  // (sample, group) pairs go on gridDim.y, whose limit is 65535 (lib/nn/fused_applicability.h
  // sends larger problems to LibTorch before they get here).
  TORCH_CHECK(x_in.size(0) * groups <= 65535, "group_norm_silu_cuda: N x groups = ", x_in.size(0) * groups,
              " exceeds the grid limit of 65535");
  c10::cuda::CUDAGuard guard(x_in.device());
  at::Tensor x = x_in.contiguous();
  at::Tensor y = at::empty_like(x);
  if (x.numel() == 0) return y;
  switch (x.scalar_type()) {
    case at::kFloat: launch<float, float>(x, y, weight, bias, groups, eps, apply_silu); break;
    case at::kHalf: launch_for_weights<__half>(x, y, weight, bias, groups, eps, apply_silu); break;
    case at::kBFloat16: launch_for_weights<__nv_bfloat16>(x, y, weight, bias, groups, eps, apply_silu); break;
    default: TORCH_CHECK(false, "group_norm_silu_cuda: unsupported dtype ", x.scalar_type());
  }
  return y;
}

}  // namespace thg::kernels
