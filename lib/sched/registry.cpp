#include <ATen/ATen.h>

#include <algorithm>

#include "core/error.h"
#include "sched/ddim.h"
#include "sched/euler.h"
#include "sched/flow_euler.h"
#include "sched/lcm.h"
#include "sched/multistep.h"
#include "sched/scheduler.h"

namespace thg::sched {

const std::vector<SamplerInfo>& samplers() {
  static const std::vector<SamplerInfo> list = {
      {"ddim", "DDIM; deterministic at --eta 0; solid from ~20 steps", {"epsilon", "v_prediction", "sample"}, false},
      {"ddpm", "DDPM ancestral sampling; needs hundreds of steps", {"epsilon", "v_prediction", "sample"}, false},
      {"euler", "Euler (k-diffusion); simple and robust, ~20-30 steps", {"epsilon", "v_prediction", "sample"}, true},
      {"euler-ancestral", "Euler with fresh noise each step; varied, does not converge", {"epsilon", "v_prediction"}, false},
      {"heun", "Heun 2nd order; 2 model calls per step, ~15 steps", {"epsilon", "v_prediction", "sample"}, true},
      {"dpmpp-2m", "DPM-Solver++ 2M; fast and sharp, ~15-20 steps under guidance", {"epsilon", "v_prediction", "sample"}, true},
      {"dpmpp-2m-sde", "DPM-Solver++ 2M SDE; stochastic variant, ~20-30 steps", {"epsilon", "v_prediction", "sample"}, true},
      {"unipc", "UniPC (bh2) predictor-corrector; best at 5-10 steps", {"epsilon", "v_prediction", "sample"}, true},
      {"lcm", "Latent Consistency; 1-8 steps, for LCM-distilled models only", {"epsilon", "v_prediction", "sample"}, false},
      {"flow-euler", "Flow-matching Euler; for velocity (rectified flow) models only", {"flow"}, false},
  };
  return list;
}

std::unique_ptr<Scheduler> make_scheduler(const std::string& name, const SamplerOptions& o) {
  const auto& list = samplers();
  auto info = std::find_if(list.begin(), list.end(), [&](const SamplerInfo& s) { return name == s.name; });
  if (info == list.end()) {
    std::string valid;
    for (const auto& s : list) valid += (valid.empty() ? "" : ", ") + std::string(s.name);
    throw Error::input("", "unknown sampler '" + name + "' (valid: " + valid + ")");
  }
  if (o.karras && !info->karras) throw Error::input("", "sampler " + name + " does not support --schedule karras");
  o.schedule.validate();
  const auto& types = info->prediction_types;
  if (std::find(types.begin(), types.end(), o.schedule.prediction_type) == types.end())
    throw Error::input("", "sampler " + name + " does not support the model's prediction_type " +
                               o.schedule.prediction_type);
  if (name == "flow-euler") return std::make_unique<FlowEulerScheduler>(o.schedule.num_train_timesteps, o.flow_shift);
  if (name == "ddim") return std::make_unique<DdimScheduler>(o.schedule, o.eta);
  if (name == "ddpm") return std::make_unique<DdpmScheduler>(o.schedule);
  if (name == "euler") return std::make_unique<EulerScheduler>(o.schedule, o.karras);
  if (name == "euler-ancestral") return std::make_unique<EulerAncestralScheduler>(o.schedule);
  if (name == "heun") return std::make_unique<HeunScheduler>(o.schedule, o.karras);
  if (name == "dpmpp-2m") return std::make_unique<DpmSolverScheduler>(o.schedule, o.karras, false);
  if (name == "dpmpp-2m-sde") return std::make_unique<DpmSolverScheduler>(o.schedule, o.karras, true);
  if (name == "unipc") return std::make_unique<UniPcScheduler>(o.schedule, o.karras);
  return std::make_unique<LcmScheduler>(o.schedule);
}

}  // namespace thg::sched
