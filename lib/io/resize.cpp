#include "io/resize.h"

#include "core/error.h"
#include "io/ffmpeg_util.h"

namespace thg::io {

namespace {

void check_rect(const RgbaImage& src, const PixelRect& r, int out_w, int out_h) {
  if (r.width < 1 || r.height < 1 || r.x < 0 || r.y < 0 || r.x + r.width > src.width || r.y + r.height > src.height ||
      out_w < 1 || out_h < 1)
    throw Error::failure("", "resize: rectangle " + std::to_string(r.width) + "x" + std::to_string(r.height) + "+" +
                                 std::to_string(r.x) + "+" + std::to_string(r.y) + " is outside the " +
                                 std::to_string(src.width) + "x" + std::to_string(src.height) + " image");
}

void scale(const RgbaImage& src, const PixelRect& r, AVPixelFormat format, int out_w, int out_h, uint8_t* out,
           int out_stride) {
  check_rect(src, r, out_w, out_h);
  // Area averaging when shrinking (no aliasing on 4000-pixel photos), bicubic when enlarging.
  const int flags = (out_w < r.width || out_h < r.height ? SWS_AREA : SWS_BICUBIC) | SWS_ACCURATE_RND;
  ff::SwsPtr sws(sws_getContext(r.width, r.height, AV_PIX_FMT_RGBA, out_w, out_h, format, flags, nullptr, nullptr, nullptr));
  if (!sws) throw Error::failure("", "resize: swscale cannot scale " + std::to_string(r.width) + "x" + std::to_string(r.height));
  const uint8_t* in[4] = {src.pixels.data() + (static_cast<size_t>(r.y) * src.width + r.x) * 4, nullptr, nullptr, nullptr};
  const int in_stride[4] = {src.width * 4, 0, 0, 0};
  uint8_t* dst[4] = {out, nullptr, nullptr, nullptr};
  const int dst_stride[4] = {out_stride, 0, 0, 0};
  sws_scale(sws.get(), in, in_stride, 0, r.height, dst, dst_stride);
}

}  // namespace

std::vector<uint8_t> resize_rgb(const RgbaImage& src, const PixelRect& from, int out_w, int out_h) {
  std::vector<uint8_t> out(static_cast<size_t>(out_w) * out_h * 3);
  scale(src, from, AV_PIX_FMT_RGB24, out_w, out_h, out.data(), out_w * 3);
  return out;
}

GrayImage resize_gray(const RgbaImage& src, const PixelRect& from, int out_w, int out_h) {
  GrayImage g;
  g.width = out_w;
  g.height = out_h;
  g.pixels.resize(static_cast<size_t>(out_w) * out_h);
  scale(src, from, AV_PIX_FMT_GRAY8, out_w, out_h, g.pixels.data(), out_w);
  return g;
}

void flatten_alpha(RgbaImage& image) {
  uint8_t* p = image.pixels.data();
  const size_t n = image.pixels.size() / 4;
  for (size_t i = 0; i < n; ++i, p += 4) {
    const unsigned a = p[3];
    if (a == 255) continue;
    for (int c = 0; c < 3; ++c) p[c] = static_cast<uint8_t>((p[c] * a + 255 * (255 - a) + 127) / 255);
    p[3] = 255;
  }
}

}  // namespace thg::io
