#pragma once
// Where generated frames go. The engine produces frames (uint8 RGB, with their index; frame i is
// shown at i / fps seconds) into a sink; the MP4 file is one sink among others (a PNG sequence,
// memory for tests, benchmarks and embedders). A sink publishes its result only in finish():
// destroyed without it (an error, an interrupt), it leaves nothing behind.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "io/audio.h"

namespace thg::io {

struct SinkFormat {
  int width = 0, height = 0;
  int fps = 25;
  const AudioBuffer* audio = nullptr;  // the speech the frames go with (muxed by the MP4 sink)
};

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // Called once, before any frame.
  void begin(const SinkFormat& format);
  // Consecutive frames: uint8 [n, height, width, 3] on the CPU; `first` is the index of frames[0].
  // Frames of another shape, or out of order, are refused here for every sink.
  void write(const at::Tensor& frames, int64_t first);
  // Completes and publishes the result.
  virtual void finish() = 0;
  const SinkFormat& format() const { return format_; }

 protected:
  virtual void on_begin() {}
  // `frames` checked and contiguous.
  virtual void on_frames(const at::Tensor& frames, int64_t first) = 0;

 private:
  SinkFormat format_;
  int64_t next_ = 0;
};

// Keeps every frame in memory: for tests, benchmarks and callers that want the pixels.
class MemoryFrameSink : public FrameSink {
 public:
  void finish() override {}
  // uint8 [frames, height, width, 3]; empty before any frame.
  at::Tensor frames() const;

 private:
  void on_frames(const at::Tensor& frames, int64_t first) override;
  std::vector<at::Tensor> chunks_;
};

class Mp4Writer;

// H.264 + AAC in an MP4 (io/mp4_writer), published atomically.
class Mp4FrameSink : public FrameSink {
 public:
  Mp4FrameSink(std::filesystem::path output, int crf);
  ~Mp4FrameSink() override;
  void finish() override;

 private:
  void on_begin() override;
  void on_frames(const at::Tensor& frames, int64_t first) override;
  std::filesystem::path output_;
  int crf_;
  std::unique_ptr<Mp4Writer> writer_;
};

// One PNG per frame, named by a printf pattern with one integer field ("frames/%05d.png", frame
// numbers from 0). Frames are written under hidden temporary names and renamed in finish(), so an
// interrupted run leaves no partial sequence. The audio is not written (a sequence has none).
class PngSequenceSink : public FrameSink {
 public:
  explicit PngSequenceSink(std::string pattern);
  void finish() override;
  // The file name of frame `index` under `pattern`.
  static std::filesystem::path frame_path(const std::string& pattern, int64_t index);

 private:
  void on_frames(const at::Tensor& frames, int64_t first) override;
  std::string pattern_;
  std::vector<std::unique_ptr<AtomicFile>> written_;  // removed unless finish() publishes them
};

// Whether `output` names an MP4 file or a PNG pattern, checked before any work (extension, the
// pattern's single integer field, the folder exists and is writable). Throws Error::input.
void check_sink_output(const std::filesystem::path& output);
// The sink for `output`: ".mp4" -> Mp4FrameSink, "...%05d.png" -> PngSequenceSink.
std::unique_ptr<FrameSink> make_file_sink(const std::filesystem::path& output, int crf);

}  // namespace thg::io
