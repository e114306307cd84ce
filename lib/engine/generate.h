#pragma once
// `generate`: portrait + speech -> lip-synced MP4. Usable from any C++ program; the CLI is a thin
// front end over this.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <ATen/core/Tensor.h>

#include "core/cancel.h"
#include "core/failure_message.h"
#include "nn/attention.h"
#include "io/audio.h"
#include "io/frame_sink.h"
#include "model/family.h"
#include "portrait/prepare.h"

namespace thg::pipeline {

struct GenerateOptions {
  std::filesystem::path portrait;
  std::filesystem::path audio;
  std::filesystem::path output;  // .mp4, or a PNG pattern "frames/%05d.png" (generate without a sink)
  std::string sampler;      // empty: the model's default
  int64_t steps = 0;        // 0: the model's default
  std::string schedule;     // "default" or "karras"; empty: the model's
  double eta = 0.0;
  std::optional<double> guidance_reference;  // unset: the model's defaults
  std::optional<double> guidance_audio;
  std::optional<double> guidance_rescale;
  std::string decode;       // "direct" or "reference_delta" (model/config.h); empty: the model's
  uint64_t seed = 0;
  int fps = 0;              // 0: the model's default (25)
  int64_t size = 0;         // the model's working size (face crop side); 0: the model's image size
  int crf = 18;
  int64_t chunk_frames = 0; // 0: the model's default
  int64_t chunk_overlap = -1;  // < 0: the model's default; frames shared (and cross-faded) by consecutive chunks
  double max_audio_seconds = 3600.0;
  int64_t max_frames = 0;   // > 0: only the first max_frames frames (and their audio): previews, benchmarks
  // Real photos: find the face, align it into the model's crop, paste each frame back into the
  // photo at its own resolution (portrait/prepare.h). crop = false: the whole image is the input.
  portrait::PortraitOptions placement;
  // Per request, never process-wide: the attention backend (unset: the process default, which the
  // CLI sets from --attention or the model config) and a cancellation token (null: only SIGINT/
  // SIGTERM stop it). Device and dtype are the model's: load one model per device (load_model).
  std::optional<nn::AttentionBackend> attention;
  std::shared_ptr<const CancelToken> cancel;
  bool progress = true;     // draw a progress bar (only when stderr is a terminal)
  // Called after each chunk with (frames done, frames in the clip): for embedders and batch.
  std::function<void(int64_t, int64_t)> on_frames;
  // Called with each chunk's finished frames (uint8 [n, size, size, 3] on the CPU) and the index of
  // the first, before they are encoded: the exact pixels, for tests and embedders.
  std::function<void(const at::Tensor& frames, int64_t first)> on_rgb_frames;
};

struct GenerateResult {
  std::filesystem::path output;
  int64_t frames = 0;
  int fps = 0;
  int64_t size = 0;              // the model's crop side
  int width = 0, height = 0;      // the video's picture
  // The face animated (placement.crop): its index among the faces found (most confident first),
  // how many were found, its box in the photo and the detector's score.
  struct Face {
    int index = -1;
    int found = 0;
    portrait::Box box;
    double score = 0;
    int photo_width = 0, photo_height = 0;
  } face;
  double audio_seconds = 0;
  std::string sampler;
  int64_t steps = 0;
  int64_t model_evaluations = 0;  // UNet forwards per frame (steps x guidance branches, Heun x2)
  uint64_t seed = 0;
  std::map<std::string, double> stage_seconds;  // decode, face, features, reference, denoise, render (the family's samples -> RGB), encode
  double total_seconds = 0;
};

// Checks the paths (inputs given, output folder writable, output not an input, .mp4) without
// decoding anything: callers run it before the slow model load so that typos fail at once.
void check_generate_paths(const GenerateOptions& options);

// Already-decoded inputs: for callers that hold the media in memory (a server's upload, a benchmark
// without FFmpeg). `portrait` is what io::load_image returns at the generation size.
struct GenerateInputs {
  at::Tensor portrait;     // float32 [3, size, size] in [0, 1], size = the generation size
  io::AudioBuffer speech;  // any rate and channel count (resampled to the model's)
  at::Tensor landmarks;    // float32 [68, 2]: the face's landmarks in the portrait's pixels, or
                           // undefined (the motion-warp family needs them)
};

// Decoded inputs -> frames into `sink`. options.portrait, options.audio and options.output are not
// used; everything else is. The same frames as the path-based overloads for the same media.
GenerateResult generate(const model::ModelFamily& model, GenerateInputs inputs, const GenerateOptions& options,
                        io::FrameSink& sink);
// Portrait + speech -> frames into `sink` (the MP4 writer, a PNG sequence, memory; io/frame_sink.h).
// options.output is not used. Validates everything it can before any model work; throws
// thg::Error (see core/error.h). The sink publishes only when generation completes.
GenerateResult generate(const model::ModelFamily& model, const GenerateOptions& options, io::FrameSink& sink);
// The same into options.output: an .mp4 file, or a PNG sequence named by a pattern such as
// "frames/%05d.png".
GenerateResult generate(const model::ModelFamily& model, const GenerateOptions& options);

// What to lower when generation runs out of memory, named as the CLI's flags (a batch manifest's
// keys are the same words with underscores). For failure_message (core/failure_message.h).
MemoryAdvice generation_memory_advice();

}  // namespace thg::pipeline
