#pragma once
// When the eyes blink. People blink every 2-5 s whatever they say, so nothing in the speech tells
// a model when; the synthetic world's blinks are random in time too, and a denoiser that learns
// them from speech learns their average, which is no blink at all. The motion-warp family
// therefore draws them: a seeded schedule at a human rate, the lids closing in 80 ms, shut for
// 50 ms (at least one frame at 25 fps), opening in 140 ms (a real blink's asymmetry), the same for
// every chunk of a clip.
#include <cstdint>
#include <vector>

namespace thg::model {

// Lid closure (0 open .. 1 closed) of frames [first, first + count) at `fps`, for blinks every
// 60 / per_minute seconds on average (intervals uniform in 0.5x..1.5x that), seeded by `seed`.
std::vector<float> blink_closure(uint64_t seed, int fps, int64_t first, int64_t count, double per_minute);

}  // namespace thg::model
