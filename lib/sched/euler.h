#pragma once
// The k-diffusion family in sigma space, equal to diffusers' EulerDiscreteScheduler,
// EulerAncestralDiscreteScheduler and HeunDiscreteScheduler for the same config.
#include "sched/scheduler.h"

namespace thg::sched {

// Timesteps and sigmas of diffusers' Euler-family set_timesteps: spacing, linear interpolation of
// the training sigmas, optional Karras spacing, a final sigma of 0.
class SigmaScheduler : public Scheduler {
 public:
  SigmaScheduler(ScheduleConfig config, bool karras);
  void set_timesteps(int64_t steps) override;
  const std::vector<double>& timesteps() const override { return timesteps_; }
  double init_noise_sigma() const override;
  at::Tensor scale_model_input(const at::Tensor& sample, size_t index) const override;

 protected:
  // x0 from the model output at noise level `sigma`.
  at::Tensor predict_x0(const at::Tensor& model_output, const at::Tensor& sample, double sigma) const;

  ScheduleConfig config_;
  bool karras_;
  std::vector<double> timesteps_;
  std::vector<double> sigmas_;  // one per evaluation, then the final 0
};

class EulerScheduler : public SigmaScheduler {
 public:
  using SigmaScheduler::SigmaScheduler;
  at::Tensor step(const at::Tensor& model_output, size_t index, const at::Tensor& sample,
                  const NoiseFn& noise) override;
};

class EulerAncestralScheduler : public SigmaScheduler {
 public:
  explicit EulerAncestralScheduler(ScheduleConfig config) : SigmaScheduler(std::move(config), false) {}
  at::Tensor step(const at::Tensor& model_output, size_t index, const at::Tensor& sample,
                  const NoiseFn& noise) override;
};

// Heun's second-order method: two model evaluations per step (the second at the Euler
// prediction), so timesteps() lists 2 * steps - 1 evaluations.
class HeunScheduler : public SigmaScheduler {
 public:
  using SigmaScheduler::SigmaScheduler;
  void set_timesteps(int64_t steps) override;
  at::Tensor step(const at::Tensor& model_output, size_t index, const at::Tensor& sample,
                  const NoiseFn& noise) override;

 private:
  at::Tensor first_sample_, first_derivative_;
  double first_dt_ = 0;
};

}  // namespace thg::sched
