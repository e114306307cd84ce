#pragma once
// Speech audio: any format FFmpeg reads (WAV s16/u8/float, MP3, FLAC, Vorbis, Opus, AAC/M4A, the
// audio stream of a video), decoded to interleaved float samples, and resampled with swresample.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace thg::io {

struct AudioBuffer {
  int sample_rate = 0;
  int channels = 0;
  std::vector<float> samples;  // interleaved, channels * frames

  int64_t frames() const { return channels > 0 ? static_cast<int64_t>(samples.size()) / channels : 0; }
  double seconds() const { return sample_rate > 0 ? static_cast<double>(frames()) / sample_rate : 0.0; }
};

struct AudioLimits {
  double max_seconds = 3600.0;  // longer inputs are refused with a message, never half-read
};

// Decodes the best audio stream of `path` at its own rate, downmixed to at most two channels.
AudioBuffer decode_audio(const std::filesystem::path& path, const AudioLimits& limits = {});

// Resamples/remixes with swresample. channels: 1 or 2.
AudioBuffer resample(const AudioBuffer& in, int sample_rate, int channels);

}  // namespace thg::io
