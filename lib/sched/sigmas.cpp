#include "sched/sigmas.h"

#include <algorithm>
#include <cmath>

namespace thg::sched {

std::vector<double> training_sigmas(const std::vector<double>& alphas_cumprod) {
  std::vector<double> s(alphas_cumprod.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const float a = static_cast<float>(alphas_cumprod[i]);
    s[i] = static_cast<double>(std::sqrt((1.0f - a) / a));
  }
  return s;
}

double interp(double t, const std::vector<double>& values) {
  if (t <= 0) return values.front();
  const double last = static_cast<double>(values.size() - 1);
  if (t >= last) return values.back();
  const auto i = static_cast<size_t>(std::floor(t));
  const double w = t - static_cast<double>(i);
  return values[i] + (values[i + 1] - values[i]) * w;
}

std::vector<double> karras_sigmas(double sigma_min, double sigma_max, int64_t n) {
  constexpr double rho = 7.0;
  const double min_inv = std::pow(sigma_min, 1 / rho), max_inv = std::pow(sigma_max, 1 / rho);
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double ramp = n == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(n - 1);
    out[static_cast<size_t>(i)] = std::pow(max_inv + ramp * (min_inv - max_inv), rho);
  }
  return out;
}

double sigma_to_t(double sigma, const std::vector<double>& log_sigmas) {
  const double log_sigma = std::log(std::max(sigma, 1e-10));
  // low: the last index whose log-sigma is <= log_sigma (clipped so that high stays in range).
  size_t low = 0;
  for (size_t i = 0; i < log_sigmas.size(); ++i)
    if (log_sigma - log_sigmas[i] >= 0) low = i;
  low = std::min(low, log_sigmas.size() - 2);
  const double lo = log_sigmas[low], hi = log_sigmas[low + 1];
  const double w = std::clamp((lo - log_sigma) / (lo - hi), 0.0, 1.0);
  return (1 - w) * static_cast<double>(low) + w * static_cast<double>(low + 1);
}

AlphaSigma alpha_sigma(float sigma) {
  const float alpha = 1.0f / std::sqrt(sigma * sigma + 1.0f);
  const float s = sigma * alpha;
  return {alpha, s, std::log(alpha) - std::log(s)};
}

}  // namespace thg::sched
