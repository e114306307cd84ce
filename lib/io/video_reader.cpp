#include "io/video_reader.h"

#include <ATen/ATen.h>

#include <cstring>
#include <vector>

#include "core/error.h"
#include "io/ffmpeg_util.h"

namespace thg::io {

at::Tensor read_video_frames(const std::filesystem::path& file, const VideoReadOptions& options) {
  const std::string path = file.string();
  ff::InputPtr input = ff::open_input(path);
  const int index = av_find_best_stream(input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (index < 0) throw Error::input(path, "contains no video stream");
  AVStream* stream = input->streams[index];
  if (stream->codecpar->width <= 0 || stream->codecpar->height <= 0 || stream->codecpar->width > 16384 ||
      stream->codecpar->height > 16384)
    throw Error::input(path, "video has unusable dimensions");
  ff::CodecPtr decoder = ff::open_decoder(path, stream);
  const int s = options.size;
  ff::SwsPtr sws;
  std::vector<uint8_t> pixels;
  int64_t frames = 0;
  ff::PacketPtr packet = ff::make_packet();
  ff::FramePtr frame = ff::make_frame();

  auto take_frames = [&] {
    while (true) {
      int rc = avcodec_receive_frame(decoder.get(), frame.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return;
      if (rc < 0) throw Error::input(path, "corrupt video data (" + ff::error_string(rc) + ")");
      if (++frames > options.max_frames)
        throw Error::input(path, "video has more than " + std::to_string(options.max_frames) + " frames");
      if (!sws) {
        sws.reset(sws_getContext(frame->width, frame->height, static_cast<AVPixelFormat>(frame->format), s, s,
                                 AV_PIX_FMT_RGB24, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr,
                                 nullptr, nullptr));
        if (!sws) throw Error::input(path, "unsupported pixel format");
        // Honour the stream's matrix and range (our own MP4s are BT.709 limited range).
        if (frame->colorspace != AVCOL_SPC_UNSPECIFIED && frame->colorspace != AVCOL_SPC_RGB) {
          int *inv = nullptr, *table = nullptr;
          int src_range = 0, dst_range = 0, brightness = 0, contrast = 0, saturation = 0;
          if (sws_getColorspaceDetails(sws.get(), &inv, &src_range, &table, &dst_range, &brightness, &contrast,
                                       &saturation) >= 0) {
            if (frame->color_range == AVCOL_RANGE_JPEG) src_range = 1;
            sws_setColorspaceDetails(sws.get(), sws_getCoefficients(frame->colorspace), src_range, table, dst_range,
                                     brightness, contrast, saturation);
          }
        }
      }
      const size_t offset = pixels.size();
      pixels.resize(offset + static_cast<size_t>(s) * s * 3);
      uint8_t* dst[4] = {pixels.data() + offset, nullptr, nullptr, nullptr};
      int stride[4] = {s * 3, 0, 0, 0};
      sws_scale(sws.get(), frame->data, frame->linesize, 0, frame->height, dst, stride);
      av_frame_unref(frame.get());
    }
  };
  while (true) {
    int rc = av_read_frame(input.get(), packet.get());
    if (rc == AVERROR_EOF) break;
    if (rc < 0) throw Error::input(path, "cannot read video data (" + ff::error_string(rc) + ")");
    if (packet->stream_index == index) {
      rc = avcodec_send_packet(decoder.get(), packet.get());
      if (rc < 0 && rc != AVERROR(EAGAIN)) throw Error::input(path, "corrupt video data (" + ff::error_string(rc) + ")");
      take_frames();
    }
    av_packet_unref(packet.get());
  }
  avcodec_send_packet(decoder.get(), nullptr);
  take_frames();
  if (frames == 0) throw Error::input(path, "no video frame could be decoded");
  at::Tensor out = at::empty({frames, s, s, 3}, at::kByte);
  std::memcpy(out.data_ptr<uint8_t>(), pixels.data(), pixels.size());
  return out;
}

}  // namespace thg::io
