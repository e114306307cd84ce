#pragma once
// Portrait images: any format FFmpeg decodes (PNG 8/16-bit, gray, RGBA, palette; JPEG incl. CMYK
// and progressive; WebP; BMP; the first frame of a video), to an RGB float tensor.
#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace thg::io {

struct ImageLimits {
  int min_side = 32;        // smaller images carry too little of a face to animate
  int max_side = 16384;     // header dimensions above this are refused before any allocation
  int64_t max_pixels = 64LL * 1024 * 1024;
};

struct ImageLoadOptions {
  int size = 128;                                // output is size x size
  std::array<float, 3> background{1.f, 1.f, 1.f};  // transparent pixels are composited on this (RGB, 0..1)
  ImageLimits limits;
};

// Decodes `path`, scales its shorter side to `size` and centre-crops to a square.
// Returns float32 [3, size, size] in [0, 1]. Throws Error::input naming the file on any problem.
at::Tensor load_image(const std::filesystem::path& path, const ImageLoadOptions& options);

// The decoded image at its own size: RGBA 8-bit, row-major (for tests and tools).
struct RgbaImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // width * height * 4
};
RgbaImage decode_image_rgba(const std::filesystem::path& path, const ImageLimits& limits = {});

}  // namespace thg::io
