#include "sched/schedule.h"

#include <cmath>

#include "core/error.h"

namespace thg::sched {

void ScheduleConfig::validate() const {
  if (num_train_timesteps < 2) throw Error::input("", "scheduler: num_train_timesteps must be at least 2");
  if (beta_schedule != "linear" && beta_schedule != "scaled_linear" && beta_schedule != "squaredcos_cap_v2")
    throw Error::input("", "scheduler: unknown beta_schedule '" + beta_schedule +
                               "' (valid: linear, scaled_linear, squaredcos_cap_v2)");
  if (prediction_type != "epsilon" && prediction_type != "v_prediction" && prediction_type != "sample")
    throw Error::input("", "scheduler: unknown prediction_type '" + prediction_type +
                               "' (valid: epsilon, v_prediction, sample)");
  if (timestep_spacing != "leading" && timestep_spacing != "trailing" && timestep_spacing != "linspace")
    throw Error::input("", "scheduler: unknown timestep_spacing '" + timestep_spacing +
                               "' (valid: leading, trailing, linspace)");
  if (!(beta_start > 0) || !(beta_end > beta_start) || beta_end >= 1)
    throw Error::input("", "scheduler: need 0 < beta_start < beta_end < 1");
}

std::vector<double> alphas_cumprod(const ScheduleConfig& c) {
  c.validate();
  const int64_t n = c.num_train_timesteps;
  std::vector<double> betas(static_cast<size_t>(n));
  // diffusers computes betas in float32; round each to float so products match its tensors.
  for (int64_t i = 0; i < n; ++i) {
    const double frac = static_cast<double>(i) / static_cast<double>(n - 1);
    double beta = 0;
    if (c.beta_schedule == "linear") {
      beta = c.beta_start + frac * (c.beta_end - c.beta_start);
    } else if (c.beta_schedule == "scaled_linear") {
      const double s = std::sqrt(c.beta_start) + frac * (std::sqrt(c.beta_end) - std::sqrt(c.beta_start));
      beta = s * s;
    } else {
      auto alpha_bar = [](double t) { return std::pow(std::cos((t + 0.008) / 1.008 * M_PI / 2), 2); };
      const double t1 = static_cast<double>(i) / n, t2 = static_cast<double>(i + 1) / n;
      beta = std::min(1.0 - alpha_bar(t2) / alpha_bar(t1), 0.999);
    }
    betas[static_cast<size_t>(i)] = static_cast<float>(beta);
  }
  std::vector<double> out(betas.size());
  float prod = 1.0f;  // cumulative product in float32, as torch.cumprod on a float32 tensor
  for (size_t i = 0; i < betas.size(); ++i) {
    prod *= static_cast<float>(1.0 - betas[i]);
    out[i] = prod;
  }
  return out;
}

std::vector<int64_t> spaced_timesteps(const ScheduleConfig& c, int64_t steps) {
  const int64_t n = c.num_train_timesteps;
  if (steps < 1) throw Error::input("", "--steps must be at least 1");
  if (steps > n)
    throw Error::input("", "--steps " + std::to_string(steps) + " exceeds the schedule's " + std::to_string(n) +
                               " training timesteps");
  std::vector<int64_t> ts;
  ts.reserve(static_cast<size_t>(steps));
  if (c.timestep_spacing == "leading") {
    const int64_t ratio = n / steps;
    for (int64_t i = steps - 1; i >= 0; --i) ts.push_back(i * ratio + c.steps_offset);
  } else if (c.timestep_spacing == "trailing") {
    const double ratio = static_cast<double>(n) / steps;
    for (int64_t i = 0; i < steps; ++i) ts.push_back(static_cast<int64_t>(std::nearbyint(n - i * ratio)) - 1);
  } else {
    for (int64_t i = steps - 1; i >= 0; --i)
      ts.push_back(static_cast<int64_t>(
          std::nearbyint(steps == 1 ? 0.0 : static_cast<double>(i) * (n - 1) / static_cast<double>(steps - 1))));
  }
  return ts;
}

}  // namespace thg::sched
