#include "io/media_writers.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/ffmpeg_util.h"

extern "C" {
#include <libavutil/channel_layout.h>
}

namespace thg::io {

namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what, int rc) {
  throw Error::failure(path.string(), what + " (" + ff::error_string(rc) + ")");
}

}  // namespace

void write_png(const std::filesystem::path& path, const uint8_t* rgb, int width, int height) {
  ff::configure_logging();
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
  if (!codec) throw Error::failure(path.string(), "this FFmpeg has no PNG encoder");
  ff::CodecPtr enc(avcodec_alloc_context3(codec));
  enc->width = width;
  enc->height = height;
  enc->pix_fmt = AV_PIX_FMT_RGB24;
  enc->time_base = {1, 1};
  if (int rc = avcodec_open2(enc.get(), codec, nullptr); rc < 0) fail(path, "cannot open the PNG encoder", rc);
  ff::FramePtr frame = ff::make_frame();
  frame->format = AV_PIX_FMT_RGB24;
  frame->width = width;
  frame->height = height;
  if (int rc = av_frame_get_buffer(frame.get(), 0); rc < 0) fail(path, "frame allocation failed", rc);
  for (int y = 0; y < height; ++y)
    std::copy_n(rgb + static_cast<size_t>(y) * width * 3, width * 3, frame->data[0] + static_cast<ptrdiff_t>(y) * frame->linesize[0]);
  ff::PacketPtr packet = ff::make_packet();
  if (int rc = avcodec_send_frame(enc.get(), frame.get()); rc < 0) fail(path, "PNG encoding failed", rc);
  avcodec_send_frame(enc.get(), nullptr);
  AtomicFile file(path);
  {
    std::ofstream out(file.temp_path(), std::ios::binary);
    if (!out) throw Error::failure(path.string(), "cannot create the file");
    while (avcodec_receive_packet(enc.get(), packet.get()) == 0) {
      out.write(reinterpret_cast<const char*>(packet->data), packet->size);
      av_packet_unref(packet.get());
    }
    if (!out.flush()) throw Error::failure(path.string(), "cannot write the file (disk full?)");
  }
  file.commit();
}

void write_wav(const std::filesystem::path& path, const AudioBuffer& audio) {
  ff::configure_logging();
  if (audio.channels < 1 || audio.channels > 2 || audio.sample_rate <= 0)
    throw Error::input(path.string(), "audio must have 1 or 2 channels and a sample rate");
  AtomicFile file(path);
  AVFormatContext* raw = nullptr;
  int rc = avformat_alloc_output_context2(&raw, nullptr, "wav", file.temp_path().c_str());
  if (rc < 0) fail(path, "cannot create a WAV container", rc);
  ff::OutputPtr out(raw);
  AVStream* stream = avformat_new_stream(out.get(), nullptr);
  if (!stream) throw Error::failure(path.string(), "cannot add the audio stream");
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_PCM_S16LE);
  ff::CodecPtr enc(avcodec_alloc_context3(codec));
  enc->sample_fmt = AV_SAMPLE_FMT_S16;
  enc->sample_rate = audio.sample_rate;
  av_channel_layout_default(&enc->ch_layout, audio.channels);
  enc->time_base = {1, audio.sample_rate};
  if ((rc = avcodec_open2(enc.get(), codec, nullptr)) < 0) fail(path, "cannot open the PCM encoder", rc);
  avcodec_parameters_from_context(stream->codecpar, enc.get());
  stream->time_base = enc->time_base;
  if ((rc = avio_open(&out->pb, file.temp_path().c_str(), AVIO_FLAG_WRITE)) < 0) fail(path, "cannot create the file", rc);
  if ((rc = avformat_write_header(out.get(), nullptr)) < 0) fail(path, "cannot write the WAV header", rc);

  ff::FramePtr frame = ff::make_frame();
  ff::PacketPtr packet = ff::make_packet();
  constexpr int kBlock = 4096;
  auto drain = [&] {
    while ((rc = avcodec_receive_packet(enc.get(), packet.get())) == 0) {
      packet->stream_index = stream->index;
      av_packet_rescale_ts(packet.get(), enc->time_base, stream->time_base);
      if ((rc = av_interleaved_write_frame(out.get(), packet.get())) < 0) fail(path, "cannot write the file", rc);
    }
  };
  for (int64_t pos = 0; pos < audio.frames(); pos += kBlock) {
    const int n = static_cast<int>(std::min<int64_t>(kBlock, audio.frames() - pos));
    frame->format = AV_SAMPLE_FMT_S16;
    frame->sample_rate = audio.sample_rate;
    frame->nb_samples = n;
    av_channel_layout_copy(&frame->ch_layout, &enc->ch_layout);
    if ((rc = av_frame_get_buffer(frame.get(), 0)) < 0) fail(path, "frame allocation failed", rc);
    auto* dst = reinterpret_cast<int16_t*>(frame->data[0]);
    for (int64_t i = 0; i < static_cast<int64_t>(n) * audio.channels; ++i) {
      const float s = std::clamp(audio.samples[static_cast<size_t>(pos * audio.channels + i)], -1.0f, 1.0f);
      dst[i] = static_cast<int16_t>(std::lround(s * 32767.0f));
    }
    frame->pts = pos;
    if ((rc = avcodec_send_frame(enc.get(), frame.get())) < 0) fail(path, "PCM encoding failed", rc);
    av_frame_unref(frame.get());
    drain();
  }
  avcodec_send_frame(enc.get(), nullptr);
  drain();
  if ((rc = av_write_trailer(out.get())) < 0) fail(path, "cannot finish the WAV file", rc);
  avio_closep(&out->pb);
  file.commit();
}

}  // namespace thg::io
