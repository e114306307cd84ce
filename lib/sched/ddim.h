#pragma once
// DDIM (Song et al. 2020), equal to diffusers' DDIMScheduler for the same config.
#include "sched/scheduler.h"

namespace thg::sched {

class DdimScheduler : public Scheduler {
 public:
  DdimScheduler(ScheduleConfig config, double eta);
  void set_timesteps(int64_t steps) override;
  const std::vector<double>& timesteps() const override { return timesteps_; }
  at::Tensor step(const at::Tensor& model_output, size_t index, const at::Tensor& sample,
                  at::Generator* generator) override;

 private:
  ScheduleConfig config_;
  double eta_;
  std::vector<double> alphas_cumprod_;
  double final_alpha_cumprod_;
  int64_t steps_ = 0;
  std::vector<double> timesteps_;
};

}  // namespace thg::sched
