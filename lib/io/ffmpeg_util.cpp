#include "io/ffmpeg_util.h"

#include <cstdarg>
#include <filesystem>
#include <mutex>

extern "C" {
#include <libavutil/log.h>
#include <libavutil/mem.h>
}

#include "core/error.h"
#include "core/log.h"

namespace thg::io::ff {

void OutputCloser::operator()(AVFormatContext* c) const {
  if (c == nullptr) return;
  if (c->pb != nullptr && !(c->oformat->flags & AVFMT_NOFILE)) avio_closep(&c->pb);
  avformat_free_context(c);
}

std::string error_string(int errnum) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(errnum, buf, sizeof buf);
  return buf;
}

FramePtr make_frame() {
  FramePtr f(av_frame_alloc());
  if (!f) throw std::bad_alloc();
  return f;
}

PacketPtr make_packet() {
  PacketPtr p(av_packet_alloc());
  if (!p) throw std::bad_alloc();
  return p;
}

namespace {
thread_local LogCapture* active_capture = nullptr;

// FFmpeg calls the callback for every message and leaves filtering by level to the default
// callback, so captured errors are seen even when printing is off.
void capture_then_print(void* context, int level, const char* format, va_list args) {
  if (active_capture != nullptr && level <= AV_LOG_ERROR) {
    va_list copy;
    va_copy(copy, args);
    char line[512];
    int print_prefix = 1;
    av_log_format_line2(context, level, format, copy, line, sizeof line, &print_prefix);
    va_end(copy);
    active_capture->append(line);
  }
  av_log_default_callback(context, level, format, args);
}
}  // namespace

LogCapture::LogCapture() : outer_(active_capture) { active_capture = this; }
LogCapture::~LogCapture() { active_capture = outer_; }

void configure_logging() {
  av_log_set_level(thg::log::level() >= thg::log::Level::Debug ? AV_LOG_WARNING : AV_LOG_QUIET);
  av_log_set_callback(capture_then_print);
  // FFmpeg trusts sizes in headers: a 4 KB WAV whose LIST chunk claims 1.6 GB made the demuxer
  // allocate that much (found by fuzz/fuzz_audio). No legitimate allocation of ours comes near
  // 1 GB (the image limits cap a decoded frame at 64 MP x 8 bytes), so anything larger is refused.
  static std::once_flag once;
  std::call_once(once, [] { av_max_alloc(size_t{1} << 30); });
}

InputPtr open_input(const std::string& path) {
  configure_logging();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error::input(path, "file not found");
  if (std::filesystem::is_directory(path, ec)) throw Error::input(path, "is a folder, not a file");
  auto size = std::filesystem::file_size(path, ec);
  if (!ec && size == 0) throw Error::input(path, "file is empty");

  AVFormatContext* raw = nullptr;
  int rc = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (rc < 0) throw Error::input(path, "not a readable media file (" + error_string(rc) + ")");
  InputPtr ctx(raw);
  rc = avformat_find_stream_info(ctx.get(), nullptr);
  if (rc < 0) throw Error::input(path, "cannot read stream information (" + error_string(rc) + ")");
  return ctx;
}

CodecPtr open_decoder(const std::string& path, AVStream* stream) {
  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  if (codec == nullptr)
    throw Error::input(path, std::string("no decoder for codec ") + avcodec_get_name(stream->codecpar->codec_id));
  CodecPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) throw std::bad_alloc();
  int rc = avcodec_parameters_to_context(ctx.get(), stream->codecpar);
  if (rc < 0) throw Error::input(path, "bad codec parameters (" + error_string(rc) + ")");
  // Fail on damaged data instead of concealing it: a corrupt input must be reported, not
  // silently turned into a glitched video.
  ctx->err_recognition |= AV_EF_EXPLODE | AV_EF_CRCCHECK | AV_EF_BITSTREAM;
  ctx->thread_count = 1;
  rc = avcodec_open2(ctx.get(), codec, nullptr);
  if (rc < 0) throw Error::input(path, "cannot open decoder (" + error_string(rc) + ")");
  return ctx;
}

}  // namespace thg::io::ff
