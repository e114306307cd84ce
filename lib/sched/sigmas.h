#pragma once
// Sigma-space helpers shared by the k-diffusion style samplers (Euler, Heun, DPM-Solver, UniPC),
// with diffusers' arithmetic: training sigmas from float32 alphas_cumprod, linear interpolation
// at fractional timesteps, Karras spacing, and sigma -> timestep by log-sigma interpolation.
#include <cmath>
#include <cstdint>
#include <vector>

namespace thg::sched {

// sqrt((1 - a) / a) per training timestep, rounded to float32 as diffusers' tensor is.
std::vector<double> training_sigmas(const std::vector<double>& alphas_cumprod);
// np.interp(t, arange(len), values).
double interp(double t, const std::vector<double>& values);
// Karras et al. (2022) rho = 7 spacing from sigma_max down to sigma_min, n values.
std::vector<double> karras_sigmas(double sigma_min, double sigma_max, int64_t n);
// The (fractional) timestep whose log-sigma matches, as diffusers' _sigma_to_t.
double sigma_to_t(double sigma, const std::vector<double>& log_sigmas);
// Rounds to float32 (diffusers stores schedules as float32 tensors).
inline double f32(double v) { return static_cast<double>(static_cast<float>(v)); }
// 1/sqrt(s^2+1) and s/sqrt(s^2+1): the VP alpha_t and sigma_t of a k-diffusion sigma, in float32
// arithmetic as diffusers computes them on 0-d float32 tensors (in steps with heavy cancellation a
// one-ulp difference in a coefficient is visible at the 1e-5 parity bound).
struct AlphaSigma {
  float alpha, sigma, lambda;  // lambda = log(alpha) - log(sigma) (+inf at sigma 0)
};
AlphaSigma alpha_sigma(float sigma);
// sample / sqrt(sigma^2 + 1) scaling factor in float32.
inline float input_scale(float sigma) { return 1.0f / std::sqrt(sigma * sigma + 1.0f); }

}  // namespace thg::sched
