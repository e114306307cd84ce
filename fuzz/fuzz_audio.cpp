// Audio decoding (FFmpeg): any bytes give samples or thg::Error, within the length limit.
#include <cmath>

#include "fuzz_util.h"
#include "io/audio.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  thg::fuzz::MemoryFile file(data, size);
  thg::fuzz::expect_only_thg_errors([&] {
    auto audio = thg::io::decode_audio(file.path(), thg::io::AudioLimits{60.0});
    if (audio.channels < 1 || audio.channels > 2 || audio.samples.size() % audio.channels != 0) __builtin_trap();
    for (float s : audio.samples)
      if (!std::isfinite(s)) __builtin_trap();
  });
  return 0;
}
