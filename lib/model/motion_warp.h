#pragma once
// The motion-warp family (family: motion-warp): diffusion over motion, rendering by warping the
// photo's own pixels (the design of FLOAT, Ditto, JoyVASA and other LivePortrait-style systems).
//
// Each frame's sample is its motion (model/motion.h, normalised by the config's mean and std). The
// denoiser is a transformer whose tokens are the frames of a chunk: self-attention across frames
// (temporal coherence), cross-attention from each frame to its own audio window's tokens (the
// same AudioEncoder as the pixel-latent family), and the face's geometry as conditioning. Decoding
// is the renderer (model/face_warp.h) at the crop's full size: every output pixel is the photo's.
#include <memory>

#include "model/audio_encoder.h"
#include "model/config.h"
#include "model/family.h"
#include "model/motion.h"
#include "nn/attention.h"
#include "nn/blocks.h"
#include "portrait/face_detector.h"

namespace thg::model {

// What the denoiser knows of the face: its rest lip opening, mouth width and eye-to-mouth
// distance, in inter-ocular distances.
inline constexpr int64_t kGeometryFeatures = 3;
std::array<float, kGeometryFeatures> face_geometry(const portrait::Landmarks& landmarks);

class MotionDenoiserLayer : public nn::Module {
 public:
  MotionDenoiserLayer(int64_t dim, int64_t heads, int64_t audio_dim);
  // h [G, F, dim]; audio [G * F, W, audio_dim]
  at::Tensor forward(const at::Tensor& h, const at::Tensor& audio) const;
  nn::LayerNorm norm1, norm2, norm3;
  nn::Attention frames_attn, audio_attn;
  nn::FeedForward ff;
};

class MotionDenoiser : public nn::Module {
 public:
  MotionDenoiser(const MotionConfig& config, int64_t audio_dim);
  // x [B, C], timesteps [B], geometry [B, kGeometryFeatures], audio tokens [B, W, audio_dim];
  // B = groups x frames -> prediction [B, C]
  at::Tensor forward(const at::Tensor& x, const at::Tensor& timesteps, const at::Tensor& geometry,
                     const at::Tensor& audio, int64_t frames) const;
  int64_t dim;
  nn::Linear proj_in;
  nn::TimestepEmbedding time_embedding;
  at::Tensor pos_embed;  // [max_frames, dim]
  nn::ModuleList<MotionDenoiserLayer> layers;
  nn::LayerNorm norm_out;
  nn::Linear proj_out;

 protected:
  void init_own_parameters(at::Generator& g) override;
};

class MotionWarpModel final : public ModelFamily {
 public:
  explicit MotionWarpModel(const ModelConfig& config);
  static std::unique_ptr<MotionWarpModel> load(const std::filesystem::path& weights);
  static std::unique_ptr<MotionWarpModel> random(const ModelConfig& config, uint64_t seed);
  void save(const std::filesystem::path& path, c10::ScalarType dtype) const override;

  const ModelConfig& config() const override { return config_; }
  void to(c10::Device device, c10::ScalarType dtype) override;
  c10::Device device() const override;
  c10::ScalarType dtype() const override;
  int64_t audio_window() const override { return audio_window_; }
  int64_t size_granularity() const override { return 2; }
  std::vector<int64_t> frame_shape(int64_t size) const override;
  bool accepts_decode(const std::string& decode) const override { return decode == "direct"; }
  int64_t max_chunk_frames() const override { return config_.motion.max_frames; }
  at::Tensor audio_tokens(const at::Tensor& windows) const override;
  // With the face's landmarks, or (--no-crop: an aligned face crop) the face template's.
  Reference reference(const PortraitInput& portrait, const std::string& decode) const override;
  at::Tensor denoise(const at::Tensor& noisy, const at::Tensor& timesteps, const at::Tensor& reference_latents,
                     const at::Tensor& reference_tokens, const at::Tensor& audio_tokens, int64_t frames) const override;
  std::optional<audio::PauseOptions> pause_options() const override;
  // rest_in_pauses, then the drawn blinks (model/blinks.h) on top of the denoiser's.
  at::Tensor finish_samples(const at::Tensor& samples, const FrameContext& frames) const override;
  // The mouth's channels (open, width, round, press) move to rest_motion() as activity falls to 0;
  // eyes and head go on moving.
  at::Tensor rest_in_pauses(const at::Tensor& samples, const at::Tensor& activity) const;
  at::Tensor decode(const at::Tensor& samples, const Reference& reference) const override;
  std::vector<std::pair<std::string, at::Tensor*>> named_parameters() override;

  // Motion [.., C] <-> the denoiser's normalised samples.
  at::Tensor normalise(const at::Tensor& motion) const;
  at::Tensor denormalise(const at::Tensor& samples) const;

 private:
  ModelConfig config_;
  int64_t audio_window_;

 public:
  AudioEncoder audio_encoder;
  MotionDenoiser denoiser;
};

}  // namespace thg::model
