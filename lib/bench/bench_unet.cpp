#include "bench/bench_unet.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/machine.h"
#include "core/progress.h"
#include "eval/svg_plot.h"

#ifdef THG_HAVE_CUDA_KERNELS
#include <ATen/cuda/CUDAContext.h>
#endif

namespace thg::pipeline {

namespace {
void synchronize(const c10::Device& device) {
#ifdef THG_HAVE_CUDA_KERNELS
  if (device.is_cuda()) at::cuda::getCurrentCUDAStream(device.index()).synchronize();
#else
  (void)device;
#endif
}
}  // namespace

UnetBenchResult bench_unet(const model::TalkingHeadModel& model, const UnetBenchOptions& o) {
  const auto& cfg = model.config();
  UnetBenchResult r;
  r.frames = o.frames;
  r.size = o.size > 0 ? o.size : cfg.image_size;
  r.device = model.device().str();
  if (o.frames < 1 || o.repeats < 1 || o.warmup < 0) throw Error::input("", "bench: frames and repeats must be >= 1");
  if (r.size % cfg.size_granularity() != 0)
    throw Error::input("", "bench: --size must be a multiple of " + std::to_string(cfg.size_granularity()));
  c10::InferenceMode inference;
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  const auto options = at::TensorOptions().device(model.device()).dtype(model.dtype());
  const int64_t lat = cfg.latent_size(r.size);
  at::Tensor reference = at::randn({1, cfg.vae.latent_channels, lat, lat}, g).to(options);
  at::Tensor ref_tokens = model.reference_tokens(reference);
  at::Tensor audio = model.audio_tokens(at::randn({o.frames, cfg.audio.mel.n_mels, model.audio_window()}, g));
  at::Tensor noisy = at::randn({o.frames, cfg.vae.latent_channels, lat, lat}, g).to(options);
  at::Tensor t = at::full({o.frames}, 500.0, options);

  reset_peak_gpu_bytes(model.device());
  std::optional<Progress> bar;
  if (o.progress) bar.emplace("bench unet", o.warmup + o.repeats, "forwards");
  for (int i = 0; i < o.warmup + o.repeats; ++i) {
    synchronize(model.device());
    const auto start = std::chrono::steady_clock::now();
    at::Tensor out = model.denoise(noisy, t, reference, ref_tokens, audio, o.frames);
    synchronize(model.device());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (i >= o.warmup) r.seconds.push_back(s);
    if (bar) bar->advance();
  }
  if (bar) bar->finish();
  r.median_seconds = median(r.seconds);
  r.per_frame_seconds = r.median_seconds / static_cast<double>(o.frames);
  r.peak_rss_bytes = process_peak_rss_bytes();
  r.peak_gpu_bytes = peak_gpu_bytes(model.device());
  for (auto& [name, count] : const_cast<model::TalkingHeadModel&>(model).parameter_counts())
    if (name == "unet") r.parameters = count;
  return r;
}

UnetBenchReport bench_unet_grid(const model::TalkingHeadModel& model, const UnetBenchGridOptions& o) {
  const std::vector<int64_t> frames = o.frames.empty() ? std::vector<int64_t>{o.options.frames} : o.frames;
  const std::vector<nn::AttentionBackend> backends =
      o.backends.empty() ? std::vector<nn::AttentionBackend>{nn::attention_backend()} : o.backends;
  for (int64_t f : frames)
    if (f < 1) throw Error::input("", "bench: frames must be >= 1");
  UnetBenchReport report;
  report.about["cpu"] = cpu_name();
  report.about["threads"] = std::to_string(at::get_num_threads());
  report.about["device"] = model.device().str();
  report.about["dtype"] = std::string(c10::toString(model.dtype()));
  report.about["model"] = model.config().name;
  report.about["warmup"] = std::to_string(o.options.warmup);
  report.about["repeats"] = std::to_string(o.options.repeats);
  report.about["seed"] = std::to_string(o.options.seed);
  report.about["timing"] = "median of the timed forwards after the warm-up; device synchronised around each";
  const int64_t total = static_cast<int64_t>(frames.size() * backends.size());
  for (nn::AttentionBackend backend : backends) {
    const nn::ScopedAttentionBackend scoped(backend);  // this thread only; the default is untouched
    for (int64_t f : frames) {
      const std::string cell = std::string(nn::attention_backend_name(backend)) + " x" + std::to_string(f) + " frames";
      if (o.on_cell) o.on_cell(static_cast<int64_t>(report.rows.size()), total, cell);
      UnetBenchOptions cell_options = o.options;
      cell_options.frames = f;
      report.rows.push_back({nn::attention_backend_name(backend), bench_unet(model, cell_options)});
    }
  }
  if (o.on_cell) o.on_cell(total, total, "");
  if (!report.rows.empty()) report.about["size"] = std::to_string(report.rows.front().result.size);
  return report;
}

void write_unet_bench(const UnetBenchReport& r, const std::filesystem::path& out) {
  std::filesystem::create_directories(out);
  std::ostringstream csv;
  auto gpu_mb = [](int64_t bytes) { return bytes < 0 ? std::string() : std::to_string(bytes / 1048576.0); };
  csv << "attention,frames,size,median_seconds,seconds_per_frame,peak_rss_mb,peak_gpu_mb,unet_parameters\n";
  for (const auto& x : r.rows)
    csv << x.attention << ',' << x.result.frames << ',' << x.result.size << ',' << x.result.median_seconds << ','
        << x.result.per_frame_seconds << ',' << x.result.peak_rss_bytes / 1048576.0 << ','
        << gpu_mb(x.result.peak_gpu_bytes) << ',' << x.result.parameters << '\n';
  write_file_atomically(out / "results.csv", csv.str());

  nlohmann::ordered_json j;
  j["about"] = r.about;
  for (const auto& x : r.rows)
    j["rows"].push_back({{"attention", x.attention},
                         {"frames", x.result.frames},
                         {"size", x.result.size},
                         {"seconds", x.result.seconds},
                         {"median_seconds", x.result.median_seconds},
                         {"seconds_per_frame", x.result.per_frame_seconds},
                         {"peak_rss_bytes", x.result.peak_rss_bytes},
                         {"peak_gpu_bytes", x.result.peak_gpu_bytes >= 0 ? nlohmann::ordered_json(x.result.peak_gpu_bytes) : nlohmann::ordered_json()},
                         {"unet_parameters", x.result.parameters}});
  write_file_atomically(out / "results.json", j.dump(2) + "\n");

  std::ostringstream md;
  md << "# UNet step benchmark\n\n";
  for (const auto& [k, v] : r.about) md << "- " << k << ": " << v << "\n";
  md << "\n| Attention | Frames per forward | Median s per forward | ms per frame | Peak RSS (MB) | Peak GPU (MB) |\n"
        "|---|---|---|---|---|---|\n";
  char line[240];
  for (const auto& x : r.rows) {
    std::snprintf(line, sizeof line, "| %s | %lld | %.4f | %.2f | %.0f | %s |\n", x.attention.c_str(),
                  static_cast<long long>(x.result.frames), x.result.median_seconds, x.result.per_frame_seconds * 1000,
                  x.result.peak_rss_bytes / 1048576.0,
                  x.result.peak_gpu_bytes < 0 ? "" : std::to_string(x.result.peak_gpu_bytes / 1048576).c_str());
    md << line;
  }
  write_file_atomically(out / "results.md", md.str());

  eval::LineChart chart{"UNet step: time per frame vs frames per forward", "frames per forward", "ms per frame", true, {}};
  for (const auto& x : r.rows) {
    auto it = std::find_if(chart.series.begin(), chart.series.end(), [&](const eval::Series& s) { return s.name == x.attention; });
    if (it == chart.series.end()) it = chart.series.insert(chart.series.end(), eval::Series{x.attention, {}});
    it->points.emplace_back(static_cast<double>(x.result.frames), x.result.per_frame_seconds * 1000);
  }
  write_file_atomically(out / "seconds_per_frame_vs_frames.svg", eval::render_svg(chart));
}

}  // namespace thg::pipeline
