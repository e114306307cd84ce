#pragma once
// `thg bench samplers`: for each sampler x step count, generate held-out clips and measure speed
// (time per frame: median over repeats after a warm-up; model evaluations; peak memory) and quality
// (PSNR, SSIM, lip-sync, temporal error against the ground truth, and PSNR against a high-step
// reference run with the same seed). Reports: CSV, JSON, Markdown, SVG plots.
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "model/family.h"
#include "bench/evaluate.h"
#include "engine/generate.h"

namespace thg::pipeline {

struct SamplerBenchOptions {
  std::filesystem::path dataset;      // test.jsonl of a thg-synth dataset (portrait, audio, ground truth)
  std::filesystem::path out;
  std::vector<std::string> samplers;  // empty: ddim, dpmpp-2m, euler, unipc
  std::vector<int64_t> steps;         // empty: 2, 4, 8, 16, 32, 50
  int64_t clips = 2;
  int64_t max_frames = 50;            // frames per clip (0: whole clips)
  int repeats = 3;                    // timed runs per cell (median); quality from the first
  std::string reference_sampler = "ddim";
  int64_t reference_steps = 200;
  GenerateOptions generation;         // seed, size, guidance, ... (sampler/steps set per cell)
  std::function<void(int64_t done, int64_t total, const std::string& cell)> on_run;
};

struct SamplerBenchRow {
  std::string sampler;
  int64_t steps = 0;
  int64_t evaluations_per_frame = 0;  // UNet forwards per frame (steps x guidance branches; Heun 2x)
  double seconds_per_frame = 0;       // denoising only, median over repeats
  double total_seconds_per_frame = 0; // the whole generate call, median over repeats
  double peak_memory_mb = 0;          // the process's peak RSS so far (host memory)
  double peak_gpu_memory_mb = -1;     // peak GPU memory allocated during this cell's runs; -1 off CUDA
  Scores quality;                     // against the ground truth, mean over clips
  double psnr_vs_reference = 0;       // against the reference run, mean over clips
};

struct SamplerBenchReport {
  std::vector<SamplerBenchRow> rows;
  Scores baseline;                    // repeat the portrait
  Scores reference;                   // the reference run against the ground truth
  std::map<std::string, std::string> about;  // machine, device, model, options
};

SamplerBenchReport bench_samplers(const model::ModelFamily& model, const SamplerBenchOptions& options);

// results.csv, results.json, results.md, and plots (quality vs evaluations, quality vs time).
void write_sampler_bench(const SamplerBenchReport& report, const std::filesystem::path& out);

}  // namespace thg::pipeline
