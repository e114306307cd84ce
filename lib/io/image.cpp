#include "io/image.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "io/ffmpeg_util.h"

namespace thg::io {

namespace {

struct DecodedFrame {
  ff::FramePtr frame;
  std::string path;
};

void check_dimensions(const std::string& path, int64_t w, int64_t h, const ImageLimits& limits) {
  if (w > limits.max_side || h > limits.max_side || w * h > limits.max_pixels)
    throw Error::input(path, std::to_string(w) + "x" + std::to_string(h) + " is larger than the limit of " +
                                 std::to_string(limits.max_side) + " px per side and " +
                                 std::to_string(limits.max_pixels / (1024 * 1024)) + " megapixels");
}

// Reads packets of the first video stream until one frame decodes.
DecodedFrame decode_first_frame(const std::filesystem::path& file, const ImageLimits& limits) {
  const std::string path = file.string();
  ff::LogCapture ffmpeg_log;
  ff::InputPtr input = ff::open_input(path);
  int index = av_find_best_stream(input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (index < 0) throw Error::input(path, "contains no image");
  AVStream* stream = input->streams[index];
  unsigned w = static_cast<unsigned>(stream->codecpar->width), h = static_cast<unsigned>(stream->codecpar->height);
  // Above its own limit (~268 megapixels) FFmpeg leaves the size at 0x0 and gives the header's
  // size only in its log; the user must learn that the picture is too large, not that it is corrupt.
  const size_t said = ffmpeg_log.text().find("Picture size ");
  if ((w == 0 || h == 0) && said != std::string::npos)
    std::sscanf(ffmpeg_log.text().c_str() + said, "Picture size %ux%u", &w, &h);
  // Refuse absurd dimensions from the header before the decoder allocates anything.
  check_dimensions(path, w, h, limits);
  ff::CodecPtr decoder = ff::open_decoder(path, stream);
  decoder->max_pixels = limits.max_pixels;

  ff::PacketPtr packet = ff::make_packet();
  ff::FramePtr frame = ff::make_frame();
  bool flushing = false;
  while (true) {
    int rc = avcodec_receive_frame(decoder.get(), frame.get());
    if (rc == 0) break;
    if (rc == AVERROR_EOF) throw Error::input(path, "no image could be decoded (truncated or corrupt)");
    if (rc != AVERROR(EAGAIN)) throw Error::input(path, "corrupt image data (" + ff::error_string(rc) + ")");
    if (flushing) throw Error::input(path, "no image could be decoded (truncated or corrupt)");
    rc = av_read_frame(input.get(), packet.get());
    if (rc == AVERROR_EOF) {
      flushing = true;
      avcodec_send_packet(decoder.get(), nullptr);
      continue;
    }
    if (rc < 0) throw Error::input(path, "cannot read image data (" + ff::error_string(rc) + ")");
    if (packet->stream_index == index) {
      rc = avcodec_send_packet(decoder.get(), packet.get());
      if (rc < 0 && rc != AVERROR(EAGAIN))
        throw Error::input(path, "corrupt image data (" + ff::error_string(rc) + ")");
    }
    av_packet_unref(packet.get());
  }
  if (frame->width < limits.min_side || frame->height < limits.min_side)
    throw Error::input(path, "image is " + std::to_string(frame->width) + "x" + std::to_string(frame->height) +
                                 "; at least " + std::to_string(limits.min_side) + " px on each side is needed");
  check_dimensions(path, frame->width, frame->height, limits);
  return {std::move(frame), path};
}

// Converts (and optionally scales) a decoded frame to packed RGBA with swscale, which handles
// every pixel format the decoders produce (palette, gray, 16-bit, YUV from JPEG/WebP, CMYK...).
RgbaImage to_rgba(const DecodedFrame& decoded, int out_w, int out_h) {
  const AVFrame* f = decoded.frame.get();
  ff::SwsPtr sws(sws_getContext(f->width, f->height, static_cast<AVPixelFormat>(f->format), out_w, out_h,
                                AV_PIX_FMT_RGBA, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr,
                                nullptr, nullptr));
  if (!sws)
    throw Error::input(decoded.path, std::string("unsupported pixel format ") +
                                         (av_get_pix_fmt_name(static_cast<AVPixelFormat>(f->format))
                                              ? av_get_pix_fmt_name(static_cast<AVPixelFormat>(f->format))
                                              : "?"));
  // YUV sources (video frames, WebP) carry their matrix and range; swscale assumes BT.601 limited
  // range unless told, which shifts colours of BT.709 video.
  if (f->colorspace != AVCOL_SPC_UNSPECIFIED && f->colorspace != AVCOL_SPC_RGB) {
    const int* coefficients = sws_getCoefficients(f->colorspace);
    int* inv = nullptr;
    int* table = nullptr;
    int src_range = 0, dst_range = 0, brightness = 0, contrast = 0, saturation = 0;
    if (sws_getColorspaceDetails(sws.get(), &inv, &src_range, &table, &dst_range, &brightness, &contrast,
                                 &saturation) >= 0) {
      if (f->color_range == AVCOL_RANGE_JPEG) src_range = 1;
      sws_setColorspaceDetails(sws.get(), coefficients, src_range, table, dst_range, brightness, contrast, saturation);
    }
  }
  RgbaImage out;
  out.width = out_w;
  out.height = out_h;
  out.pixels.resize(static_cast<size_t>(out_w) * out_h * 4);
  uint8_t* dst[4] = {out.pixels.data(), nullptr, nullptr, nullptr};
  int dst_stride[4] = {out_w * 4, 0, 0, 0};
  sws_scale(sws.get(), f->data, f->linesize, 0, f->height, dst, dst_stride);
  return out;
}

}  // namespace

RgbaImage decode_image_rgba(const std::filesystem::path& path, const ImageLimits& limits) {
  DecodedFrame decoded = decode_first_frame(path, limits);
  return to_rgba(decoded, decoded.frame->width, decoded.frame->height);
}

at::Tensor load_image(const std::filesystem::path& path, const ImageLoadOptions& options) {
  if (options.size < 8) throw Error::input("", "image size must be at least 8");
  DecodedFrame decoded = decode_first_frame(path, options.limits);
  const int w = decoded.frame->width, h = decoded.frame->height;
  // Scale the shorter side to `size` (swscale filters properly when downscaling), then crop.
  const double scale = static_cast<double>(options.size) / std::min(w, h);
  const int sw = std::max(options.size, static_cast<int>(std::lround(w * scale)));
  const int sh = std::max(options.size, static_cast<int>(std::lround(h * scale)));
  RgbaImage rgba = to_rgba(decoded, sw, sh);

  at::Tensor full = at::from_blob(rgba.pixels.data(), {sh, sw, 4}, at::kByte);
  const int top = (sh - options.size) / 2, left = (sw - options.size) / 2;
  at::Tensor crop = full.slice(0, top, top + options.size).slice(1, left, left + options.size).to(at::kFloat) / 255.0;
  at::Tensor rgb = crop.slice(2, 0, 3);
  at::Tensor alpha = crop.slice(2, 3, 4);
  at::Tensor background = at::tensor({options.background[0], options.background[1], options.background[2]},
                                     at::kFloat)
                              .view({1, 1, 3});
  at::Tensor composed = rgb * alpha + background * (1.0 - alpha);
  return composed.permute({2, 0, 1}).contiguous();
}

}  // namespace thg::io
