// Stage 1: the autoencoder learns to reconstruct frames (L1 + L2, weighted up inside the mouth
// box, where the lip-sync lives in a few pixels) with a small KL term keeping latents Gaussian.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>

#include "train/objective.h"

namespace thg::train {

namespace {

at::Tensor to_model_images(const at::Tensor& rgb8) {  // uint8 [N, S, S, 3] -> float [N, 3, S, S] in [-1, 1]
  return rgb8.permute({0, 3, 1, 2}).to(at::kFloat).div(127.5).sub(1.0);
}

class VaeObjective : public StageObjective {
 public:
  VaeObjective(model::TalkingHeadModel& m, const StageOptions& s, const std::vector<TrainingClip>& clips)
      : model_(m), stage_(s), clips_(clips) {}

  NamedParams params() override { return model_.vae.named_parameters(); }
  int64_t items_per_step() const override { return stage_.batch; }
  const char* item_name() const override { return "img"; }

  at::Tensor loss(at::Generator& g) override {
    const int64_t b = stage_.batch;
    std::vector<at::Tensor> images, boxes;
    const auto clip_index = at::randint(static_cast<int64_t>(clips_.size()), {b}, g, at::kLong);
    for (int64_t i = 0; i < b; ++i) {
      const TrainingClip& c = clips_[static_cast<size_t>(clip_index[i].item<int64_t>())];
      const int64_t f = at::randint(c.frames.size(0), {1}, g, at::kLong).item<int64_t>();
      at::Tensor image = c.frames[f];
      at::Tensor box = c.mouth_boxes[f].clone();
      const int64_t full = image.size(0), crop = stage_.crop;
      if (crop > 0 && crop < full) {
        // Half the crops are centred (with jitter) on the mouth, where the detail that matters is.
        auto draw = [&](int64_t n) { return at::randint(n, {1}, g, at::kLong).item<int64_t>(); };
        int64_t x0 = draw(full - crop + 1), y0 = draw(full - crop + 1);
        if (i % 2 == 0) {
          const int64_t cx = (box[0].item<int64_t>() + box[2].item<int64_t>()) / 2 + draw(17) - 8;
          const int64_t cy = (box[1].item<int64_t>() + box[3].item<int64_t>()) / 2 + draw(17) - 8;
          x0 = std::clamp<int64_t>(cx - crop / 2, 0, full - crop);
          y0 = std::clamp<int64_t>(cy - crop / 2, 0, full - crop);
        }
        image = image.slice(0, y0, y0 + crop).slice(1, x0, x0 + crop);
        box -= at::tensor({x0, y0, x0, y0}, at::kLong);
        box = box.clamp(0, crop);
      }
      images.push_back(image);
      boxes.push_back(box);
    }
    const auto opts = at::TensorOptions().device(model_.device()).dtype(at::kFloat);
    at::Tensor x = to_model_images(at::stack(images)).to(opts);
    const int64_t size = x.size(-1);
    at::Tensor w = mouth_weights(at::stack(boxes), size, size, stage_.mouth_weight).to(opts);
    auto moments = model_.vae.encode_moments(x).chunk(2, 1);
    at::Tensor mean = moments[0], logvar = moments[1].clamp(-30.0, 20.0);
    at::Tensor eps = at::randn(mean.sizes(), g, at::kFloat).to(opts);
    at::Tensor z = mean + (logvar * 0.5).exp() * eps;
    at::Tensor recon = model_.vae.decode(z * model_.vae.config.scaling_factor);
    at::Tensor diff = recon - x;
    at::Tensor rec = (w * diff.abs()).mean() + (w * diff.pow(2)).mean();
    at::Tensor kl = 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum() / static_cast<double>(x.numel());
    return rec + stage_.kl_weight * kl * static_cast<double>(x.size(1) * size * size);
  }

 private:
  model::TalkingHeadModel& model_;
  StageOptions stage_;
  const std::vector<TrainingClip>& clips_;
};

}  // namespace

std::unique_ptr<StageObjective> make_vae_objective(model::TalkingHeadModel& m, const StageOptions& s,
                                                   const std::vector<TrainingClip>& clips) {
  return std::make_unique<VaeObjective>(m, s, clips);
}

void encode_clip_latents(const model::TalkingHeadModel& model, std::vector<TrainingClip>& clips) {
  at::NoGradGuard no_grad;
  const auto opts = at::TensorOptions().device(model.device()).dtype(at::kFloat);
  // The posterior mean (no sampling): deterministic targets, as the generator decodes means too.
  auto encode = [&](const at::Tensor& images01) {
    return model.vae.encode(images01.to(opts) * 2.0 - 1.0).to(at::kCPU);
  };
  for (TrainingClip& c : clips) {
    std::vector<at::Tensor> parts;
    for (int64_t s = 0; s < c.frames.size(0); s += 32)
      parts.push_back(encode(c.frames.slice(0, s, s + 32).permute({0, 3, 1, 2}).to(at::kFloat).div(255.0)));
    c.latents = at::cat(parts, 0);
    c.portrait_latent = encode(c.portrait.unsqueeze(0));
  }
}

double latent_std(const model::TalkingHeadModel& model, const std::vector<TrainingClip>& clips, int64_t frames) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> means;
  int64_t taken = 0;
  for (size_t i = 0; i < clips.size() && taken < frames; ++i) {
    const TrainingClip& c = clips[i];
    at::Tensor x = c.frames.slice(0, 0, 8).permute({0, 3, 1, 2}).to(at::kFloat).div(127.5).sub(1.0);
    means.push_back(model.vae.encode_moments(x.to(model.device())).chunk(2, 1)[0].to(at::kCPU));
    taken += x.size(0);
  }
  return at::cat(means, 0).std().item<double>();
}

}  // namespace thg::train
