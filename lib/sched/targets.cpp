#include "sched/targets.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "core/error.h"
#include "sched/scheduler.h"

namespace thg::sched {

NoisedBatch noise_for_training(const ScheduleConfig& config, const at::Tensor& clean, const at::Tensor& noise,
                               const at::Tensor& t) {
  config.validate();
  if (!clean.sizes().equals(noise.sizes()) || t.dim() != 1 || t.size(0) != clean.size(0))
    throw Error::failure("", "noise_for_training: clean, noise and t disagree in shape");
  const int64_t n = config.num_train_timesteps;
  if (t.numel() > 0 && (t.min().item<int64_t>() < 0 || t.max().item<int64_t>() >= n))
    throw Error::failure("", "noise_for_training: timesteps outside [0, " + std::to_string(n) + ")");
  std::vector<int64_t> shape(static_cast<size_t>(clean.dim()), 1);
  shape[0] = clean.size(0);
  const auto opts = clean.options();
  NoisedBatch b;
  if (config.prediction_type == "flow") {
    const at::Tensor sigma = ((t.to(at::kDouble) + 1.0) / static_cast<double>(n)).to(opts);
    const at::Tensor s = sigma.view(shape);
    b.noisy = (1.0 - s) * clean + s * noise;
    b.target = noise - clean;
    b.model_timestep = sigma * static_cast<double>(n);
    return b;
  }
  const std::vector<double> ac = alphas_cumprod(config);
  const at::Tensor table = at::tensor(ac, at::kDouble);
  const at::Tensor a = table.index_select(0, t.to(at::kLong).cpu()).to(opts).view(shape);
  const at::Tensor sqrt_a = a.sqrt(), sqrt_1a = (1.0 - a).sqrt();
  b.noisy = sqrt_a * clean + sqrt_1a * noise;
  if (config.prediction_type == "epsilon") b.target = noise;
  else if (config.prediction_type == "v_prediction") b.target = sqrt_a * noise - sqrt_1a * clean;
  else b.target = clean;  // "sample" (validate() admits nothing else)
  b.model_timestep = t.to(opts);
  return b;
}

void check_sampler_inverts(const ScheduleConfig& config, const std::string& sampler) {
  for (const SamplerInfo& info : samplers()) {
    if (sampler != info.name) continue;
    const auto& types = info.prediction_types;
    if (std::find(types.begin(), types.end(), config.prediction_type) == types.end())
      throw Error::input("", "prediction_type " + config.prediction_type + " cannot be sampled by the model's sampler " +
                                 sampler + " (it inverts " + [&] {
                                   std::string s;
                                   for (const auto& x : types) s += (s.empty() ? "" : ", ") + x;
                                   return s;
                                 }() + ")");
    return;
  }
  throw Error::input("", "unknown sampler '" + sampler + "'");
}

}  // namespace thg::sched
