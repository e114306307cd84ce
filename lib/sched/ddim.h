#pragma once
// The DDPM family, equal to diffusers' DDPMScheduler and DDIMScheduler for the same config.
#include "sched/scheduler.h"

namespace thg::sched {

// Shared by DDPM and DDIM: alpha-bar timesteps with one of the three spacings.
class AlphaBarScheduler : public Scheduler {
 public:
  explicit AlphaBarScheduler(ScheduleConfig config);
  void set_timesteps(int64_t steps) override;
  const std::vector<double>& timesteps() const override { return timesteps_; }

 protected:
  // x0 and epsilon predicted from the model output at alpha-bar `a_t`.
  std::pair<at::Tensor, at::Tensor> predict(const at::Tensor& model_output, const at::Tensor& sample, double a_t) const;
  double alpha_bar(int64_t t) const;  // final_alpha_cumprod for t < 0
  int64_t previous_timestep(size_t index) const;

  ScheduleConfig config_;
  std::vector<double> alphas_cumprod_;
  double final_alpha_cumprod_;
  int64_t steps_ = 0;
  std::vector<double> timesteps_;
};

class DdimScheduler : public AlphaBarScheduler {
 public:
  DdimScheduler(ScheduleConfig config, double eta);
  at::Tensor step(const at::Tensor& model_output, size_t index, const at::Tensor& sample,
                  const NoiseFn& noise) override;

 private:
  double eta_;
};

class DdpmScheduler : public AlphaBarScheduler {
 public:
  explicit DdpmScheduler(ScheduleConfig config);
  at::Tensor step(const at::Tensor& model_output, size_t index, const at::Tensor& sample,
                  const NoiseFn& noise) override;
};

}  // namespace thg::sched
