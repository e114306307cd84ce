#pragma once
// Resampling of decoded photos with swscale (area filtering when shrinking, so a 4000-pixel photo
// becomes a clean 800-pixel copy), from any rectangle of the source: the portrait stage takes its
// detection copy, its face region and its output canvas from the one full-resolution photo.
#include "io/image.h"

namespace thg::io {

struct PixelRect {
  int x = 0, y = 0, width = 0, height = 0;  // inside the source image
};

struct GrayImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // width * height
};

// The rectangle `from` of `src` scaled to out_w x out_h, as packed RGB (3 bytes a pixel; alpha is
// dropped: callers composite transparency first, see flatten_alpha).
std::vector<uint8_t> resize_rgb(const RgbaImage& src, const PixelRect& from, int out_w, int out_h);
// The same as 8-bit luma.
GrayImage resize_gray(const RgbaImage& src, const PixelRect& from, int out_w, int out_h);

// Composites transparent pixels onto white, in place, and makes every pixel opaque.
void flatten_alpha(RgbaImage& image);

}  // namespace thg::io
