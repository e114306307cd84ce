#pragma once
// Writing single images (PNG) and speech (16-bit PCM WAV) through FFmpeg's encoders and muxers:
// what the synthetic-data generator and tools save. Files appear only when complete (AtomicFile).
#include <cstdint>
#include <filesystem>

#include "io/audio.h"

namespace thg::io {

// Packed RGB 8-bit, height x width x 3.
void write_png(const std::filesystem::path& path, const uint8_t* rgb, int width, int height);

// Interleaved float samples in [-1, 1], clipped, as signed 16-bit PCM.
void write_wav(const std::filesystem::path& path, const AudioBuffer& audio);

}  // namespace thg::io
