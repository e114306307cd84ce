#pragma once
// The motion the motion-warp family generates for each video frame: what the mouth, the eyes and
// the head do, in units that any face's own landmarks can carry out (model/face_warp.h). The
// synthetic world knows these exactly for every frame it renders (synth/motion_track.h), which is
// what the model learns from; on a photo they are applied to the photo's pixels, never painted.
#include <array>
#include <string>

namespace thg::model {

enum MotionChannel : int {
  kOpen = 0,   // lip opening, 0 (the face's rest) .. 1 (wide "a")
  kWidth,      // lip spread, 0 narrow .. 0.5 neutral .. 1 spread ("i")
  kRound,      // lip rounding ("o", "u", "w"), 0 .. 1
  kPress,      // lips pressed together (p, b, m), 0 .. 1: closes even a smiling mouth
  kBlink,      // eyelids, 0 open .. 1 closed
  kBrow,       // brow raise, in inter-ocular distances
  kShiftX,     // head translation, in inter-ocular distances (x right, y down)
  kShiftY,
  kRoll,       // head roll, radians
  kScale,      // head scale change (0: none), e.g. leaning in
  kMotionChannels
};

using MotionFrame = std::array<float, kMotionChannels>;

// "open", "width", ... in channel order (CSV headers, reports).
const char* motion_channel_name(int channel);
// The face at rest: mouth as in the portrait, neutral width, eyes open, head still.
MotionFrame rest_motion();

}  // namespace thg::model
