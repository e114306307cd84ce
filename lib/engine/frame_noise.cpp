#include "engine/frame_noise.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace thg::pipeline {

at::Tensor frame_noise(uint64_t seed, int64_t frame, c10::IntArrayRef shape) {
  // splitmix64 of (seed, frame): neighbouring frames and seeds get unrelated generator states.
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(frame + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(z);
  return at::randn(shape, gen, at::kFloat);
}

}  // namespace thg::pipeline
