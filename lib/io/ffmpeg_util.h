#pragma once
// RAII owners and error helpers for FFmpeg's C API (internal to lib/io).
#include <memory>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/pixdesc.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

namespace thg::io::ff {

struct InputCloser { void operator()(AVFormatContext* c) const { avformat_close_input(&c); } };
struct OutputCloser { void operator()(AVFormatContext* c) const; };
struct CodecCloser { void operator()(AVCodecContext* c) const { avcodec_free_context(&c); } };
struct FrameFree { void operator()(AVFrame* f) const { av_frame_free(&f); } };
struct PacketFree { void operator()(AVPacket* p) const { av_packet_free(&p); } };
struct SwsFree { void operator()(SwsContext* s) const { sws_freeContext(s); } };
struct SwrFree { void operator()(SwrContext* s) const { swr_free(&s); } };
struct FifoFree { void operator()(AVAudioFifo* f) const { av_audio_fifo_free(f); } };

using InputPtr = std::unique_ptr<AVFormatContext, InputCloser>;
using OutputPtr = std::unique_ptr<AVFormatContext, OutputCloser>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecCloser>;
using FramePtr = std::unique_ptr<AVFrame, FrameFree>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFree>;
using SwsPtr = std::unique_ptr<SwsContext, SwsFree>;
using SwrPtr = std::unique_ptr<SwrContext, SwrFree>;
using FifoPtr = std::unique_ptr<AVAudioFifo, FifoFree>;

std::string error_string(int errnum);
FramePtr make_frame();
PacketPtr make_packet();

// FFmpeg prints its own diagnostics to stderr; THG reports errors itself, so they are silenced
// unless verbose logging is on.
void configure_logging();

// Collects the error lines FFmpeg logs on this thread while it is alive. FFmpeg explains some
// refusals only in its log: a header whose picture size exceeds its own check leaves the stream at
// 0x0 and says "Picture size WxH is invalid" there. Nests; silent logging stays silent.
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  const std::string& text() const { return text_; }
  void append(const char* line) { text_ += line; }

 private:
  std::string text_;
  LogCapture* outer_;
};

// Opens `path` for demuxing; throws Error::input naming the file on failure.
InputPtr open_input(const std::string& path);
// Opens a decoder for `stream`, strict about bitstream errors.
CodecPtr open_decoder(const std::string& path, AVStream* stream);

}  // namespace thg::io::ff
