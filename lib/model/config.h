#pragma once
// The model's configuration: one YAML document describing the autoencoder, the UNet, the audio
// encoder, the noise schedule and generation defaults. Field names of the vae/unet/scheduler
// sections are diffusers' config.json names. The same YAML is stored in a weights file's
// metadata, so a weights file describes itself.
#include <algorithm>
#include <filesystem>
#include <string>

#include "audio/mel.h"
#include "model/reference_encoder.h"
#include "nn/autoencoder_kl.h"
#include "nn/unet_2d_condition.h"
#include "sched/schedule.h"

namespace thg::model {

struct AudioEncoderConfig {
  audio::MelConfig mel;
  int context_frames = 2;  // video frames of audio context on each side
  int64_t dim = 128;
  int64_t layers = 2;
  int64_t heads = 4;
};

struct GenerationDefaults {
  std::string sampler = "ddim";
  int64_t steps = 10;
  int64_t chunk_frames = 16;  // frames denoised together; bounds memory for any audio length
  int64_t chunk_overlap = 4;  // frames shared by consecutive chunks, cross-faded (no seams); at most chunk_frames - 1 is used
  int fps = 25;
  std::string sigma_schedule = "default";  // default | karras (samplers that support it)
  double flow_shift = 1.0;                 // flow-matching samplers only
  double guidance_reference = 1.0;         // classifier-free guidance scales (1: off)
  double guidance_audio = 1.0;
  double guidance_rescale = 0.0;
  std::string attention = "auto";          // attention backend: auto | math | sdpa | fused
  // How latents become pixels. direct: the VAE decoder's output. reference_delta: the portrait plus
  // decode(latents) - decode(portrait latent), so what the video shares with the portrait keeps the
  // portrait's own pixels instead of the autoencoder's reconstruction of them (its error cancels
  // wherever the frame did not change); only the changes go through the decoder.
  std::string decode = "direct";
};

// Where the faces the model was trained on sit in its square crop (crop units, 0..1, y down;
// centred horizontally): the portrait stage aligns a photo's face to this. The defaults are the
// mean face of thg-synth.
struct FaceTemplateConfig {
  double eye_y = 0.413;        // both eye centres
  double eye_distance = 0.27;  // between the eye centres
  double mouth_y = 0.67;       // the centre of the 20 lip landmarks
};

// The motion-warp family's denoiser (model/motion_warp.h): a transformer over the frames of a
// chunk, each frame one token of motion (model/motion.h), attending to its audio window's tokens.
struct MotionConfig {
  int64_t dim = 192;
  int64_t layers = 4;
  int64_t heads = 4;
  int64_t max_frames = 64;      // the longest chunk its position embedding covers
  // Per-channel normalisation of the motion (the denoiser works on (motion - mean) / std),
  // measured on the training data; empty: none.
  std::vector<double> mean, std;
  // In a pause of the speech (at least 3 frames this many dB below the clip's loud level,
  // audio/speech_activity.h) the mouth rests as in the portrait, whatever the denoiser says: the
  // synthetic voices it learnt from never breathe or hum between words, real recordings do.
  // 0: the mouth follows the denoiser in pauses too.
  double pause_quiet_db = 30.0;
  // Blinks drawn at this rate (model/blinks.h), seeded by the generation's seed; 0: only the
  // denoiser's (which, trained on speech-independent blinks, averages them away).
  double blinks_per_minute = 17.0;
};

struct ModelConfig {
  std::string name = "thg";
  // Which implementation runs this config (model/family.h): "pixel-latent" is the autoencoder +
  // UNet over image latents (TalkingHeadModel); "motion-warp" generates motion and renders it by
  // warping the portrait (MotionWarpModel; sections vae, unet and reference unused).
  std::string family = "pixel-latent";
  int64_t image_size = 128;
  nn::AutoencoderConfig vae;
  nn::UNetConfig unet;
  AudioEncoderConfig audio;
  ReferenceEncoderConfig reference;
  sched::ScheduleConfig scheduler;
  GenerationDefaults generation;
  FaceTemplateConfig face;
  MotionConfig motion;  // family motion-warp only
  // The UNet predicts the clean latent as a change from the reference latent (its output plus the
  // concatenated reference latent is the "sample" prediction). An untrained UNet then already
  // reproduces the portrait, and training spends its steps on what moves: mouth, blinks, pose.
  // Requires scheduler.prediction_type: sample.
  bool reference_residual = false;

  // Checks consistency between the parts (channels, sizes); throws Error::input.
  void validate() const;
  void validate_motion() const;  // the motion-warp family's part of validate()
  int64_t latent_size(int64_t image_size) const { return image_size / vae.downscale(); }
  // Image sizes must be multiples of this (autoencoder x UNet downsampling x reference patches).
  int64_t size_granularity() const {
    return vae.downscale() * std::max<int64_t>(int64_t{1} << (unet.block_out_channels.size() - 1),
                                               reference.patch_size);
  }
};

// Parses YAML text; `source` names the file in error messages. Unknown keys are errors (typos).
ModelConfig parse_model_config(const std::string& yaml, const std::string& source);
ModelConfig load_model_config(const std::filesystem::path& path);
std::string to_yaml(const ModelConfig& config);
// One part's config alone (the same field lists as the full config's sections).
std::string to_yaml(const nn::UNetConfig& config);
std::string to_yaml(const nn::AutoencoderConfig& config);

}  // namespace thg::model
