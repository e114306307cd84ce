#pragma once
// Training clips held in memory: frames, portrait, the audio windows each frame's tokens come
// from, the mouth boxes that weight the loss and the mouth shapes an auxiliary loss predicts.
// Loaded once from a thg-synth dataset.
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <functional>
#include <vector>

#include "model/config.h"
#include "synth/dataset.h"

namespace thg::train {

struct TrainingClip {
  std::string id;
  at::Tensor frames;    // uint8 [N, S, S, 3]
  at::Tensor portrait;  // float [3, S, S] in [0, 1]
  at::Tensor windows;   // float [N, n_mels, W]: the audio encoder's input per frame
  at::Tensor mouth_boxes;  // int64 [N, 4]: x0, y0, x1, y1 in pixels
  at::Tensor mouth_shape;  // float [N, 5]: open, width, round, teeth, tongue (the renderer's truth)
  // Filled by the UNet stage from the trained autoencoder:
  at::Tensor latents;          // [N, C, h, w] (scaled)
  at::Tensor portrait_latent;  // [1, C, h, w]
};

// The first `max_clips` (0: all) clips of `manifest`, at the model's image size and audio
// features. `on_clip(done, total)` reports progress.
std::vector<TrainingClip> load_training_clips(const std::filesystem::path& manifest, const model::ModelConfig& config,
                                              int64_t audio_window, int64_t max_clips,
                                              const std::function<void(int64_t, int64_t)>& on_clip = {});

// Per-pixel loss weights [N, 1, H, W]: 1 outside the mouth box, `weight` inside; boxes in image
// pixels are scaled to H/S.
at::Tensor mouth_weights(const at::Tensor& boxes, int64_t image_size, int64_t height, double weight);

}  // namespace thg::train
