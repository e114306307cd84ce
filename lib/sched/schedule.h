#pragma once
// Noise schedules and timestep spacing, with diffusers' config field names and semantics.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace thg::sched {

struct ScheduleConfig {
  int64_t num_train_timesteps = 1000;
  double beta_start = 0.00085;
  double beta_end = 0.012;
  std::string beta_schedule = "scaled_linear";  // linear | scaled_linear | squaredcos_cap_v2
  std::string prediction_type = "epsilon";      // epsilon | v_prediction | sample
  std::string timestep_spacing = "leading";     // leading | trailing | linspace
  int64_t steps_offset = 1;
  bool set_alpha_to_one = false;
  bool clip_sample = false;
  double clip_sample_range = 1.0;
  void validate() const;  // throws Error::input naming the bad field
};

// alphas_cumprod[t] for t in [0, num_train_timesteps), float64 for exact parity with diffusers'
// float32 tensors after rounding.
std::vector<double> alphas_cumprod(const ScheduleConfig& config);

// The inference timesteps, descending, for `steps` steps (throws Error::input when steps is out
// of range for the schedule).
std::vector<int64_t> spaced_timesteps(const ScheduleConfig& config, int64_t steps);

}  // namespace thg::sched
