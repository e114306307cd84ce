#include "bench/bench_e2e.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "model/face_warp.h"
#include "core/machine.h"
#include "core/progress.h"

namespace thg::pipeline {

namespace {

// Counts the frames and drops them: the benchmark's output stage costs nothing of its own.
class CountingFrameSink : public io::FrameSink {
 public:
  void finish() override {}
  int64_t frames() const { return frames_; }

 private:
  void on_frames(const at::Tensor& frames, int64_t) override { frames_ += frames.size(0); }
  int64_t frames_ = 0;
};

}  // namespace

GenerateInputs synthetic_inputs(int64_t size, double seconds, int sample_rate) {
  if (size < 1 || seconds <= 0 || sample_rate < 1) throw Error::input("", "bench: size, seconds and rate must be positive");
  GenerateInputs in;
  // Skin-coloured ellipse on a grey background with darker eyes and mouth, shaded smoothly.
  const at::Tensor y = at::linspace(-1, 1, size).view({size, 1}).expand({size, size});
  const at::Tensor x = at::linspace(-1, 1, size).view({1, size}).expand({size, size});
  const at::Tensor face = ((x / 0.6).pow(2) + (y / 0.8).pow(2) < 1).to(at::kFloat);
  auto blob = [&](double cx, double cy, double rx, double ry) {
    return (((x - cx) / rx).pow(2) + ((y - cy) / ry).pow(2) < 1).to(at::kFloat);
  };
  const at::Tensor features = at::clamp(blob(-0.25, -0.2, 0.12, 0.06) + blob(0.25, -0.2, 0.12, 0.06) +
                                            blob(0, 0.4, 0.25, 0.07), 0, 1);
  const at::Tensor shade = 1 - 0.15 * (x.pow(2) + y.pow(2));
  std::vector<at::Tensor> channels;
  const double skin[3] = {0.85, 0.65, 0.55};
  for (double c : skin) channels.push_back((0.5 * (1 - face) + face * (c * shade) * (1 - 0.6 * features)).clamp(0, 1));
  in.portrait = at::stack(channels).contiguous();
  // Its landmarks, for families that render from the face: the face template's (the drawing's eyes
  // and mouth sit within a few pixels of the template's).
  const model::FaceTemplateConfig layout;
  in.landmarks = model::landmarks_tensor(
      model::template_landmarks(layout.eye_y, layout.eye_distance, layout.mouth_y, static_cast<int>(size)));

  in.speech.sample_rate = sample_rate;
  in.speech.channels = 1;
  const auto n = static_cast<size_t>(std::llround(seconds * sample_rate));
  in.speech.samples.resize(n);
  constexpr double kPi = 3.14159265358979323846;
  for (size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / sample_rate;
    const double syllables = 0.5 - 0.5 * std::cos(2 * kPi * 4.0 * t);  // 4 syllables a second
    const double voice = std::sin(2 * kPi * 120 * t) + 0.5 * std::sin(2 * kPi * 240 * t) + 0.25 * std::sin(2 * kPi * 720 * t);
    in.speech.samples[i] = static_cast<float>(0.3 * syllables * voice);
  }
  return in;
}

E2eBenchResult bench_e2e(const model::ModelFamily& model, const E2eBenchOptions& o) {
  if (o.seconds <= 0 || o.seconds > 3600) throw Error::input("", "--seconds must be in (0, 3600]");
  if (o.repeats < 1 || o.warmup < 0) throw Error::input("", "--repeats must be >= 1 and --warmup >= 0");
  const auto& cfg = model.config();
  const int64_t size = o.generation.size > 0 ? o.generation.size : cfg.image_size;
  const GenerateInputs inputs = synthetic_inputs(size, o.seconds, cfg.audio.mel.sample_rate);
  GenerateOptions options = o.generation;
  options.progress = false;

  E2eBenchResult r;
  std::optional<Progress> bar;
  if (o.progress) bar.emplace("bench e2e", o.warmup + o.repeats, "runs");
  reset_peak_gpu_bytes(model.device());
  std::vector<GenerateResult> runs;
  for (int i = 0; i < o.warmup + o.repeats; ++i) {
    GenerateOptions run = options;
    const bool warm = i < o.warmup;
    if (warm) run.max_frames = options.chunk_frames > 0 ? options.chunk_frames : cfg.generation.chunk_frames;
    CountingFrameSink sink;
    const auto start = std::chrono::steady_clock::now();
    GenerateResult g = generate(model, inputs, run, sink);  // returns after the frames are on the host
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (sink.frames() != g.frames)
      throw Error::failure("", "bench e2e: the sink received " + std::to_string(sink.frames()) + " frames of " +
                                   std::to_string(g.frames));
    if (!warm) {
      r.seconds.push_back(s);
      runs.push_back(std::move(g));
    }
    if (bar) bar->advance();
  }
  if (bar) bar->finish();
  r.median_seconds = median(r.seconds);
  // The stage split of the run closest to the median.
  size_t closest = 0;
  for (size_t i = 1; i < r.seconds.size(); ++i)
    if (std::abs(r.seconds[i] - r.median_seconds) < std::abs(r.seconds[closest] - r.median_seconds)) closest = i;
  const GenerateResult& g = runs[closest];
  r.frames = g.frames;
  r.fps = g.fps;
  r.size = g.size;
  r.sampler = g.sampler;
  r.steps = g.steps;
  r.model_evaluations = g.model_evaluations;
  r.stage_seconds = g.stage_seconds;
  r.frames_per_second = static_cast<double>(r.frames) / r.median_seconds;
  r.realtime_factor = r.frames_per_second / r.fps;
  r.peak_rss_bytes = process_peak_rss_bytes();
  r.peak_gpu_bytes = peak_gpu_bytes(model.device());
  r.about["cpu"] = cpu_name();
  r.about["threads"] = std::to_string(at::get_num_threads());
  r.about["device"] = model.device().str();
  r.about["dtype"] = std::string(c10::toString(model.dtype()));
  r.about["model"] = cfg.name;
  r.about["inputs"] = "synthetic portrait and speech-like audio (pipeline/bench_e2e.h), " + std::to_string(o.seconds) + " s";
  r.about["timing"] = "wall clock of generate() from decoded inputs to RGB frames on the host; median of " +
                      std::to_string(o.repeats) + " runs after " + std::to_string(o.warmup) + " warm-up";
  return r;
}

nlohmann::ordered_json e2e_bench_json(const E2eBenchResult& r) {
  nlohmann::ordered_json j;
  j["about"] = r.about;
  j["frames"] = r.frames;
  j["fps"] = r.fps;
  j["size"] = r.size;
  j["sampler"] = r.sampler;
  j["steps"] = r.steps;
  j["model_evaluations_per_frame"] = r.model_evaluations;
  j["seconds"] = r.seconds;
  j["median_seconds"] = r.median_seconds;
  j["frames_per_second"] = r.frames_per_second;
  j["realtime_factor"] = r.realtime_factor;
  j["stage_seconds"] = r.stage_seconds;
  j["peak_rss_bytes"] = r.peak_rss_bytes;
  j["peak_gpu_bytes"] = r.peak_gpu_bytes >= 0 ? nlohmann::ordered_json(r.peak_gpu_bytes) : nlohmann::ordered_json();
  return j;
}

void write_e2e_bench(const E2eBenchResult& r, const std::filesystem::path& out) {
  std::filesystem::create_directories(out);
  write_file_atomically(out / "results.json", e2e_bench_json(r).dump(2) + "\n");
  std::ostringstream md;
  md << "# End-to-end generation benchmark\n\n";
  for (const auto& [k, v] : r.about) md << "- " << k << ": " << v << "\n";
  char line[400];
  std::snprintf(line, sizeof line,
                "\n%lld frames of %lldx%lld at %d fps, %s %lld steps (%lld UNet forwards per frame): median %.3f s, "
                "**%.2f frames/s** (%.2fx real time)\n\n| Stage | Seconds |\n|---|---|\n",
                static_cast<long long>(r.frames), static_cast<long long>(r.size), static_cast<long long>(r.size), r.fps,
                r.sampler.c_str(), static_cast<long long>(r.steps), static_cast<long long>(r.model_evaluations),
                r.median_seconds, r.frames_per_second, r.realtime_factor);
  md << line;
  for (const auto& [stage, s] : r.stage_seconds) {
    std::snprintf(line, sizeof line, "| %s | %.3f |\n", stage.c_str(), s);
    md << line;
  }
  write_file_atomically(out / "results.md", md.str());
}

}  // namespace thg::pipeline
