#pragma once
// The procedural face renderer: signed-distance shapes composited back to front with analytic
// anti-aliasing (coverage from the distance to the edge, in pixels), so any size renders cleanly
// and small mouth movements change pixels smoothly rather than in 1-pixel steps.
#include <cstdint>

#include "synth/face.h"
#include "synth/mouth.h"

namespace thg::synth {

// Draws one size x size frame as packed RGB 8-bit (size * size * 3 bytes).
void render_frame(const FaceIdentity& face, const HeadPose& pose, const MouthShape& mouth, int size, uint8_t* rgb);

// The identity's portrait: rest pose, eyes open, mouth closed.
void render_portrait(const FaceIdentity& face, int size, uint8_t* rgb);

// The pixel box (inclusive-exclusive) that contains the mouth at any opening, for this pose.
struct PixelBox {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};
PixelBox mouth_box(const FaceIdentity& face, const HeadPose& pose, int size);

}  // namespace thg::synth
