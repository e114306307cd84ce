#include "core/pixels.h"

#include <ATen/ATen.h>

#ifdef THG_HAVE_CUDA_KERNELS
#include "frames_to_rgb8.h"
#endif

namespace thg {

at::Tensor frames_to_rgb8(const at::Tensor& frames) {
  TORCH_CHECK(frames.dim() == 4 && frames.size(1) == 3, "frames_to_rgb8: expected [N, 3, H, W]");
#ifdef THG_HAVE_CUDA_KERNELS
  if (frames.is_cuda()) return kernels::frames_to_rgb8_cuda(frames).cpu();
#endif
  // Reference path; float math so that rounding matches the kernel (round half to even).
  return frames.to(at::kFloat).clamp(0.0, 1.0).mul(255.0).round().to(at::kByte).permute({0, 2, 3, 1}).contiguous().cpu();
}

}  // namespace thg
