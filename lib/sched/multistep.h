#pragma once
// Multistep solvers in log-SNR (lambda) space, equal to diffusers' DPMSolverMultistepScheduler
// (dpmsolver++ / sde-dpmsolver++, order 2, midpoint) and UniPCMultistepScheduler (bh2, order 2,
// predict_x0) for the same config.
#include <deque>

#include "sched/scheduler.h"

namespace thg::sched {

// Timesteps and sigmas of diffusers' multistep set_timesteps (n + 1 point spacing with the last
// point dropped, optional Karras spacing over the full training range, final sigma 0), and the
// conversion of any model parameterisation to a data (x0) prediction.
class MultistepScheduler : public Scheduler {
 public:
  MultistepScheduler(ScheduleConfig config, bool karras);
  void set_timesteps(int64_t steps) override;
  const std::vector<double>& timesteps() const override { return timesteps_; }

 protected:
  at::Tensor data_prediction(const at::Tensor& model_output, const at::Tensor& sample, size_t index) const;

  ScheduleConfig config_;
  bool karras_;
  std::vector<double> timesteps_;
  std::vector<double> sigmas_;
  std::deque<at::Tensor> outputs_;  // most recent data predictions, newest last
  int lower_order_nums_ = 0;
};

class DpmSolverScheduler : public MultistepScheduler {
 public:
  DpmSolverScheduler(ScheduleConfig config, bool karras, bool sde);
  at::Tensor step(const at::Tensor& model_output, size_t index, const at::Tensor& sample,
                  const NoiseFn& noise) override;

 private:
  bool sde_;
};

class UniPcScheduler : public MultistepScheduler {
 public:
  using MultistepScheduler::MultistepScheduler;
  void set_timesteps(int64_t steps) override;
  at::Tensor step(const at::Tensor& model_output, size_t index, const at::Tensor& sample,
                  const NoiseFn& noise) override;

 private:
  at::Tensor corrector(const at::Tensor& this_output, size_t index, int order) const;
  at::Tensor predictor(const at::Tensor& sample, size_t index, int order) const;

  at::Tensor last_sample_;
  int this_order_ = 1;
};

}  // namespace thg::sched
