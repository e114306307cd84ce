#include "model/blinks.h"

#include <algorithm>
#include <random>

namespace thg::model {

std::vector<float> blink_closure(uint64_t seed, int fps, int64_t first, int64_t count, double per_minute) {
  std::vector<float> closure(static_cast<size_t>(std::max<int64_t>(count, 0)), 0.0f);
  if (per_minute <= 0 || count <= 0 || fps <= 0) return closure;
  constexpr double kClose = 0.08, kHold = 0.05, kOpen = 0.14;  // seconds
  const double mean = 60.0 / per_minute;
  std::mt19937_64 rng(seed ^ 0xB1B1B1B1ULL);
  std::uniform_real_distribution<double> interval(0.5 * mean, 1.5 * mean);
  const double begin = static_cast<double>(first) / fps, end = static_cast<double>(first + count) / fps;
  // Blink times from the clip's start, so every chunk sees the same ones.
  for (double t = std::uniform_real_distribution<double>(0.3, mean)(rng); t - kClose < end; t += interval(rng)) {
    if (t + kHold + kOpen < begin) continue;
    for (int64_t f = first; f < first + count; ++f) {
      const double dt = static_cast<double>(f) / fps - t;  // the lids are shut for dt in [0, kHold]
      const double c = dt < 0 ? 1.0 + dt / kClose : dt <= kHold ? 1.0 : 1.0 - (dt - kHold) / kOpen;
      float& v = closure[static_cast<size_t>(f - first)];
      v = std::max(v, static_cast<float>(std::clamp(c, 0.0, 1.0)));
    }
  }
  return closure;
}

}  // namespace thg::model
