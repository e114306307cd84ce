#pragma once
// Timing of one denoising step of the model (the UNet forward over a chunk of frames), the unit
// every sampler multiplies; and a grid of it over chunk sizes and attention backends, with the
// same report files as `thg bench samplers` (CSV, JSON, Markdown, an SVG plot).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "model/talking_head.h"
#include "nn/attention.h"

namespace thg::pipeline {

struct UnetBenchOptions {
  int64_t frames = 4;   // frames per forward (one chunk)
  int64_t size = 0;     // image size (0: the model's)
  int warmup = 1;
  int repeats = 5;
  uint64_t seed = 0;
  bool progress = true; // a progress bar over the forwards
};

struct UnetBenchResult {
  int64_t frames = 0;
  int64_t size = 0;
  std::vector<double> seconds;      // each timed forward
  double median_seconds = 0;
  double per_frame_seconds = 0;     // median / frames
  int64_t peak_rss_bytes = 0;       // the process's peak resident memory (CPU)
  int64_t peak_gpu_bytes = -1;      // peak GPU memory allocated during the timed forwards; -1 off CUDA
  int64_t parameters = 0;
  std::string device;
};

UnetBenchResult bench_unet(const model::TalkingHeadModel& model, const UnetBenchOptions& options);

struct UnetBenchGridOptions {
  std::vector<int64_t> frames;                     // chunk sizes; empty: options.frames
  std::vector<nn::AttentionBackend> backends;      // empty: the current process-wide backend
  UnetBenchOptions options;                        // size, warm-up, repeats, seed
  std::function<void(int64_t done, int64_t total, const std::string& cell)> on_cell;
};

struct UnetBenchRow {
  std::string attention;
  UnetBenchResult result;
};

struct UnetBenchReport {
  std::vector<UnetBenchRow> rows;
  std::map<std::string, std::string> about;  // machine, device, dtype, model, options
};

// Every backend x chunk size, each backend set for this thread only (nn::ScopedAttentionBackend).
UnetBenchReport bench_unet_grid(const model::TalkingHeadModel& model, const UnetBenchGridOptions& options);

// results.csv, results.json, results.md and seconds_per_frame_vs_frames.svg in `out`.
void write_unet_bench(const UnetBenchReport& report, const std::filesystem::path& out);

}  // namespace thg::pipeline
