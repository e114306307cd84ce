#include "sched/multistep.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.h"
#include "sched/sigmas.h"

namespace thg::sched {

MultistepScheduler::MultistepScheduler(ScheduleConfig config, bool karras)
    : config_(std::move(config)), karras_(karras) {
  config_.validate();
}

void MultistepScheduler::set_timesteps(int64_t steps) {
  const int64_t n = config_.num_train_timesteps;
  if (steps < 1 || steps > n)
    throw Error::input("", "--steps " + std::to_string(steps) + " is outside 1.." + std::to_string(n));
  std::vector<int64_t> ts;
  if (config_.timestep_spacing == "linspace") {
    for (int64_t i = steps; i >= 1; --i)
      ts.push_back(static_cast<int64_t>(std::nearbyint(static_cast<double>(i) * (n - 1) / static_cast<double>(steps))));
  } else if (config_.timestep_spacing == "leading") {
    const int64_t ratio = n / (steps + 1);
    for (int64_t i = steps; i >= 1; --i) ts.push_back(i * ratio + config_.steps_offset);
  } else {
    const double ratio = static_cast<double>(n) / steps;
    for (int64_t i = 0; i < steps; ++i) ts.push_back(static_cast<int64_t>(std::nearbyint(n - i * ratio)) - 1);
  }
  const std::vector<double> train = training_sigmas(alphas_cumprod(config_));
  sigmas_.clear();
  timesteps_.clear();
  if (karras_) {
    std::vector<double> log_sigmas(train.size());
    for (size_t i = 0; i < train.size(); ++i) log_sigmas[i] = std::log(train[i]);
    sigmas_ = karras_sigmas(train.front(), train.back(), steps);
    for (double s : sigmas_) {
      const double t = sigma_to_t(s, log_sigmas);
      timesteps_.push_back(config_.beta_schedule == "squaredcos_cap_v2" ? std::trunc(t) : std::nearbyint(t));
    }
  } else {
    for (int64_t t : ts) {
      timesteps_.push_back(static_cast<double>(t));
      sigmas_.push_back(interp(static_cast<double>(t), train));
    }
  }
  for (double& s : sigmas_) s = f32(s);
  sigmas_.push_back(0.0);
  outputs_.clear();
  lower_order_nums_ = 0;
}

at::Tensor MultistepScheduler::data_prediction(const at::Tensor& out, const at::Tensor& sample, size_t index) const {
  const AlphaSigma as = alpha_sigma(static_cast<float>(sigmas_.at(index)));
  at::Tensor x0;
  if (config_.prediction_type == "epsilon") x0 = (sample - as.sigma * out) / as.alpha;
  else if (config_.prediction_type == "sample") x0 = out;
  else x0 = as.alpha * sample - as.sigma * out;
  if (config_.clip_sample) x0 = x0.clamp(-config_.clip_sample_range, config_.clip_sample_range);
  return x0;
}

DpmSolverScheduler::DpmSolverScheduler(ScheduleConfig config, bool karras, bool sde)
    : MultistepScheduler(std::move(config), karras), sde_(sde) {}

at::Tensor DpmSolverScheduler::step(const at::Tensor& out, size_t index, const at::Tensor& sample,
                                    const NoiseFn& noise) {
  // The last step is always first order (final sigma 0: "lower_order_final").
  const bool last = index + 1 == timesteps_.size();
  outputs_.push_back(data_prediction(out, sample, index));
  if (outputs_.size() > 2) outputs_.pop_front();
  at::Tensor z = sde_ ? noise(out) : at::Tensor();

  // float32 scalar arithmetic, written as diffusers writes it (exp(-h) - 1, not expm1).
  const AlphaSigma t = alpha_sigma(static_cast<float>(sigmas_.at(index + 1)));
  const AlphaSigma s0 = alpha_sigma(static_cast<float>(sigmas_.at(index)));
  const float h = t.lambda - s0.lambda;
  const at::Tensor& d0 = outputs_.back();
  const float ratio = t.sigma / s0.sigma;
  at::Tensor prev;
  if (lower_order_nums_ < 1 || last) {
    if (!sde_) {
      prev = ratio * sample - (t.alpha * (std::exp(-h) - 1.0f)) * d0;
    } else {
      const float g = 1.0f - std::exp(-2.0f * h);
      prev = (ratio * std::exp(-h)) * sample + (t.alpha * g) * d0 + t.sigma * std::sqrt(g) * z;
    }
  } else {
    const AlphaSigma s1 = alpha_sigma(static_cast<float>(sigmas_.at(index - 1)));
    const float r0 = (s0.lambda - s1.lambda) / h;
    at::Tensor d1 = (1.0f / r0) * (d0 - outputs_.front());
    if (!sde_) {
      const float c = t.alpha * (std::exp(-h) - 1.0f);
      prev = ratio * sample - c * d0 - 0.5f * c * d1;
    } else {
      const float g = 1.0f - std::exp(-2.0f * h);
      prev = (ratio * std::exp(-h)) * sample + (t.alpha * g) * d0 + 0.5f * (t.alpha * g) * d1 + t.sigma * std::sqrt(g) * z;
    }
  }
  if (lower_order_nums_ < 2) ++lower_order_nums_;
  return prev;
}

void UniPcScheduler::set_timesteps(int64_t steps) {
  MultistepScheduler::set_timesteps(steps);
  last_sample_ = at::Tensor();
  this_order_ = 1;
}

// B(h) = e^h - 1 ("bh2") and the phi-function coefficients for orders 1 and 2, with hh = -h
// (data prediction).
namespace {
struct UniCoefficients {
  float hh, h_phi_1, b_h;
  std::vector<float> b;  // b_k for k = 1..order
};
UniCoefficients uni_coefficients(float h, int order) {
  UniCoefficients c;
  c.hh = -h;
  c.h_phi_1 = std::expm1(c.hh);
  c.b_h = std::expm1(c.hh);
  float h_phi_k = c.h_phi_1 / c.hh - 1.0f;
  int factorial = 1;
  for (int i = 1; i <= order; ++i) {
    c.b.push_back(h_phi_k * static_cast<float>(factorial) / c.b_h);
    factorial *= i + 1;
    h_phi_k = h_phi_k / c.hh - 1.0f / static_cast<float>(factorial);
  }
  return c;
}
}  // namespace

at::Tensor UniPcScheduler::predictor(const at::Tensor& x, size_t index, int order) const {
  const AlphaSigma t = alpha_sigma(static_cast<float>(sigmas_.at(index + 1)));
  const AlphaSigma s0 = alpha_sigma(static_cast<float>(sigmas_.at(index)));
  const float h = t.lambda - s0.lambda;
  const at::Tensor& m0 = outputs_.back();
  const UniCoefficients c = uni_coefficients(h, order);
  at::Tensor x_t = t.sigma / s0.sigma * x - t.alpha * c.h_phi_1 * m0;
  if (order == 2) {
    const AlphaSigma s1 = alpha_sigma(static_cast<float>(sigmas_.at(index - 1)));
    const float rk = (s1.lambda - s0.lambda) / h;
    at::Tensor d1 = (outputs_.front() - m0) / rk;
    x_t = x_t - t.alpha * c.b_h * (0.5f * d1);  // rhos_p = 0.5 for order 2
  }
  return x_t;
}

at::Tensor UniPcScheduler::corrector(const at::Tensor& model_t, size_t index, int order) const {
  // Corrects the sample just predicted (at sigma[index]) from the previous step (sigma[index - 1]).
  const AlphaSigma t = alpha_sigma(static_cast<float>(sigmas_.at(index)));
  const AlphaSigma s0 = alpha_sigma(static_cast<float>(sigmas_.at(index - 1)));
  const float h = t.lambda - s0.lambda;
  const at::Tensor& m0 = outputs_.back();
  const UniCoefficients c = uni_coefficients(h, order);
  at::Tensor x_t = t.sigma / s0.sigma * last_sample_ - t.alpha * c.h_phi_1 * m0;
  at::Tensor d1_t = model_t - m0;
  if (order == 1) return x_t - t.alpha * c.b_h * (0.5f * d1_t);
  // Order 2: solve R rho = b with R = [[1, 1], [rk, 1]] (in double, then float32 like
  // torch.linalg.solve's result cast to the sample dtype).
  const AlphaSigma s1 = alpha_sigma(static_cast<float>(sigmas_.at(index - 2)));
  const float rk = (s1.lambda - s0.lambda) / h;
  at::Tensor d1 = (outputs_.front() - m0) / rk;
  const double det = 1.0 - rk;
  const auto rho0 = static_cast<float>((c.b[0] - c.b[1]) / det);
  const auto rho1 = static_cast<float>((c.b[1] - static_cast<double>(rk) * c.b[0]) / det);
  return x_t - t.alpha * c.b_h * (rho0 * d1 + rho1 * d1_t);
}

at::Tensor UniPcScheduler::step(const at::Tensor& out, size_t index, const at::Tensor& sample, const NoiseFn&) {
  at::Tensor converted = data_prediction(out, sample, index);
  at::Tensor x = sample;
  if (index > 0 && last_sample_.defined()) x = corrector(converted, index, this_order_);
  outputs_.push_back(converted);
  if (outputs_.size() > 2) outputs_.pop_front();
  // Order 2 once two outputs exist, back to 1 for the final step (lower_order_final).
  const int remaining = static_cast<int>(timesteps_.size() - index);
  this_order_ = std::min({2, remaining, lower_order_nums_ + 1});
  last_sample_ = x;
  at::Tensor prev = predictor(x, index, this_order_);
  if (lower_order_nums_ < 2) ++lower_order_nums_;
  return prev;
}

}  // namespace thg::sched
