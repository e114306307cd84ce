// Built instead of the FFmpeg-based media files when THG_WITH_FFMPEG=OFF (model and kernel work on
// machines without FFmpeg, such as the GPU machine). Every media entry point reports clearly that
// this build cannot read or write media; nothing is faked.
#include <ATen/core/Tensor.h>

#include "core/error.h"
#include "io/audio.h"
#include "io/image.h"
#include "io/media_writers.h"
#include "io/video_reader.h"
#include "io/mp4_writer.h"
#include "io/probe.h"
#include "io/resize.h"

namespace thg::io {

namespace {
[[noreturn]] void no_ffmpeg(const std::filesystem::path& path) {
  throw Error::failure(path.string(), "this THG build has no media support (configured with THG_WITH_FFMPEG=OFF)");
}
}  // namespace

at::Tensor load_image(const std::filesystem::path& path, const ImageLoadOptions&) { no_ffmpeg(path); }
RgbaImage decode_image_rgba(const std::filesystem::path& path, const ImageLimits&) { no_ffmpeg(path); }
AudioBuffer decode_audio(const std::filesystem::path& path, const AudioLimits&) { no_ffmpeg(path); }
// Audio already at the asked rate and layout needs no resampler (in-memory generation, benchmarks).
AudioBuffer resample(const AudioBuffer& in, int sample_rate, int channels) {
  if (in.sample_rate == sample_rate && in.channels == channels) return in;
  no_ffmpeg("");
}
MediaInfo probe_media(const std::filesystem::path& path) { no_ffmpeg(path); }
void write_png(const std::filesystem::path& path, const uint8_t*, int, int) { no_ffmpeg(path); }
void write_wav(const std::filesystem::path& path, const AudioBuffer&) { no_ffmpeg(path); }
at::Tensor read_video_frames(const std::filesystem::path& path, const VideoReadOptions&) { no_ffmpeg(path); }

std::vector<uint8_t> resize_rgb(const RgbaImage&, const PixelRect&, int, int) { no_ffmpeg(""); }
GrayImage resize_gray(const RgbaImage&, const PixelRect&, int, int) { no_ffmpeg(""); }
void flatten_alpha(RgbaImage&) { no_ffmpeg(""); }

struct Mp4Writer::State {};
Mp4Writer::Mp4Writer(std::filesystem::path output, const VideoSpec&, const AudioBuffer&) { no_ffmpeg(output); }
Mp4Writer::~Mp4Writer() = default;
void Mp4Writer::write_frame(const uint8_t*) { no_ffmpeg(""); }
int64_t Mp4Writer::frames_written() const { return 0; }
void Mp4Writer::finish() { no_ffmpeg(""); }

}  // namespace thg::io
