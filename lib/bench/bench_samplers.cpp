#include "model/talking_head.h"
#include "bench/bench_samplers.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/atomic_file.h"
#include "core/machine.h"
#include "core/cancel.h"
#include "core/error.h"
#include "eval/metrics.h"
#include "eval/svg_plot.h"
#include "io/video_reader.h"
#include "sched/scheduler.h"


namespace thg::pipeline {

namespace fs = std::filesystem;

namespace {

double process_peak_rss_mb() { return static_cast<double>(process_peak_rss_bytes()) / 1048576.0; }


struct Clip {
  synth::DatasetClip row;
  ClipTruth truth;
  at::Tensor reference_frames;  // the high-step reference run
};

// One generate call; returns its result and the exact frames it encoded.
std::pair<GenerateResult, at::Tensor> run(const model::ModelFamily& model, GenerateOptions g, const Clip& clip,
                                          const fs::path& output) {
  g.portrait = clip.row.portrait;
  g.audio = clip.row.audio;
  g.placement.crop = false;  // thg-synth portraits are the model's face crops already
  g.output = output;
  g.progress = false;
  at::Tensor frames;
  GenerateResult r = generate_and_keep_frames(model, g, frames);
  return {r, frames};
}

}  // namespace

SamplerBenchReport bench_samplers(const model::ModelFamily& model, const SamplerBenchOptions& o) {
  std::vector<std::string> samplers = o.samplers;
  if (samplers.empty()) samplers = {"ddim", "dpmpp-2m", "euler", "unipc"};
  std::vector<int64_t> steps = o.steps;
  if (steps.empty()) steps = {2, 4, 8, 16, 32, 50};
  // Every name and step count is checked before any work.
  for (const std::string& s : samplers) {
    auto scheduler = sched::make_scheduler(s, sched::SamplerOptions{model.config().scheduler});
    for (int64_t n : steps) scheduler->set_timesteps(n);
  }
  if (o.repeats < 1 || o.clips < 1) throw Error::input("", "--repeats and --clips must be at least 1");

  // No dataset named: the small held-out set that ships with THG (benchmarks/data/heldout-synth).
  const std::filesystem::path dataset = o.dataset.empty() ? model::default_model_paths().heldout : o.dataset;
  std::vector<synth::DatasetClip> rows = synth::read_dataset_manifest(dataset);
  if (static_cast<int64_t>(rows.size()) > o.clips) rows.resize(static_cast<size_t>(o.clips));
  const int64_t size = o.generation.size > 0 ? o.generation.size : model.config().image_size;
  fs::create_directories(o.out / "videos");
  const int64_t total = static_cast<int64_t>(rows.size()) * (1 + static_cast<int64_t>(samplers.size() * steps.size()) * (o.repeats + 1));
  int64_t done = 0;
  auto tick = [&](const std::string& cell) {
    ++done;
    if (o.on_run) o.on_run(done, total, cell);
  };

  SamplerBenchReport report;
  // Ground truth, baseline and the reference run, per clip.
  std::vector<Clip> clips;
  for (const synth::DatasetClip& row : rows) {
    Clip c{row, load_clip_truth(row, size), {}};
    GenerateOptions g = o.generation;
    g.sampler = o.reference_sampler;
    g.steps = o.reference_steps;
    g.max_frames = o.max_frames;
    auto [r, frames] = run(model, g, c, o.out / "videos" / (row.id + "-reference.mp4"));
    c.reference_frames = frames;
    const Scores ref = score_frames(frames, c.truth);
    const Scores base = score_frames(baseline_frames(c.truth, frames.size(0)), c.truth);
    report.reference.psnr += ref.psnr / rows.size();
    report.reference.ssim += ref.ssim / rows.size();
    report.reference.lipsync += ref.lipsync / rows.size();
    report.reference.temporal += ref.temporal / rows.size();
    report.baseline.psnr += base.psnr / rows.size();
    report.baseline.ssim += base.ssim / rows.size();
    report.baseline.lipsync += base.lipsync / rows.size();
    report.baseline.temporal += base.temporal / rows.size();
    clips.push_back(std::move(c));
    tick("reference " + o.reference_sampler + " x" + std::to_string(o.reference_steps));
  }

  for (const std::string& sampler : samplers) {
    for (int64_t n : steps) {
      SamplerBenchRow row;
      reset_peak_gpu_bytes(model.device());
      row.sampler = sampler;
      row.steps = n;
      std::vector<double> denoise, whole;
      for (Clip& c : clips) {
        GenerateOptions g = o.generation;
        g.sampler = sampler;
        g.steps = n;
        g.max_frames = o.max_frames;
        const fs::path video = o.out / "videos" / (c.row.id + "-" + sampler + "-" + std::to_string(n) + ".mp4");
        // Warm-up (untimed, also the quality run: same seed, so every repeat makes the same video).
        throw_if_interrupted();
        auto [first, frames] = run(model, g, c, video);
        tick(sampler + " x" + std::to_string(n));
        row.evaluations_per_frame = first.model_evaluations;
        const Scores s = score_frames(frames, c.truth);
        row.quality.psnr += s.psnr / clips.size();
        row.quality.ssim += s.ssim / clips.size();
        row.quality.lipsync += s.lipsync / clips.size();
        row.quality.temporal += s.temporal / clips.size();
        const int64_t k = std::min(frames.size(0), c.reference_frames.size(0));
        row.psnr_vs_reference += eval::psnr(frames.slice(0, 0, k), c.reference_frames.slice(0, 0, k)) / clips.size();
        for (int rep = 0; rep < o.repeats; ++rep) {
          throw_if_interrupted();
          auto [r, unused] = run(model, g, c, video);
          (void)unused;
          denoise.push_back(r.stage_seconds["denoise"] / static_cast<double>(r.frames));
          whole.push_back(r.total_seconds / static_cast<double>(r.frames));
          tick(sampler + " x" + std::to_string(n));
        }
      }
      row.seconds_per_frame = median(denoise);
      row.total_seconds_per_frame = median(whole);
      row.peak_memory_mb = process_peak_rss_mb();
      if (const int64_t gpu_bytes = peak_gpu_bytes(model.device()); gpu_bytes >= 0)
        row.peak_gpu_memory_mb = static_cast<double>(gpu_bytes) / 1048576.0;
      report.rows.push_back(row);
    }
  }
  report.about["cpu"] = cpu_name();
  report.about["threads"] = std::to_string(at::get_num_threads());
  report.about["device"] = model.device().str();
  report.about["dtype"] = std::string(c10::toString(model.dtype()));
  report.about["model"] = model.config().name;
  report.about["size"] = std::to_string(size);
  report.about["clips"] = std::to_string(clips.size());
  report.about["frames_per_clip"] = o.max_frames > 0 ? std::to_string(o.max_frames) : "all";
  report.about["repeats"] = std::to_string(o.repeats);
  report.about["seed"] = std::to_string(o.generation.seed);
  report.about["reference"] = o.reference_sampler + " x" + std::to_string(o.reference_steps);
  report.about["dataset"] = dataset.string();
  report.about["peak_memory"] = "process peak RSS (monotonic over the run); GPU: peak allocated per cell";
  return report;
}

void write_sampler_bench(const SamplerBenchReport& r, const fs::path& out) {
  fs::create_directories(out);
  std::ostringstream csv;
  csv << "sampler,steps,evaluations_per_frame,denoise_seconds_per_frame,total_seconds_per_frame,peak_memory_mb,peak_gpu_memory_mb,"
         "psnr_db,ssim,lipsync_pearson,temporal_error,psnr_vs_reference_db\n";
  for (const auto& x : r.rows)
    csv << x.sampler << ',' << x.steps << ',' << x.evaluations_per_frame << ',' << x.seconds_per_frame << ','
        << x.total_seconds_per_frame << ',' << x.peak_memory_mb << ','
        << (x.peak_gpu_memory_mb < 0 ? std::string() : std::to_string(x.peak_gpu_memory_mb)) << ',' << x.quality.psnr << ',' << x.quality.ssim << ','
        << x.quality.lipsync << ',' << x.quality.temporal << ',' << x.psnr_vs_reference << '\n';
  write_file_atomically(out / "results.csv", csv.str());

  auto scores = [](const Scores& s) {
    return nlohmann::ordered_json{{"psnr_db", s.psnr}, {"ssim", s.ssim}, {"lipsync_pearson", s.lipsync},
                                  {"temporal_error", s.temporal}};
  };
  nlohmann::ordered_json j;
  j["about"] = r.about;
  j["baseline_repeat_portrait"] = scores(r.baseline);
  j["reference_run"] = scores(r.reference);
  for (const auto& x : r.rows)
    j["rows"].push_back({{"sampler", x.sampler},
                         {"steps", x.steps},
                         {"evaluations_per_frame", x.evaluations_per_frame},
                         {"denoise_seconds_per_frame", x.seconds_per_frame},
                         {"total_seconds_per_frame", x.total_seconds_per_frame},
                         {"peak_memory_mb", x.peak_memory_mb},
                         {"peak_gpu_memory_mb", x.peak_gpu_memory_mb < 0 ? nlohmann::ordered_json() : nlohmann::ordered_json(x.peak_gpu_memory_mb)},
                         {"quality", scores(x.quality)},
                         {"psnr_vs_reference_db", x.psnr_vs_reference}});
  write_file_atomically(out / "results.json", j.dump(2) + "\n");

  std::ostringstream md;
  char line[320];
  md << "# Sampler benchmark\n\n";
  for (const auto& [k, v] : r.about) md << "- " << k << ": " << v << "\n";
  md << "\n| Sampler | Steps | UNet evals/frame | Denoise s/frame | Total s/frame | PSNR (dB) | SSIM | Lip-sync | "
        "Temporal err | PSNR vs reference (dB) |\n|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& x : r.rows) {
    std::snprintf(line, sizeof line, "| %s | %lld | %lld | %.4f | %.4f | %.2f | %.4f | %.3f | %.2f | %.2f |\n",
                  x.sampler.c_str(), static_cast<long long>(x.steps), static_cast<long long>(x.evaluations_per_frame),
                  x.seconds_per_frame, x.total_seconds_per_frame, x.quality.psnr, x.quality.ssim, x.quality.lipsync,
                  x.quality.temporal, x.psnr_vs_reference);
    md << line;
  }
  std::snprintf(line, sizeof line,
                "\nReference run (%s): PSNR %.2f dB, SSIM %.4f, lip-sync %.3f. Baseline (repeat the portrait): PSNR "
                "%.2f dB, SSIM %.4f, lip-sync %.3f.\n",
                r.about.count("reference") ? r.about.at("reference").c_str() : "", r.reference.psnr, r.reference.ssim,
                r.reference.lipsync, r.baseline.psnr, r.baseline.ssim, r.baseline.lipsync);
  md << line;
  write_file_atomically(out / "results.md", md.str());

