#pragma once
// End-to-end speed of generation: a portrait and speech already in memory -> finished RGB frames
// on the host (audio features, reference encoding, every denoising step with guidance, VAE
// decoding, the copy off the device). Only media decoding and video encoding are left out, so it
// runs in builds without FFmpeg (the GPU machine) and measures the model, not the codec.
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/family.h"
#include "engine/generate.h"

namespace thg::pipeline {

struct E2eBenchOptions {
  double seconds = 8.0;   // speech length per run
  int warmup = 1;         // untimed runs first (a one-chunk clip each)
  int repeats = 3;        // timed runs (median reported)
  GenerateOptions generation;  // sampler, steps, guidance, size, chunking...; paths are ignored
  bool progress = true;
};

struct E2eBenchResult {
  int64_t frames = 0;        // frames per run
  int fps = 0;               // the video's frame rate
  int64_t size = 0;
  std::string sampler;
  int64_t steps = 0;
  int64_t model_evaluations = 0;  // UNet forwards per frame
  std::vector<double> seconds;    // each timed run
  double median_seconds = 0;
  double frames_per_second = 0;   // frames / median
  double realtime_factor = 0;     // frames_per_second / fps: above 1 is faster than playback
  std::map<std::string, double> stage_seconds;  // of the median run
  int64_t peak_rss_bytes = 0;
  int64_t peak_gpu_bytes = -1;
  std::map<std::string, std::string> about;
};

// A synthetic portrait (smooth, face-like shading) and speech-like audio (a voiced tone whose
// loudness rises and falls at syllable rate), both deterministic: the workload's shape is what
// counts, and generation does the same work whatever the pixels are.
GenerateInputs synthetic_inputs(int64_t size, double seconds, int sample_rate);

E2eBenchResult bench_e2e(const model::ModelFamily& model, const E2eBenchOptions& options);

// The result as JSON (results.json's content; thg bench e2e --json prints it too).
nlohmann::ordered_json e2e_bench_json(const E2eBenchResult& result);

// results.json and results.md in `out`.
void write_e2e_bench(const E2eBenchResult& result, const std::filesystem::path& out);

}  // namespace thg::pipeline
