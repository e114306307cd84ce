#include "sched/noise.h"

#include <ATen/ATen.h>

namespace thg::sched {

NoiseFn gaussian_noise(at::Generator& generator) {
  return [&generator](const at::Tensor& like) {
    return at::randn(like.sizes(), generator, at::kFloat).to(like.options());
  };
}

}  // namespace thg::sched
