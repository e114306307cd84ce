#pragma once
// Where a recording pauses, per video frame. A person closes the mouth in a pause but not in the
// 40 ms dip between two syllables, so a frame counts as paused only inside a run of quiet frames
// (quieter than the clip's loud level by `quiet_db`) at least `min_frames` long. Lips take about
// 80 ms to close, and the sound stops because they close, so the frame on either side of a pause
// is half-way (0.5) and the pause itself is fully at rest (0).
#include <cstdint>
#include <vector>

namespace thg::audio {

struct PauseOptions {
  double quiet_db = 30.0;   // below the clip's 95th-percentile frame loudness by this much: quiet
  int64_t min_frames = 3;   // a pause is at least this many quiet frames (120 ms at 25 fps)
};

// A clip's loud level: its 95th-percentile frame loudness (0 for no frames).
double loud_level(const std::vector<double>& frame_loudness);
// The frames inside a run of at least `min_frames` frames quieter than `quiet_ratio` times the
// clip's loud level (its 95th-percentile frame loudness). Speech activity and the evaluation's
// silence measure both count pauses this way.
std::vector<bool> pause_frames(const std::vector<double>& frame_loudness, double quiet_ratio, int64_t min_frames);
// RMS of each video frame's samples (mono, any rate).
std::vector<double> frame_loudness(const std::vector<float>& mono, int sample_rate, int fps, int64_t frames);
// 1 while speaking, 0 in a pause, in between while the lips close or open; one value per frame.
std::vector<float> speech_activity(const std::vector<double>& frame_loudness, const PauseOptions& options = {});

}  // namespace thg::audio
