#include "sched/ddim.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.h"

namespace thg::sched {

AlphaBarScheduler::AlphaBarScheduler(ScheduleConfig config)
    : config_(std::move(config)), alphas_cumprod_(alphas_cumprod(config_)) {
  final_alpha_cumprod_ = config_.set_alpha_to_one ? 1.0 : alphas_cumprod_[0];
}

void AlphaBarScheduler::set_timesteps(int64_t steps) {
  steps_ = steps;
  timesteps_.clear();
  for (int64_t t : spaced_timesteps(config_, steps)) timesteps_.push_back(static_cast<double>(t));
}

double AlphaBarScheduler::alpha_bar(int64_t t) const {
  return t >= 0 ? alphas_cumprod_[static_cast<size_t>(t)] : final_alpha_cumprod_;
}

int64_t AlphaBarScheduler::previous_timestep(size_t index) const {
  if (index >= timesteps_.size()) throw Error::failure("", "scheduler: step index out of range");
  return static_cast<int64_t>(timesteps_[index]) - config_.num_train_timesteps / steps_;
}

// Scalar coefficients in float32, as diffusers computes them on 0-d float32 tensors.
std::pair<at::Tensor, at::Tensor> AlphaBarScheduler::predict(const at::Tensor& out, const at::Tensor& sample,
                                                             double alpha_bar_t) const {
  const auto a_t = static_cast<float>(alpha_bar_t);
  const float b_t = 1.0f - a_t;
  at::Tensor x0, eps;
  if (config_.prediction_type == "epsilon") {
    x0 = (sample - std::sqrt(b_t) * out) / std::sqrt(a_t);
    eps = out;
  } else if (config_.prediction_type == "sample") {
    x0 = out;
    eps = (sample - std::sqrt(a_t) * x0) / std::sqrt(b_t);
  } else {
    x0 = std::sqrt(a_t) * sample - std::sqrt(b_t) * out;
    eps = std::sqrt(a_t) * out + std::sqrt(b_t) * sample;
  }
  if (config_.clip_sample) x0 = x0.clamp(-config_.clip_sample_range, config_.clip_sample_range);
  return {x0, eps};
}

DdimScheduler::DdimScheduler(ScheduleConfig config, double eta) : AlphaBarScheduler(std::move(config)), eta_(eta) {
  if (eta_ < 0) throw Error::input("", "--eta must be >= 0");
}

at::Tensor DdimScheduler::step(const at::Tensor& model_output, size_t index, const at::Tensor& sample,
                               const NoiseFn& noise) {
  const int64_t t = static_cast<int64_t>(timesteps_.at(index));
  const auto a_t = static_cast<float>(alpha_bar(t)), a_prev = static_cast<float>(alpha_bar(previous_timestep(index)));
  auto [x0, eps] = predict(model_output, sample, a_t);
  const float variance = (1.0f - a_prev) / (1.0f - a_t) * (1.0f - a_t / a_prev);
  const float std_dev = static_cast<float>(eta_) * std::sqrt(variance);
  at::Tensor prev = std::sqrt(a_prev) * x0 + std::sqrt(1.0f - a_prev - std_dev * std_dev) * eps;
  if (eta_ > 0) prev = prev + std_dev * noise(model_output);
  return prev;
}

DdpmScheduler::DdpmScheduler(ScheduleConfig config) : AlphaBarScheduler(std::move(config)) {}

at::Tensor DdpmScheduler::step(const at::Tensor& model_output, size_t index, const at::Tensor& sample,
                               const NoiseFn& noise) {
  const int64_t t = static_cast<int64_t>(timesteps_.at(index));
  // DDPM steps to the next timestep in its list (not t - T/steps as DDIM does): they differ for
  // linspace spacing.
  const int64_t prev_t = index + 1 < timesteps_.size() ? static_cast<int64_t>(timesteps_[index + 1]) : -1;
  const auto a_t = static_cast<float>(alpha_bar(t));
  const float a_prev = prev_t >= 0 ? static_cast<float>(alphas_cumprod_[static_cast<size_t>(prev_t)]) : 1.0f;
  const float b_t = 1.0f - a_t, b_prev = 1.0f - a_prev;
  const float current_alpha = a_t / a_prev, current_beta = 1.0f - current_alpha;
  at::Tensor x0 = predict(model_output, sample, a_t).first;
  // Posterior mean (Ho et al. 2020, eq. 7) and the "fixed_small" variance.
  at::Tensor prev = (std::sqrt(a_prev) * current_beta / b_t) * x0 + (std::sqrt(current_alpha) * b_prev / b_t) * sample;
  if (t > 0) {
    const float variance = std::max(b_prev / b_t * current_beta, 1e-20f);
    prev = prev + std::sqrt(variance) * noise(model_output);
  }
  return prev;
}

}  // namespace thg::sched
