#include "pipeline/bench_unet.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "core/progress.h"

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

  Progress bar("bench unet", o.warmup + o.repeats, "forwards");
  for (int i = 0; i < o.warmup + o.repeats; ++i) {
    synchronize(model.device());
    const auto start = std::chrono::steady_clock::now();
    at::Tensor out = model.denoise(noisy, t, reference, ref_tokens, audio, o.frames);
    synchronize(model.device());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (i >= o.warmup) r.seconds.push_back(s);
    bar.advance();
  }
  bar.finish();
  std::vector<double> sorted = r.seconds;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  r.median_seconds = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  r.per_frame_seconds = r.median_seconds / static_cast<double>(o.frames);
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  r.peak_rss_bytes = static_cast<int64_t>(usage.ru_maxrss) * 1024;
  for (auto& [name, count] : const_cast<model::TalkingHeadModel&>(model).parameter_counts())
    if (name == "unet") r.parameters = count;
  return r;
}

}  // namespace thg::pipeline
