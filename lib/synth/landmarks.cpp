#include "synth/landmarks.h"

#include <algorithm>
#include <cmath>

namespace thg::synth {

namespace {
constexpr double kPi = 3.14159265358979323846;
using portrait::Point;
}  // namespace

portrait::Landmarks face_landmarks(const FaceIdentity& f, const HeadPose& pose, const MouthShape& m, int size) {
  // Face-space points first (image units with the head at rest), from render.cpp's build_layers.
  portrait::Landmarks L;
  const Point h{f.head_x, f.head_y};
  const double open = std::clamp(m.open, 0.0, 1.0);
  const double jaw = open * 0.035;

  // Jaw: the head outline's lower half, from the image-left side at centre height around the chin.
  const double below = f.head_ry * f.chin + jaw;
  for (int i = 0; i <= 16; ++i) {
    const double a = kPi - kPi * i / 16.0;  // pi (left) .. 0 (right), through the chin at pi/2
    L[static_cast<size_t>(i)] = {h.x + f.head_rx * std::cos(a), h.y + below * std::sin(a)};
  }
  // Eyes and brows; s = -1 is the eye on the image's left.
  for (int s : {-1, 1}) {
    const Point e{h.x + s * f.eye_spacing, h.y + f.eye_y};
    const double lid = f.eye_ry * (1.0 - pose.blink) + 1e-4;  // the open band's half-height
    const double rx = f.eye_rx, third = rx / 3;
    // 36-41 (left eye) / 42-47 (right): left corner, two upper-lid points, right corner, two lower.
    const size_t b = s < 0 ? 36 : 42;
    const double upper = e.y - std::min(lid, f.eye_ry), lower = e.y + std::min(lid, f.eye_ry);
    L[b + 0] = {e.x - rx, e.y};
    L[b + 1] = {e.x - third, upper};
    L[b + 2] = {e.x + third, upper};
    L[b + 3] = {e.x + rx, e.y};
    L[b + 4] = {e.x + third, lower};
    L[b + 5] = {e.x - third, lower};
    // Brows: 17-21 (left) / 22-26 (right), left to right along the brow's stroke.
    const double by = e.y - f.eye_ry - f.brow_gap - pose.brow_raise;
    Point p0{e.x - s * rx * 0.9, by + f.brow_tilt * 0.02}, p1{e.x + s * rx * 1.1, by - f.brow_tilt * 0.02};
    if (p0.x > p1.x) std::swap(p0, p1);
    const size_t brow = s < 0 ? 17 : 22;
    for (int k = 0; k < 5; ++k)
      L[brow + static_cast<size_t>(k)] = {p0.x + (p1.x - p0.x) * k / 4.0, p0.y + (p1.y - p0.y) * k / 4.0};
  }
  // Nose: the bridge from between the eyes to the tip (27-30), the nostrils' line (31-35).
  const Point top{h.x, h.y + f.eye_y}, tip{h.x, h.y + f.nose_y + f.nose_size * 0.3};
  for (int k = 0; k < 4; ++k) L[27 + static_cast<size_t>(k)] = {top.x, top.y + (tip.y - top.y) * k / 3.0};
  const double ny = h.y + f.nose_y + f.nose_size * 0.55;
  for (int k = 0; k < 5; ++k) L[31 + static_cast<size_t>(k)] = {h.x + f.nose_size * 0.6 * (k - 2) / 2.0, ny};
  // Mouth: the lips' ellipse (outer, 48-59 clockwise from the left corner) and the interior's (60-67).
  const double size_k = f.mouth_rx / 0.12;
  const double oh = open * 0.065 * size_k;
  const double rx = f.mouth_rx * (0.75 + 0.45 * m.width - 0.3 * m.round);
  const Point mc{h.x, h.y + f.mouth_y + jaw * 0.5};
  const double outer_rx = rx + 0.004, outer_ry = f.lip_thickness * (1.0 + 0.4 * m.round) + oh;
  for (int k = 0; k < 12; ++k) {
    const double a = kPi + 2 * kPi * k / 12.0;  // from the left corner, over the top first (y down)
    L[48 + static_cast<size_t>(k)] = {mc.x + outer_rx * std::cos(a), mc.y + outer_ry * std::sin(a)};
  }
  const double inner_rx = rx * 0.85, inner_ry = oh;
  for (int k = 0; k < 8; ++k) {
    const double a = kPi + 2 * kPi * k / 8.0;
    L[60 + static_cast<size_t>(k)] = {mc.x + inner_rx * std::cos(a), mc.y + inner_ry * std::sin(a)};
  }
  // Into the frame: the renderer's forward pose (scale and roll about the head centre, then shift),
  // then pixels.
  const double cs = std::cos(pose.roll), sn = std::sin(pose.roll);
  for (Point& p : L) {
    const double x = p.x - f.head_x, y = p.y - f.head_y;
    const double ix = f.head_x + pose.dx + pose.scale * (cs * x - sn * y);
    const double iy = f.head_y + pose.dy + pose.scale * (sn * x + cs * y);
    p = {ix * size - 0.5, iy * size - 0.5};
  }
  return L;
}

}  // namespace thg::synth
