#pragma once
// The synthetic world's people: an identity (everything about a face that does not change while it
// talks) drawn from a seed, and the per-frame head pose (small motion, blinks).
#include <array>
#include <cstdint>
#include <vector>

#include "synth/mouth.h"

namespace thg::synth {

using Rgb = std::array<float, 3>;  // linear 0..1

struct FaceIdentity {
  // Layout in image units (0..1, y down).
  double head_x = 0.5, head_y = 0.45;      // head centre
  double head_rx = 0.28, head_ry = 0.35;   // head half-axes
  double chin = 1.0;                       // lower-face length factor
  double eye_spacing = 0.11, eye_y = -0.05, eye_rx = 0.045, eye_ry = 0.025;  // relative to head centre
  double brow_gap = 0.045, brow_tilt = 0.0, brow_thickness = 0.012;
  double nose_y = 0.07, nose_size = 0.03;
  double mouth_y = 0.17, mouth_rx = 0.095, lip_thickness = 0.018;
  double ear_size = 0.05;
  int hair_style = 1;       // 0 bald, 1 short, 2 side parting, 3 long
  double hairline = 0.45;   // fringe depth (fraction of head_ry above the centre)
  Rgb skin{}, hair{}, iris{}, lips{}, shirt{}, background_top{}, background_bottom{};
};

// A random identity; the same seed always gives the same face.
FaceIdentity random_identity(uint64_t seed);

struct HeadPose {
  double dx = 0, dy = 0;   // translation (image units)
  double roll = 0;         // radians
  double scale = 1;
  double blink = 0;        // 0 open .. 1 closed
  double brow_raise = 0;   // image units
};

// Head motion and blinks for each frame. The motion follows the speech (the head dips, turns and
// leans with the smoothed mouth activity, as speakers' heads move with their prosody) with
// per-speaker amplitudes from the seed, so it can be inferred from the audio; blinks are random.
std::vector<HeadPose> pose_track(uint64_t seed, const std::vector<MouthShape>& mouth, double fps);

}  // namespace thg::synth
