#pragma once
// Model families: the one interface between the engine (engine/generate.cpp) and a kind of model.
//
// The engine owns what every family shares: inputs, audio features, per-frame seeded noise, the
// sampler and guidance loop, chunking with cross-faded overlaps, cancellation and the frame sink.
// A family owns what differs: how weights load, how the portrait and the speech become
// conditioning, the denoiser call, and how a denoised sample becomes RGB frames. The model file's
// config names its family (`family:`); load_model_file() picks the implementation.
//
// Adding a family: implement ModelFamily in lib/model/<family>.{h,cpp}, add a row to the table in
// family.cpp, and give its config a `family:` name. The engine needs no change.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audio/speech_activity.h"
#include "model/config.h"

namespace thg::model {

// What a family derives once from the portrait, before the first frame.
struct Reference {
  at::Tensor latents;  // [1, ...]: concatenated to each noisy sample (zeros when guidance drops it)
  at::Tensor tokens;   // [1, N, dim]: the denoiser's reference cross-attention tokens
  at::Tensor state;    // the family's own, for decode (e.g. the pixel family's reference_delta anchor)
  at::Tensor portrait, landmarks;  // the PortraitInput, for families that render from the photo
};

// The portrait as the family receives it.
struct PortraitInput {
  at::Tensor image;      // [3, S, S] float32 in [0, 1]: the aligned face crop (or the whole image)
  at::Tensor landmarks;  // [68, 2] float32 in the crop's pixels, or undefined (--no-crop)
};

// Where a chunk's samples sit in the clip, for ModelFamily::finish_samples.
struct FrameContext {
  int64_t first = 0;    // the clip's frame index of samples[0]
  at::Tensor activity;  // [n] speech activity (1 speaking .. 0 paused), or undefined (pause_options() unset)
  uint64_t seed = 0;    // the generation's seed
  int fps = 25;
};

class ModelFamily {
 public:
  virtual ~ModelFamily() = default;

  virtual const ModelConfig& config() const = 0;
  virtual void to(c10::Device device, c10::ScalarType dtype) = 0;
  virtual c10::Device device() const = 0;
  virtual c10::ScalarType dtype() const = 0;
  // Writes weights + config (dtype: kFloat, kHalf or kBFloat16).
  virtual void save(const std::filesystem::path& path, c10::ScalarType dtype) const = 0;

  // Mel columns per audio window (one window per frame).
  virtual int64_t audio_window() const = 0;
  // Generation sizes must be multiples of this.
  virtual int64_t size_granularity() const = 0;
  // The shape of one frame's sample (the noise the sampler starts from) at generation size `size`.
  virtual std::vector<int64_t> frame_shape(int64_t size) const = 0;
  // The most frames one chunk may hold (its temporal attention's limit); 0: any.
  virtual int64_t max_chunk_frames() const = 0;
  // Decoding modes this family accepts for `decode` below ("direct", ...).
  virtual bool accepts_decode(const std::string& decode) const = 0;

  // mel windows [N, n_mels, W] -> tokens [N, W, dim]
  virtual at::Tensor audio_tokens(const at::Tensor& windows) const = 0;
  virtual Reference reference(const PortraitInput& portrait, const std::string& decode) const = 0;
  // The denoiser's prediction (epsilon / v / sample / velocity, per the scheduler config) for
  // B = groups x frames noisy samples; reference latents and tokens (batch 1 or B) and audio tokens
  // (batch B) condition it; temporal attention mixes the `frames` of each group.
  virtual at::Tensor denoise(const at::Tensor& noisy, const at::Tensor& timesteps, const at::Tensor& reference_latents,
                             const at::Tensor& reference_tokens, const at::Tensor& audio_tokens,
                             int64_t frames) const = 0;
  // Where the speaker pauses (audio/speech_activity.h), for a family whose samples say what the
  // mouth does; none (the default): the engine does not compute it.
  virtual std::optional<audio::PauseOptions> pause_options() const { return std::nullopt; }
  // Denoised samples [n, ...] of the frames `frames` describes, before decode: what a family adds
  // that is not denoised (the motion-warp family rests the mouth in pauses and draws blinks). The
  // default leaves them as they are.
  virtual at::Tensor finish_samples(const at::Tensor& samples, const FrameContext& /*frames*/) const { return samples; }
  // Denoised samples [n, ...] -> RGB frames [n, 3, S, S] in [0, 1] (any float dtype, model device).
  virtual at::Tensor decode(const at::Tensor& samples, const Reference& reference) const = 0;

  // Every parameter, with its part as prefix.
  virtual std::vector<std::pair<std::string, at::Tensor*>> named_parameters() = 0;
};

// The family names load_model_file and random_model know, in table order.
std::vector<std::string> model_families();
// A model from a THG weights file; its embedded config names the family.
std::unique_ptr<ModelFamily> load_model_file(const std::filesystem::path& weights);
// A seeded random initialisation of `config`'s family (no trained weights).
std::unique_ptr<ModelFamily> random_model(const ModelConfig& config, uint64_t seed);

}  // namespace thg::model
