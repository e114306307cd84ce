#pragma once
// The sampler interface every sampler implements, and the registry that names them.
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "sched/schedule.h"

namespace thg::sched {

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual void set_timesteps(int64_t steps) = 0;
  // Model timesteps for each step, in order.
  virtual const std::vector<double>& timesteps() const = 0;
  // Multiplier applied to the initial Gaussian noise.
  virtual double init_noise_sigma() const { return 1.0; }
  // Scaling of the model input at step `index` (identity for DDPM-family samplers).
  virtual at::Tensor scale_model_input(const at::Tensor& sample, size_t /*index*/) const { return sample; }
  // One step from `sample` at step `index` given the model output; stochastic samplers draw their
  // noise from `generator` (never from a global RNG).
  virtual at::Tensor step(const at::Tensor& model_output, size_t index, const at::Tensor& sample,
                          at::Generator* generator) = 0;
  // Model evaluations per step (2 for Heun-style correctors).
  virtual int evaluations_per_step() const { return 1; }
};

struct SamplerInfo {
  const char* name;
  const char* summary;
};
const std::vector<SamplerInfo>& samplers();

struct SamplerOptions {
  ScheduleConfig schedule;
  double eta = 0.0;  // DDIM stochasticity
};

// Throws Error::input listing the valid names for an unknown sampler.
std::unique_ptr<Scheduler> make_scheduler(const std::string& name, const SamplerOptions& options);

}  // namespace thg::sched
