// Image decoding (FFmpeg): any bytes give an image or thg::Error, within the size limits.
#include "fuzz_util.h"
#include "io/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  thg::fuzz::MemoryFile file(data, size);
  thg::fuzz::expect_only_thg_errors([&] {
    thg::io::ImageLimits limits;
    limits.max_side = 4096;  // keeps each execution fast; the limit logic is the same
    limits.max_pixels = 4096LL * 4096;
    auto img = thg::io::decode_image_rgba(file.path(), limits);
    if (img.pixels.size() != static_cast<size_t>(img.width) * img.height * 4) __builtin_trap();
  });
  return 0;
}