  auto chart = [&](const std::string& title, const std::string& xl, const std::string& yl, bool log_x,
                   auto x_of, auto y_of) {
    eval::LineChart c{title, xl, yl, log_x, {}};
    std::map<std::string, eval::Series> by;
    std::vector<std::string> order;
    for (const auto& x : r.rows) {
      if (!by.count(x.sampler)) order.push_back(x.sampler);
      by[x.sampler].name = x.sampler;
      by[x.sampler].points.emplace_back(x_of(x), y_of(x));
    }
    for (const auto& name : order) c.series.push_back(by[name]);
    return eval::render_svg(c);
  };
  auto evals = [](const SamplerBenchRow& x) { return static_cast<double>(x.evaluations_per_frame); };
  auto time = [](const SamplerBenchRow& x) { return x.seconds_per_frame; };
  auto psnr = [](const SamplerBenchRow& x) { return x.quality.psnr; };
  auto lipsync = [](const SamplerBenchRow& x) { return x.quality.lipsync; };
  auto vs_ref = [](const SamplerBenchRow& x) { return x.psnr_vs_reference; };
  write_file_atomically(out / "psnr_vs_evaluations.svg",
             chart("PSNR against ground truth vs UNet evaluations", "UNet evaluations per frame", "PSNR (dB)", true, evals, psnr));
  write_file_atomically(out / "lipsync_vs_evaluations.svg",
             chart("Lip-sync vs UNet evaluations", "UNet evaluations per frame", "lip-sync (Pearson)", true, evals, lipsync));
  write_file_atomically(out / "reference_psnr_vs_evaluations.svg",
             chart("Distance to the high-step reference", "UNet evaluations per frame", "PSNR vs reference (dB)", true, evals, vs_ref));
  write_file_atomically(out / "psnr_vs_time.svg",
             chart("PSNR vs denoising time per frame", "seconds per frame", "PSNR (dB)", false, time, psnr));
}

}  // namespace thg::pipeline
