#include "sched/ddim.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.h"

namespace thg::sched {

DdimScheduler::DdimScheduler(ScheduleConfig config, double eta)
    : config_(std::move(config)), eta_(eta), alphas_cumprod_(alphas_cumprod(config_)) {
  if (eta_ < 0) throw Error::input("", "--eta must be >= 0");
  final_alpha_cumprod_ = config_.set_alpha_to_one ? 1.0 : alphas_cumprod_[0];
}

void DdimScheduler::set_timesteps(int64_t steps) {
  steps_ = steps;
  timesteps_.clear();
  for (int64_t t : spaced_timesteps(config_, steps)) timesteps_.push_back(static_cast<double>(t));
}

at::Tensor DdimScheduler::step(const at::Tensor& model_output, size_t index, const at::Tensor& sample,
                               at::Generator* generator) {
  if (index >= timesteps_.size()) throw Error::failure("", "ddim: step index out of range");
  const int64_t t = static_cast<int64_t>(timesteps_[index]);
  const int64_t prev_t = t - config_.num_train_timesteps / steps_;
  const double a_t = alphas_cumprod_[static_cast<size_t>(t)];
  const double a_prev = prev_t >= 0 ? alphas_cumprod_[static_cast<size_t>(prev_t)] : final_alpha_cumprod_;
  const double b_t = 1 - a_t;

  at::Tensor pred_x0, pred_eps;
  if (config_.prediction_type == "epsilon") {
    pred_x0 = (sample - std::sqrt(b_t) * model_output) / std::sqrt(a_t);
    pred_eps = model_output;
  } else if (config_.prediction_type == "sample") {
    pred_x0 = model_output;
    pred_eps = (sample - std::sqrt(a_t) * pred_x0) / std::sqrt(b_t);
  } else {
    pred_x0 = std::sqrt(a_t) * sample - std::sqrt(b_t) * model_output;
    pred_eps = std::sqrt(a_t) * model_output + std::sqrt(b_t) * sample;
  }
  if (config_.clip_sample) pred_x0 = pred_x0.clamp(-config_.clip_sample_range, config_.clip_sample_range);

  const double variance = (1 - a_prev) / b_t * (1 - a_t / a_prev);
  const double std_dev = eta_ * std::sqrt(variance);
  at::Tensor direction = std::sqrt(1 - a_prev - std_dev * std_dev) * pred_eps;
  at::Tensor prev = std::sqrt(a_prev) * pred_x0 + direction;
  if (eta_ > 0) {
    if (generator == nullptr) throw Error::failure("", "ddim with eta > 0 needs a generator");
    // Drawn on the generator's device (the CPU) and moved: the same seed gives the same noise on
    // every device.
    prev = prev + std_dev * at::randn(model_output.sizes(), *generator, at::kFloat).to(model_output.options());
  }
  return prev;
}

}  // namespace thg::sched
