#pragma once
// Latent Consistency Model sampling, equal to diffusers' LCMScheduler (original_inference_steps 50,
// timestep_scaling 10): each step predicts x0 with the consistency boundary condition and re-noises
// to the next timestep.
#include "sched/ddim.h"

namespace thg::sched {

class LcmScheduler : public AlphaBarScheduler {
 public:
  explicit LcmScheduler(ScheduleConfig config);
  void set_timesteps(int64_t steps) override;
  at::Tensor step(const at::Tensor& model_output, size_t index, const at::Tensor& sample,
                  const NoiseFn& noise) override;

  static constexpr int64_t kOriginalSteps = 50;
  static constexpr double kTimestepScaling = 10.0;
  static constexpr double kSigmaData = 0.5;
};

}  // namespace thg::sched
