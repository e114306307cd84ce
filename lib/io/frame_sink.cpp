#include "io/frame_sink.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/media_writers.h"
#include "io/mp4_writer.h"

namespace thg::io {

namespace fs = std::filesystem;

namespace {

// The pattern's one integer conversion ("%d", "%05d", ...), and nothing else printf would read.
bool valid_pattern(const std::string& name) {
  int conversions = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '%') continue;
    if (i + 1 < name.size() && name[i + 1] == '%') {
      ++i;
      continue;
    }
    size_t j = i + 1;
    if (j < name.size() && name[j] == '0') ++j;
    while (j < name.size() && std::isdigit(static_cast<unsigned char>(name[j]))) ++j;
    if (j >= name.size() || name[j] != 'd' || j - i > 4) return false;
    ++conversions;
    i = j;
  }
  return conversions == 1;
}

}  // namespace

void FrameSink::begin(const SinkFormat& format) {
  format_ = format;
  next_ = 0;
  on_begin();
}

void FrameSink::write(const at::Tensor& frames, int64_t first) {
  const SinkFormat& f = format_;
  if (frames.dim() != 4 || frames.size(3) != 3 || frames.scalar_type() != at::kByte || !frames.device().is_cpu() ||
      frames.size(1) != f.height || frames.size(2) != f.width)
    throw Error::failure("", "frame sink: frames must be uint8 [n, " + std::to_string(f.height) + ", " +
                                 std::to_string(f.width) + ", 3] on the CPU");
  if (first != next_)
    throw Error::failure("", "frame sink: frame " + std::to_string(first) + " arrived, " + std::to_string(next_) +
                                 " expected");
  on_frames(frames.contiguous(), first);
  next_ += frames.size(0);
}

void MemoryFrameSink::on_frames(const at::Tensor& frames, int64_t) { chunks_.push_back(frames.clone()); }

at::Tensor MemoryFrameSink::frames() const {
  if (chunks_.empty()) return at::empty({0, format().height, format().width, 3}, at::kByte);
  return at::cat(chunks_);
}

Mp4FrameSink::Mp4FrameSink(fs::path output, int crf) : output_(std::move(output)), crf_(crf) {}
Mp4FrameSink::~Mp4FrameSink() = default;

void Mp4FrameSink::on_begin() {
  static const AudioBuffer no_audio;
  const SinkFormat& f = format();
  writer_ = std::make_unique<Mp4Writer>(output_, VideoSpec{f.width, f.height, f.fps, crf_}, f.audio ? *f.audio : no_audio);
}

void Mp4FrameSink::on_frames(const at::Tensor& frames, int64_t) {
  for (int64_t i = 0; i < frames.size(0); ++i) writer_->write_frame(frames[i].data_ptr<uint8_t>());
}

void Mp4FrameSink::finish() {
  if (!writer_) throw Error::failure(output_.string(), "frame sink: finish before begin");
  writer_->finish();
}

PngSequenceSink::PngSequenceSink(std::string pattern) : pattern_(std::move(pattern)) {}

fs::path PngSequenceSink::frame_path(const std::string& pattern, int64_t index) {
  const fs::path p(pattern);
  const std::string name = p.filename().string();
  std::vector<char> buffer(name.size() + 32);
  std::snprintf(buffer.data(), buffer.size(), name.c_str(), static_cast<int>(index));
  return p.parent_path() / buffer.data();
}

void PngSequenceSink::on_frames(const at::Tensor& frames, int64_t first) {
  for (int64_t i = 0; i < frames.size(0); ++i) {
    auto file = std::make_unique<AtomicFile>(frame_path(pattern_, first + i));
    write_png(file->temp_path(), frames[i].data_ptr<uint8_t>(), format().width, format().height);
    written_.push_back(std::move(file));
  }
}

void PngSequenceSink::finish() {
  for (auto& file : written_) file->commit();
}

void check_sink_output(const fs::path& output) {
  if (output.empty()) throw Error::input("", "--output is required");
  std::string ext = output.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  const std::string name = output.filename().string();
  const bool pattern = name.find('%') != std::string::npos;
  if (pattern) {
    if (ext != ".png" || !valid_pattern(name))
      throw Error::input(output.string(), "a frame sequence is named by one integer field and .png, e.g. frames/%05d.png");
    check_output_path(PngSequenceSink::frame_path(output.string(), 0));
    return;
  }
  if (ext != ".mp4") throw Error::input(output.string(), "output must be an .mp4 file or a PNG pattern such as frames/%05d.png");
  check_output_path(output);
}

std::unique_ptr<FrameSink> make_file_sink(const fs::path& output, int crf) {
  check_sink_output(output);
  if (output.filename().string().find('%') != std::string::npos)
    return std::make_unique<PngSequenceSink>(output.string());
  return std::make_unique<Mp4FrameSink>(output, crf);
}

}  // namespace thg::io
