#include "sched/guidance.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.h"

namespace thg::sched {

void GuidanceScales::validate() const {
  if (!std::isfinite(reference) || !std::isfinite(audio) || reference < 0 || audio < 0 || reference > 30 || audio > 30)
    throw Error::input("", "guidance scales must be between 0 and 30");
  if (!(rescale >= 0 && rescale <= 1)) throw Error::input("", "--guidance-rescale must be between 0 and 1");
}

GuidanceBranches guidance_branches(const GuidanceScales& s) {
  GuidanceBranches b;
  b.uncond = s.reference != 1.0;
  b.reference = s.reference != 1.0 || s.audio != 1.0;
  return b;
}

at::Tensor combine_guidance(const at::Tensor& uncond, const at::Tensor& ref, const at::Tensor& full,
                            const GuidanceScales& s) {
  const GuidanceBranches b = guidance_branches(s);
  at::Tensor out = full;
  if (b.reference) {
    // Written around `full` so that scales of exactly 1 leave it bit-identical.
    out = ref + s.audio * (full - ref);
    if (b.uncond) out = out + (s.reference - 1.0) * (ref - uncond);
  }
  if (s.rescale > 0 && b.reference) {
    // Per-sample standard deviations over all but the batch dimension.
    std::vector<int64_t> dims;
    for (int64_t d = 1; d < full.dim(); ++d) dims.push_back(d);
    at::Tensor std_full = full.std(dims, /*unbiased=*/true, /*keepdim=*/true);
    at::Tensor std_out = out.std(dims, /*unbiased=*/true, /*keepdim=*/true);
    at::Tensor rescaled = out * (std_full / std_out);
    out = s.rescale * rescaled + (1.0 - s.rescale) * out;
  }
  return out;
}

}  // namespace thg::sched
