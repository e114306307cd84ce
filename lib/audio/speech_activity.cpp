#include "audio/speech_activity.h"

#include <algorithm>
#include <cmath>

namespace thg::audio {

std::vector<double> frame_loudness(const std::vector<float>& mono, int sample_rate, int fps, int64_t frames) {
  const double per = static_cast<double>(sample_rate) / fps;
  std::vector<double> rms;
  rms.reserve(static_cast<size_t>(std::max<int64_t>(frames, 0)));
  for (int64_t f = 0; f < frames; ++f) {
    const auto b = std::min(mono.size(), static_cast<size_t>(static_cast<double>(f) * per));
    const auto e = std::min(mono.size(), static_cast<size_t>(static_cast<double>(f + 1) * per));
    double sum = 0;
    for (size_t s = b; s < e; ++s) sum += static_cast<double>(mono[s]) * mono[s];
    rms.push_back(e > b ? std::sqrt(sum / static_cast<double>(e - b)) : 0.0);
  }
  return rms;
}

double loud_level(const std::vector<double>& loudness) {
  if (loudness.empty()) return 0;
  std::vector<double> sorted = loudness;
  std::sort(sorted.begin(), sorted.end());
  return sorted[static_cast<size_t>(0.95 * static_cast<double>(sorted.size() - 1))];
}

std::vector<bool> pause_frames(const std::vector<double>& loudness, double quiet_ratio, int64_t min_frames) {
  const size_t n = loudness.size();
  std::vector<bool> paused(n, false);
  const double quiet = quiet_ratio * loud_level(loudness);
  for (size_t f = 0; f < n;) {
    size_t end = f;
    while (end < n && loudness[end] < quiet) ++end;
    if (static_cast<int64_t>(end - f) >= min_frames)
      std::fill(paused.begin() + static_cast<std::ptrdiff_t>(f), paused.begin() + static_cast<std::ptrdiff_t>(end), true);
    f = end > f ? end : f + 1;
  }
  return paused;
}

std::vector<float> speech_activity(const std::vector<double>& loudness, const PauseOptions& o) {
  const size_t n = loudness.size();
  if (n == 0) return {};
  if (!(loud_level(loudness) > 0)) return std::vector<float>(n, 0.0f);  // (nearly) digital silence throughout
  const std::vector<bool> paused = pause_frames(loudness, std::pow(10.0, -o.quiet_db / 20.0), o.min_frames);
  std::vector<float> active(n);
  for (size_t f = 0; f < n; ++f) active[f] = paused[f] ? 0.0f : 1.0f;
  std::vector<float> smooth(n);
  for (size_t f = 0; f < n; ++f) {
    const float prev = active[f > 0 ? f - 1 : f], next = active[f + 1 < n ? f + 1 : f];
    smooth[f] = std::min(active[f], 0.5f + 0.5f * std::min(prev, next));
  }
  return smooth;
}

}  // namespace thg::audio
