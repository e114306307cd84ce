#include "sched/flow_euler.h"

#include <ATen/ATen.h>

#include "core/error.h"
#include "sched/sigmas.h"

namespace thg::sched {

FlowEulerScheduler::FlowEulerScheduler(int64_t num_train_timesteps, double shift)
    : train_steps_(num_train_timesteps), shift_(shift) {
  if (!(shift_ > 0)) throw Error::input("", "flow shift must be positive");
  if (train_steps_ < 2) throw Error::input("", "scheduler: num_train_timesteps must be at least 2");
}

void FlowEulerScheduler::set_timesteps(int64_t steps) {
  if (steps < 1 || steps > train_steps_)
    throw Error::input("", "--steps " + std::to_string(steps) + " is outside 1.." + std::to_string(train_steps_));
  const double n = static_cast<double>(train_steps_);
  // As diffusers: the training range [shifted(1/N), shifted(1)] is spaced linearly in timesteps,
  // and the shift is applied once more to the spaced values.
  const double sigma_max = f32(shifted(1.0)), sigma_min = f32(shifted(f32(1.0 / n)));
  timesteps_.clear();
  sigmas_.clear();
  for (int64_t i = 0; i < steps; ++i) {
    const double t = steps == 1 ? sigma_max * n
                                : sigma_max * n + (sigma_min * n - sigma_max * n) * static_cast<double>(i) / (steps - 1);
    const double sigma = f32(shifted(t / n));
    sigmas_.push_back(sigma);
    timesteps_.push_back(f32(sigma * n));
  }
  sigmas_.push_back(0.0);
}

at::Tensor FlowEulerScheduler::step(const at::Tensor& out, size_t index, const at::Tensor& sample, const NoiseFn&) {
  return sample + (sigmas_.at(index + 1) - sigmas_.at(index)) * out;
}

}  // namespace thg::sched
