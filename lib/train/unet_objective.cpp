// Stage 2: the denoiser. Each batch is `batch` groups of `frames` consecutive frames of one clip
// (temporal attention sees real motion), all at one timestep per group as at inference; the
// conditions are the clip's portrait (latent + reference tokens) and the speech around each frame.
// Dropped conditions are zeros, exactly what sched/guidance feeds the unconditional branches.
// Optionally (unet.mouth_probe) an auxiliary loss: a linear probe on the audio tokens predicts the
// renderer's mouth shape for each frame.
#include <ATen/ATen.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "sched/schedule.h"
#include "sched/targets.h"
#include "train/objective.h"

namespace thg::train {

namespace {

class UnetObjective : public StageObjective {
 public:
  UnetObjective(model::TalkingHeadModel& m, const StageOptions& s, std::vector<TrainingClip>& clips)
      : model_(m), stage_(s), clips_(clips) {
    train_timesteps_ = m.config().scheduler.num_train_timesteps;
    for (size_t i = 0; i < clips_.size(); ++i)
      if (clips_[i].latents.size(0) >= stage_.frames) usable_.push_back(static_cast<int64_t>(i));
    if (stage_.mouth_probe > 0) {
      // A fixed seed of its own: the probe's start does not shift the batches' random stream.
      at::Generator g = at::make_generator<at::CPUGeneratorImpl>(0x70726f6265ULL);
      const int64_t dim = m.config().audio.dim;
      const auto opts = at::TensorOptions().device(m.device()).dtype(at::kFloat);
      probe_weight_ = (at::randn({kMouthParams, dim}, g, at::kFloat) / std::sqrt(static_cast<double>(dim))).to(opts);
      probe_bias_ = at::zeros({kMouthParams}, opts);
    }
  }

  NamedParams params() override {
    NamedParams p;
    for (auto& [n, t] : model_.unet.named_parameters()) p.emplace_back("unet." + n, t);
    for (auto& [n, t] : model_.audio_encoder.named_parameters()) p.emplace_back("audio_encoder." + n, t);
    for (auto& [n, t] : model_.reference_encoder.named_parameters()) p.emplace_back("reference_encoder." + n, t);
    for (auto& e : objective_params()) p.push_back(e);
    return p;
  }
  NamedParams objective_params() override {
    if (!probe_weight_.defined()) return {};
    return {{"mouth_probe.weight", &probe_weight_}, {"mouth_probe.bias", &probe_bias_}};
  }
  std::string loss_detail() override {
    if (probe_n_ == 0) return {};
    char text[48];
    std::snprintf(text, sizeof text, "  mouth probe %.5f", probe_sum_ / static_cast<double>(probe_n_));
    probe_sum_ = 0;
    probe_n_ = 0;
    return text;
  }
  int64_t items_per_step() const override { return stage_.batch * stage_.frames; }
  const char* item_name() const override { return "frame"; }
  bool has_data() const { return !usable_.empty(); }

  at::Tensor loss(at::Generator& g) override {
    const int64_t groups = stage_.batch, frames = stage_.frames;
    std::vector<at::Tensor> x0, refs, windows, weights, mouths;
    std::vector<float> keep_ref, keep_audio;
    std::vector<int64_t> steps;
    const int64_t downscale = model_.config().vae.downscale();
    for (int64_t k = 0; k < groups; ++k) {
      const int64_t pick = at::randint(static_cast<int64_t>(usable_.size()), {1}, g, at::kLong).item<int64_t>();
      const TrainingClip& c = clips_[static_cast<size_t>(usable_[static_cast<size_t>(pick)])];
      const int64_t start = at::randint(c.latents.size(0) - frames + 1, {1}, g, at::kLong).item<int64_t>();
      x0.push_back(c.latents.slice(0, start, start + frames));
      refs.push_back(c.portrait_latent);
      windows.push_back(c.windows.slice(0, start, start + frames));
      mouths.push_back(c.mouth_shape.slice(0, start, start + frames));
      const int64_t h = c.latents.size(-1);
      weights.push_back(mouth_weights(c.mouth_boxes.slice(0, start, start + frames), h * downscale, h,
                                      stage_.mouth_weight));
      const double r = at::rand({1}, g).item<double>();
      keep_ref.push_back(r < stage_.drop_all ? 0.f : 1.f);
      keep_audio.push_back(r < stage_.drop_all + stage_.drop_audio ? 0.f : 1.f);
      steps.push_back(at::randint(train_timesteps_, {1}, g, at::kLong).item<int64_t>());
    }
    const auto opts = at::TensorOptions().device(model_.device()).dtype(at::kFloat);
    at::Tensor clean = at::cat(x0, 0).to(opts);
    at::Tensor t_group = at::tensor(steps, at::kLong);
    at::Tensor t = t_group.repeat_interleave(frames);
    at::Tensor noise = at::randn(clean.sizes(), g, at::kFloat).to(opts);
    // Noising, the model's timestep and the target for the config's parameterisation: sched/targets,
    // the same forward process the samplers invert.
    const sched::NoisedBatch noised = sched::noise_for_training(model_.config().scheduler, clean, noise, t);

    at::Tensor kr = at::tensor(keep_ref, at::kFloat).to(opts);
    at::Tensor ka = at::tensor(keep_audio, at::kFloat).to(opts);
    at::Tensor ref_latents = at::cat(refs, 0).to(opts) * kr.view({-1, 1, 1, 1});                  // [G, C, h, w]
    at::Tensor ref_tokens = model_.reference_tokens(at::cat(refs, 0)) * kr.view({-1, 1, 1});       // [G, N, D]
    at::Tensor audio_kept = model_.audio_tokens(at::cat(windows, 0));  // [G*F, W, D]
    at::Tensor audio = audio_kept * ka.repeat_interleave(frames).view({-1, 1, 1});
    at::Tensor pred = model_.denoise(noised.noisy, noised.model_timestep, ref_latents.repeat_interleave(frames, 0),
                                     ref_tokens.repeat_interleave(frames, 0), audio, frames);

    at::Tensor w = at::cat(weights, 0).to(opts);
    at::Tensor loss = (w * (pred - noised.target).pow(2)).mean();
    if (probe_weight_.defined()) {
      // On every frame's tokens, dropped or not: the probe teaches the encoder, not the UNet.
      at::Tensor guess = at::addmm(probe_bias_, audio_kept.mean(1), probe_weight_.t());
      at::Tensor probe_loss = (guess - at::cat(mouths, 0).to(opts)).pow(2).mean();
      probe_sum_ += probe_loss.item<double>();
      ++probe_n_;
      loss = loss + stage_.mouth_probe * probe_loss;
    }
    return loss;
  }

 private:
  model::TalkingHeadModel& model_;
  StageOptions stage_;
  std::vector<TrainingClip>& clips_;
  int64_t train_timesteps_ = 0;
  std::vector<int64_t> usable_;
  static constexpr int64_t kMouthParams = 5;  // TrainingClip::mouth_shape's columns
  at::Tensor probe_weight_, probe_bias_;      // [5, D], [5]; undefined when mouth_probe is 0
  double probe_sum_ = 0;
  int64_t probe_n_ = 0;
};

}  // namespace

std::unique_ptr<StageObjective> make_unet_objective(model::TalkingHeadModel& m, const StageOptions& s,
                                                    std::vector<TrainingClip>& clips) {
  auto objective = std::make_unique<UnetObjective>(m, s, clips);
  if (!objective->has_data())
    throw Error::input("dataset", "no training clip has " + std::to_string(s.frames) + " frames (unet.frames)");
  return objective;
}

}  // namespace thg::train
