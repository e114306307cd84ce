#include "sched/schedule.h"

#include <cmath>

#include "core/error.h"

namespace thg::sched {

void ScheduleConfig::validate() const {
  if (num_train_timesteps < 2 || num_train_timesteps > 100000)
    throw Error::input("", "scheduler: num_train_timesteps must be 2..100000");
  if (beta_schedule != "linear" && beta_schedule != "scaled_linear" && beta_schedule != "squaredcos_cap_v2")
    throw Error::input("", "scheduler: unknown beta_schedule '" + beta_schedule +
                               "' (valid: linear, scaled_linear, squaredcos_cap_v2)");
  if (prediction_type != "epsilon" && prediction_type != "v_prediction" && prediction_type != "sample" &&
      prediction_type != "flow")
    throw Error::input("", "scheduler: unknown prediction_type '" + prediction_type +
                               "' (valid: epsilon, v_prediction, sample, flow)");
  if (timestep_spacing != "leading" && timestep_spacing != "trailing" && timestep_spacing != "linspace")
    throw Error::input("", "scheduler: unknown timestep_spacing '" + timestep_spacing +
                               "' (valid: leading, trailing, linspace)");
  if (!(beta_start > 0) || !(beta_end > beta_start) || beta_end >= 1)
    throw Error::input("", "scheduler: need 0 < beta_start < beta_end < 1");
}

namespace {
// torch.linspace(start, end, n, dtype=float32) as ATen computes it: float32 step, the first half
// counted from the start and the second half from the end.
std::vector<float> linspace_f32(float start, float end, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  const float step = (end - start) / static_cast<float>(n - 1);
  const int64_t halfway = n / 2;
  for (int64_t i = 0; i < n; ++i)
    out[static_cast<size_t>(i)] = i < halfway ? start + step * static_cast<float>(i)
                                              : end - step * static_cast<float>(n - i - 1);
  return out;
}
}  // namespace

std::vector<double> alphas_cumprod(const ScheduleConfig& c) {
  c.validate();
  const int64_t n = c.num_train_timesteps;
  // Betas in float32 exactly as diffusers builds its tensors, so every alpha_bar is bit-equal.
  std::vector<float> betas;
  if (c.beta_schedule == "linear") {
    betas = linspace_f32(static_cast<float>(c.beta_start), static_cast<float>(c.beta_end), n);
  } else if (c.beta_schedule == "scaled_linear") {
    betas = linspace_f32(static_cast<float>(std::sqrt(c.beta_start)), static_cast<float>(std::sqrt(c.beta_end)), n);
    for (float& b : betas) b = b * b;
  } else {
    auto alpha_bar = [](double t) { return std::pow(std::cos((t + 0.008) / 1.008 * M_PI / 2), 2); };
    for (int64_t i = 0; i < n; ++i) {
      const double t1 = static_cast<double>(i) / n, t2 = static_cast<double>(i + 1) / n;
      betas.push_back(static_cast<float>(std::min(1.0 - alpha_bar(t2) / alpha_bar(t1), 0.999)));
    }
  }
  // torch.cumprod on the CPU accumulates float32 in double and rounds each output.
  std::vector<double> out(betas.size());
  double prod = 1.0;
  for (size_t i = 0; i < betas.size(); ++i) {
    prod *= static_cast<double>(1.0f - betas[i]);
    out[i] = static_cast<float>(prod);
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
