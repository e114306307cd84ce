#include "sched/euler.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "sched/sigmas.h"

namespace thg::sched {

SigmaScheduler::SigmaScheduler(ScheduleConfig config, bool karras) : config_(std::move(config)), karras_(karras) {
  config_.validate();
}

void SigmaScheduler::set_timesteps(int64_t steps) {
  const int64_t n = config_.num_train_timesteps;
  if (steps < 1 || steps > n)
    throw Error::input("", "--steps " + std::to_string(steps) + " is outside 1.." + std::to_string(n));
  // Fractional timesteps for linspace (not rounded, unlike the DDPM family).
  timesteps_.clear();
  if (config_.timestep_spacing == "linspace") {
    for (int64_t i = steps - 1; i >= 0; --i)
      timesteps_.push_back(f32(steps == 1 ? 0.0 : static_cast<double>(i) * (n - 1) / static_cast<double>(steps - 1)));
  } else {
    for (int64_t t : spaced_timesteps(config_, steps)) timesteps_.push_back(static_cast<double>(t));
  }
  const std::vector<double> train = training_sigmas(alphas_cumprod(config_));
  sigmas_.clear();
  for (double t : timesteps_) sigmas_.push_back(interp(t, train));
  if (karras_) {
    std::vector<double> log_sigmas(train.size());
    for (size_t i = 0; i < train.size(); ++i) log_sigmas[i] = std::log(train[i]);
    sigmas_ = karras_sigmas(sigmas_.back(), sigmas_.front(), steps);
    for (size_t i = 0; i < sigmas_.size(); ++i) timesteps_[i] = f32(sigma_to_t(sigmas_[i], log_sigmas));
  }
  for (double& s : sigmas_) s = f32(s);
  sigmas_.push_back(0.0);
}

double SigmaScheduler::init_noise_sigma() const {
  const auto max_sigma = static_cast<float>(*std::max_element(sigmas_.begin(), sigmas_.end()));
  if (config_.timestep_spacing == "linspace" || config_.timestep_spacing == "trailing") return max_sigma;
  return std::sqrt(max_sigma * max_sigma + 1.0f);
}

// Scalar coefficients below are computed in float32, as diffusers does on 0-d float32 tensors.
at::Tensor SigmaScheduler::scale_model_input(const at::Tensor& sample, size_t index) const {
  const auto sigma = static_cast<float>(sigmas_.at(index));
  return sample / std::sqrt(sigma * sigma + 1.0f);
}

at::Tensor SigmaScheduler::predict_x0(const at::Tensor& out, const at::Tensor& sample, double sigma_in) const {
  const auto sigma = static_cast<float>(sigma_in);
  at::Tensor x0;
  if (config_.prediction_type == "epsilon") x0 = sample - sigma * out;
  else if (config_.prediction_type == "v_prediction")
    x0 = out * (-sigma / std::sqrt(sigma * sigma + 1.0f)) + sample / (sigma * sigma + 1.0f);
  else x0 = out;
  if (config_.clip_sample) x0 = x0.clamp(-config_.clip_sample_range, config_.clip_sample_range);
  return x0;
}

at::Tensor EulerScheduler::step(const at::Tensor& out, size_t index, const at::Tensor& sample, const NoiseFn&) {
  const double sigma = sigmas_.at(index), next = sigmas_.at(index + 1);
  at::Tensor derivative = (sample - predict_x0(out, sample, sigma)) / sigma;
  return sample + derivative * (next - sigma);
}

at::Tensor EulerAncestralScheduler::step(const at::Tensor& out, size_t index, const at::Tensor& sample,
                                         const NoiseFn& noise) {
  const auto from = static_cast<float>(sigmas_.at(index)), to = static_cast<float>(sigmas_.at(index + 1));
  // Split the step into a deterministic part down to sigma_down and fresh noise of sigma_up.
  const float up = std::sqrt(to * to * (from * from - to * to) / (from * from));
  const float down = std::sqrt(to * to - up * up);
  at::Tensor derivative = (sample - predict_x0(out, sample, from)) / from;
  return sample + derivative * (down - from) + noise(out) * up;
}

void HeunScheduler::set_timesteps(int64_t steps) {
  SigmaScheduler::set_timesteps(steps);
  // Every interior sigma/timestep is evaluated twice (once per order).
  std::vector<double> sigmas{sigmas_.front()}, timesteps{timesteps_.front()};
  for (size_t i = 1; i + 1 < sigmas_.size(); ++i) sigmas.insert(sigmas.end(), {sigmas_[i], sigmas_[i]});
  sigmas.push_back(sigmas_.back());
  for (size_t i = 1; i < timesteps_.size(); ++i) timesteps.insert(timesteps.end(), {timesteps_[i], timesteps_[i]});
  sigmas_ = std::move(sigmas);
  timesteps_ = std::move(timesteps);
  first_sample_ = at::Tensor();
}

at::Tensor HeunScheduler::step(const at::Tensor& out, size_t index, const at::Tensor& sample, const NoiseFn&) {
  const bool first_order = !first_sample_.defined();
  const double sigma = first_order ? sigmas_.at(index) : sigmas_.at(index - 1);
  const double next = first_order ? sigmas_.at(index + 1) : sigmas_.at(index);
  // epsilon / v predictions are read at the noise level the model actually saw.
  at::Tensor x0 = predict_x0(out, sample, first_order ? sigma : next);
  if (first_order) {
    at::Tensor derivative = (sample - x0) / sigma;
    const double dt = next - sigma;
    // The last evaluation is a plain Euler step to sigma 0 (no corrector after it).
    if (index + 1 < timesteps_.size()) {
      first_sample_ = sample;
      first_derivative_ = derivative;
      first_dt_ = dt;
    }
    return sample + derivative * dt;
  }
  at::Tensor derivative = ((sample - x0) / next + first_derivative_) / 2;
  at::Tensor prev = first_sample_ + derivative * first_dt_;
  first_sample_ = at::Tensor();
  first_derivative_ = at::Tensor();
  return prev;
}

}  // namespace thg::sched
