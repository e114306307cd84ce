#pragma once
// Flow matching (rectified flow) Euler, equal to diffusers' FlowMatchEulerDiscreteScheduler (static
// shift): the model predicts the velocity from noise to data; sigma runs from 1 to 0.
#include "sched/scheduler.h"

namespace thg::sched {

class FlowEulerScheduler : public Scheduler {
 public:
  FlowEulerScheduler(int64_t num_train_timesteps, double shift);
  void set_timesteps(int64_t steps) override;
  const std::vector<double>& timesteps() const override { return timesteps_; }
  at::Tensor step(const at::Tensor& model_output, size_t index, const at::Tensor& sample,
                  const NoiseFn& noise) override;

 private:
  double shifted(double sigma) const { return shift_ * sigma / (1 + (shift_ - 1) * sigma); }
  int64_t train_steps_;
  double shift_;
  std::vector<double> timesteps_, sigmas_;
};

}  // namespace thg::sched
