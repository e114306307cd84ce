#include <ATen/ATen.h>

#include "core/error.h"
#include "sched/ddim.h"
#include "sched/scheduler.h"

namespace thg::sched {

const std::vector<SamplerInfo>& samplers() {
  static const std::vector<SamplerInfo> list = {
      {"ddim", "DDIM: deterministic with --eta 0, good from ~20 steps"},
  };
  return list;
}

std::unique_ptr<Scheduler> make_scheduler(const std::string& name, const SamplerOptions& options) {
  if (name == "ddim") return std::make_unique<DdimScheduler>(options.schedule, options.eta);
  std::string valid;
  for (const auto& s : samplers()) valid += (valid.empty() ? "" : ", ") + std::string(s.name);
  throw Error::input("", "unknown sampler '" + name + "' (valid: " + valid + ")");
}

}  // namespace thg::sched
