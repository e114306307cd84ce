#include "train/clip_data.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "audio/mel.h"
#include "core/error.h"
#include "io/audio.h"
#include "io/image.h"
#include "io/video_reader.h"

namespace thg::train {

std::vector<TrainingClip> load_training_clips(const std::filesystem::path& manifest, const model::ModelConfig& cfg,
                                              int64_t audio_window, int64_t max_clips,
                                              const std::function<void(int64_t, int64_t)>& on_clip) {
  std::vector<synth::DatasetClip> rows = synth::read_dataset_manifest(manifest);
  if (max_clips > 0 && static_cast<int64_t>(rows.size()) > max_clips) rows.resize(static_cast<size_t>(max_clips));
  const int size = static_cast<int>(cfg.image_size);
  std::vector<TrainingClip> clips;
  for (const synth::DatasetClip& row : rows) {
    TrainingClip c;
    c.id = row.id;
    c.frames = io::read_video_frames(row.video, {size, 100000});
    const int64_t n = c.frames.size(0);
    io::ImageLoadOptions image_options;
    image_options.size = size;
    c.portrait = io::load_image(row.portrait, image_options);
    io::AudioBuffer speech = io::resample(io::decode_audio(row.audio), cfg.audio.mel.sample_rate, 1);
    at::Tensor mel = audio::log_mel(speech.samples, cfg.audio.mel);
    c.windows = audio::frame_windows(mel, n, static_cast<double>(cfg.generation.fps), audio_window, cfg.audio.mel);
    const std::vector<synth::MouthRow> mouth = synth::read_mouth_track(row.mouth);
    if (static_cast<int64_t>(mouth.size()) != n)
      throw Error::input(row.mouth.string(), "has " + std::to_string(mouth.size()) + " rows for a " +
                                                 std::to_string(n) + "-frame video");
    c.mouth_boxes = at::empty({n, 4}, at::kLong);
    c.mouth_shape = at::empty({n, 5}, at::kFloat);
    auto b = c.mouth_boxes.accessor<int64_t, 2>();
    auto m = c.mouth_shape.accessor<float, 2>();
    for (int64_t f = 0; f < n; ++f) {
      const synth::MouthRow& r = mouth[static_cast<size_t>(f)];
      b[f][0] = r.x0;
      b[f][1] = r.y0;
      b[f][2] = r.x1;
      b[f][3] = r.y1;
      const double shape[5] = {r.shape.open, r.shape.width, r.shape.round, r.shape.teeth, r.shape.tongue};
      for (int k = 0; k < 5; ++k) m[f][k] = static_cast<float>(shape[k]);
    }
    clips.push_back(std::move(c));
    if (on_clip) on_clip(static_cast<int64_t>(clips.size()), static_cast<int64_t>(rows.size()));
  }
  return clips;
}

at::Tensor mouth_weights(const at::Tensor& boxes, int64_t image_size, int64_t height, double weight) {
  const int64_t n = boxes.size(0);
  at::Tensor w = at::ones({n, 1, height, height});
  if (weight == 1.0) return w;
  const double k = static_cast<double>(height) / static_cast<double>(image_size);
  auto b = boxes.accessor<int64_t, 2>();
  for (int64_t i = 0; i < n; ++i) {
    const auto lo = [&](int64_t v) { return std::clamp<int64_t>(static_cast<int64_t>(std::floor(v * k)), 0, height); };
    const auto hi = [&](int64_t v) { return std::clamp<int64_t>(static_cast<int64_t>(std::ceil(v * k)), 0, height); };
    w[i].slice(1, lo(b[i][1]), hi(b[i][3])).slice(2, lo(b[i][0]), hi(b[i][2])).fill_(weight);
  }
  return w;
}

}  // namespace thg::train
