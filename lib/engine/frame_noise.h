#pragma once
// The initial noise of video frame `frame` under `seed`: drawn on the CPU from a generator seeded
// by (seed, frame), so the same seed gives the same frame whatever the chunk size or device.
// Public so that tests and embedders can reproduce a generation step by step.
#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <cstdint>

namespace thg::pipeline {

at::Tensor frame_noise(uint64_t seed, int64_t frame, c10::IntArrayRef shape);

}  // namespace thg::pipeline
