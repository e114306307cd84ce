#include "sched/lcm.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.h"

namespace thg::sched {

LcmScheduler::LcmScheduler(ScheduleConfig config) : AlphaBarScheduler(std::move(config)) {}

void LcmScheduler::set_timesteps(int64_t steps) {
  if (steps < 1 || steps > kOriginalSteps)
    throw Error::input("", "--steps " + std::to_string(steps) + ": LCM supports 1.." + std::to_string(kOriginalSteps));
  steps_ = steps;
  // The 50 timesteps the consistency model was distilled on (19, 39, ..., 999 for 1000 training
  // steps), descending, sampled at evenly spaced indices.
  const int64_t k = config_.num_train_timesteps / kOriginalSteps;
  timesteps_.clear();
  for (int64_t i = 0; i < steps; ++i) {
    const auto index = static_cast<int64_t>(std::floor(static_cast<double>(i) * kOriginalSteps / steps));
    timesteps_.push_back(static_cast<double>((kOriginalSteps - index) * k - 1));
  }
}

at::Tensor LcmScheduler::step(const at::Tensor& out, size_t index, const at::Tensor& sample, const NoiseFn& noise) {
  const int64_t t = static_cast<int64_t>(timesteps_.at(index));
  const bool last = index + 1 == timesteps_.size();
  const int64_t prev_t = last ? t : static_cast<int64_t>(timesteps_[index + 1]);
  const double a_t = alpha_bar(t), a_prev = alpha_bar(prev_t);
  const double scaled = static_cast<double>(t) * kTimestepScaling;
  const double c_skip = kSigmaData * kSigmaData / (scaled * scaled + kSigmaData * kSigmaData);
  const double c_out = scaled / std::sqrt(scaled * scaled + kSigmaData * kSigmaData);
  at::Tensor denoised = c_out * predict(out, sample, a_t).first + c_skip * sample;
  if (last) return denoised;
  return std::sqrt(a_prev) * denoised + std::sqrt(1 - a_prev) * noise(out);
}

}  // namespace thg::sched
