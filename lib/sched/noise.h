#pragma once
// Where stochastic samplers get their noise: a function returning a standard-normal tensor shaped
// like its argument. Production draws from a seeded generator (same noise on every device); the
// parity tests inject the exact noise the reference drew.
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <functional>

namespace thg::sched {

using NoiseFn = std::function<at::Tensor(const at::Tensor& like)>;

// Standard normal noise from `generator` (a CPU generator), moved to `like`'s device and dtype.
NoiseFn gaussian_noise(at::Generator& generator);

}  // namespace thg::sched
