#pragma once
// The pixel-latent family (family: pixel-latent): autoencoder + denoising UNet + audio encoder,
// built from a ModelConfig.
// The reference portrait enters as a latent concatenated to the noisy latent (every frame
// denoises "the portrait, moved"); the audio enters through cross-attention on tokens of the
// speech around each frame.
#include <c10/core/Device.h>

#include <filesystem>
#include <memory>
#include <string>

#include "model/audio_encoder.h"
#include "model/config.h"
#include "model/family.h"

namespace thg::model {

class TalkingHeadModel final : public ModelFamily {
 public:
  explicit TalkingHeadModel(const ModelConfig& config);

  // A model whose config and weights come from a THG weights file (config in its metadata).
  static std::unique_ptr<TalkingHeadModel> load(const std::filesystem::path& weights);
  // A model with a seeded random initialisation (no trained weights).
  static std::unique_ptr<TalkingHeadModel> random(const ModelConfig& config, uint64_t seed);
  // Writes weights + config (dtype: kFloat, kHalf or kBFloat16).
  void save(const std::filesystem::path& path, c10::ScalarType dtype) const override;

  void to(c10::Device device, c10::ScalarType dtype) override;
  c10::Device device() const override;
  c10::ScalarType dtype() const override;
  const ModelConfig& config() const override { return config_; }
  int64_t audio_window() const override { return audio_window_; }

  // ModelFamily: the sample is the UNet's latent; decode is the VAE decoder ("direct") or the
  // portrait plus the decoded change from the reference latent ("reference_delta").
  int64_t size_granularity() const override { return config_.size_granularity(); }
  std::vector<int64_t> frame_shape(int64_t size) const override;
  bool accepts_decode(const std::string& decode) const override;
  int64_t max_chunk_frames() const override {
    return config_.unet.temporal_attention_levels.empty() ? 0 : config_.unet.temporal_max_frames;
  }
  Reference reference(const PortraitInput& portrait, const std::string& decode) const override;
  at::Tensor decode(const at::Tensor& samples, const Reference& reference) const override;

  // images [B, 3, S, S] in [0, 1] -> scaled latents [B, C, S/f, S/f]
  at::Tensor encode_images(const at::Tensor& images) const;
  // mel windows [N, n_mels, W] -> tokens [N, W, dim]
  at::Tensor audio_tokens(const at::Tensor& windows) const override;
  // reference latents [1, C, h, w] -> tokens [1, N, reference.dim]
  at::Tensor reference_tokens(const at::Tensor& reference_latents) const;
  // The UNet's prediction (epsilon / v / sample per the scheduler config) for a batch of
  // B = groups x frames noisy latents; the reference (latent and tokens, batch 1 or B) and audio
  // tokens (batch B) condition it; temporal attention mixes the `frames` of each group. With
  // config().reference_residual the reference latent is added to the UNet's output.
  at::Tensor denoise(const at::Tensor& noisy, const at::Tensor& timesteps, const at::Tensor& reference_latents,
                     const at::Tensor& reference_tokens, const at::Tensor& audio_tokens, int64_t frames) const override;
  // scaled latents -> images [B, 3, S, S] in [0, 1]
  at::Tensor decode_latents(const at::Tensor& latents) const;

  // Every parameter, with the part as prefix ("vae.", "unet.", "audio_encoder.", "reference_encoder.").
  std::vector<std::pair<std::string, at::Tensor*>> named_parameters() override;
  // Parameter counts per part, in order.
  std::vector<std::pair<std::string, int64_t>> parameter_counts();

 private:
  ModelConfig config_;
  int64_t audio_window_;

 public:
  nn::AutoencoderKL vae;
  nn::UNet2DConditionModel unet;
  AudioEncoder audio_encoder;
  ReferenceEncoder reference_encoder;
};

// Where the bundled default model lives: $THG_HOME, then <exe>/../share/thg, then the source tree.
// The default is the motion-warp model (weights/MOTION.md); the pixel-latent model stays next to it
// for the tools that only it serves (thg bench unet) and for comparisons.
struct DefaultModelPaths {
  std::filesystem::path config;   // configs/motion.yaml
  std::filesystem::path weights;  // weights/motion.safetensors (may not exist yet)
  std::filesystem::path pixel_latent_config;   // configs/pixel-latent.yaml
  std::filesystem::path pixel_latent_weights;  // weights/pixel-latent.safetensors
  std::filesystem::path heldout;  // benchmarks/data/heldout-synth/test.jsonl: thg bench samplers' default clips
};
DefaultModelPaths default_model_paths();

// `model` as the pixel-latent family, for the tools that reach into its parts (thg bench unet,
// training); `what` names the tool in the error for any other family.
TalkingHeadModel& as_pixel_latent(ModelFamily& model, const std::string& what);

}  // namespace thg::model
