#pragma once
// Timing of one denoising step of the model (the UNet forward over a chunk of frames), the unit
// every sampler multiplies.
#include <cstdint>
#include <string>
#include <vector>

#include "model/talking_head.h"

namespace thg::pipeline {

struct UnetBenchOptions {
  int64_t frames = 4;   // frames per forward (one chunk)
  int64_t size = 0;     // image size (0: the model's)
  int warmup = 1;
  int repeats = 5;
  uint64_t seed = 0;
};

struct UnetBenchResult {
  int64_t frames = 0;
  int64_t size = 0;
  std::vector<double> seconds;      // each timed forward
  double median_seconds = 0;
  double per_frame_seconds = 0;     // median / frames
  int64_t peak_rss_bytes = 0;       // the process's peak resident memory (CPU)
  int64_t parameters = 0;
  std::string device;
};

UnetBenchResult bench_unet(const model::TalkingHeadModel& model, const UnetBenchOptions& options);

}  // namespace thg::pipeline
