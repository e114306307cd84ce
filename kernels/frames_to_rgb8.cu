#include "frames_to_rgb8.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAGuard.h>

#include "cuda_types.cuh"

namespace thg::kernels {

namespace {

// One thread per output pixel: reads the three planes, writes three consecutive bytes.
template <typename T>
__global__ void frames_to_rgb8_kernel(const T* __restrict__ in, uint8_t* __restrict__ out, int64_t n, int64_t hw) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n * hw) return;
  const int64_t frame = i / hw, pixel = i % hw;
  const T* base = in + frame * 3 * hw + pixel;
#pragma unroll
  for (int c = 0; c < 3; ++c) {
    float v = to_float(base[c * hw]);
    v = fminf(fmaxf(v, 0.f), 1.f);
    out[i * 3 + c] = static_cast<uint8_t>(__float2int_rn(v * 255.f));
  }
}

template <typename T>
void launch(const at::Tensor& in, at::Tensor& out) {
  const int64_t n = in.size(0), hw = in.size(2) * in.size(3);
  const int64_t total = n * hw;
  if (total == 0) return;
  constexpr int kThreads = 256;
  const int64_t blocks = (total + kThreads - 1) / kThreads;
  frames_to_rgb8_kernel<T><<<static_cast<unsigned>(blocks), kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
      reinterpret_cast<const T*>(in.data_ptr()), out.data_ptr<uint8_t>(), n, hw);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace

at::Tensor frames_to_rgb8_cuda(const at::Tensor& frames) {
  TORCH_CHECK(frames.is_cuda() && frames.dim() == 4 && frames.size(1) == 3, "frames_to_rgb8_cuda: need CUDA [N,3,H,W]");
  c10::cuda::CUDAGuard guard(frames.device());
  at::Tensor in = frames.contiguous();
  at::Tensor out = at::empty({in.size(0), in.size(2), in.size(3), 3}, in.options().dtype(at::kByte));
  switch (in.scalar_type()) {
    case at::kFloat: launch<float>(in, out); break;
    case at::kHalf: launch<__half>(in, out); break;
    case at::kBFloat16: launch<__nv_bfloat16>(in, out); break;
    default: TORCH_CHECK(false, "frames_to_rgb8_cuda: unsupported dtype ", in.scalar_type());
  }
  return out;
}

}  // namespace thg::kernels
