#pragma once
// The sampler interface every sampler implements, and the registry that names them.
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "sched/noise.h"
#include "sched/schedule.h"

namespace thg::sched {

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Prepares `steps` steps; throws Error::input when the schedule cannot provide them.
  virtual void set_timesteps(int64_t steps) = 0;
  // The model timestep of each model evaluation, in order (Heun evaluates twice per step).
  virtual const std::vector<double>& timesteps() const = 0;
  // Multiplier applied to the initial standard-normal noise.
  virtual double init_noise_sigma() const { return 1.0; }
  // Scaling of the model input at evaluation `index` (identity for the DDPM family).
  virtual at::Tensor scale_model_input(const at::Tensor& sample, size_t /*index*/) const { return sample; }
  // Advances from `sample` given the model output of evaluation `index`. Stochastic samplers call
  // `noise` (never a global RNG), deterministic ones never do.
  virtual at::Tensor step(const at::Tensor& model_output, size_t index, const at::Tensor& sample,
                          const NoiseFn& noise) = 0;
};

struct SamplerInfo {
  const char* name;
  const char* summary;
  std::vector<std::string> prediction_types;  // which model parameterisations it accepts
  bool karras = false;                        // supports --schedule karras
};
const std::vector<SamplerInfo>& samplers();

struct SamplerOptions {
  ScheduleConfig schedule;
  double eta = 0.0;            // DDIM stochasticity
  bool karras = false;         // Karras sigma spacing (samplers that support it)
  double flow_shift = 1.0;     // flow matching: timestep shift
};

// Throws Error::input listing the valid names for an unknown sampler, and for an option the
// sampler does not support.
std::unique_ptr<Scheduler> make_scheduler(const std::string& name, const SamplerOptions& options);

}  // namespace thg::sched
