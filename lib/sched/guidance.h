#pragma once
// Classifier-free guidance with separate reference and audio scales (as Hallo / Sonic do):
//   out = uncond + s_ref * (ref - uncond) + s_audio * (ref_audio - ref)
// where uncond sees neither the portrait nor the speech, ref sees the portrait only, and
// ref_audio sees both. Scales of 1 make branches unnecessary, and they are then not computed.
// Guidance rescale (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are
// Flawed") pulls the result's standard deviation back to ref_audio's to avoid over-exposure.
#include <ATen/core/Tensor.h>

namespace thg::sched {

struct GuidanceScales {
  double reference = 1.0;
  double audio = 1.0;
  double rescale = 0.0;  // 0: off, 1: fully rescaled
  void validate() const;  // throws Error::input
};

struct GuidanceBranches {
  bool uncond = false;     // needed when reference != 1
  bool reference = false;  // needed when reference != 1 or audio != 1
  int count() const { return 1 + (uncond ? 1 : 0) + (reference ? 1 : 0); }
};
GuidanceBranches guidance_branches(const GuidanceScales& scales);

// Combines the branch outputs (undefined tensors for branches not needed).
at::Tensor combine_guidance(const at::Tensor& uncond, const at::Tensor& reference, const at::Tensor& full,
                            const GuidanceScales& scales);

}  // namespace thg::sched
