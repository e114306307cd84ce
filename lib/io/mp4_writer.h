#pragma once
// Writes the generated frames as H.264 (libx264, yuv420p) plus the speech as AAC into an MP4
// with +faststart. The file appears under its final name only when complete (AtomicFile).
#include <cstdint>
#include <filesystem>
#include <memory>

#include "io/audio.h"

namespace thg::io {

struct VideoSpec {
  int width = 0;   // even
  int height = 0;  // even
  int fps = 25;
  int crf = 18;               // libx264 constant rate factor, 0..51
  const char* preset = "medium";
};

class Mp4Writer {
 public:
  // `audio` is muxed as AAC (resampled to an AAC rate when needed); it may be empty (no audio).
  Mp4Writer(std::filesystem::path output, const VideoSpec& spec, const AudioBuffer& audio);
  ~Mp4Writer();
  Mp4Writer(const Mp4Writer&) = delete;
  Mp4Writer& operator=(const Mp4Writer&) = delete;

  // One frame, packed RGB 8-bit, height x width x 3.
  void write_frame(const uint8_t* rgb);
  int64_t frames_written() const;
  // Flushes both encoders, writes the trailer, fsyncs and renames into place.
  void finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace thg::io
