#include "synth/face.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

namespace thg::synth {

namespace {

Rgb mix(const Rgb& a, const Rgb& b, double t) {
  return {static_cast<float>(a[0] + (b[0] - a[0]) * t), static_cast<float>(a[1] + (b[1] - a[1]) * t),
          static_cast<float>(a[2] + (b[2] - a[2]) * t)};
}

Rgb scaled(const Rgb& c, double k) {
  return {static_cast<float>(c[0] * k), static_cast<float>(c[1] * k), static_cast<float>(c[2] * k)};
}

}  // namespace

FaceIdentity random_identity(uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0xFACEFACEULL);
  auto uni = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  auto color = [&](double lo, double hi) {
    return Rgb{static_cast<float>(uni(lo, hi)), static_cast<float>(uni(lo, hi)), static_cast<float>(uni(lo, hi))};
  };
  FaceIdentity f;
  f.head_x = 0.5 + uni(-0.03, 0.03);
  f.head_y = 0.47 + uni(-0.03, 0.03);
  f.head_rx = uni(0.3, 0.36);
  f.head_ry = uni(0.38, 0.44);
  f.chin = uni(0.9, 1.1);
  f.eye_spacing = f.head_rx * uni(0.36, 0.46);
  f.eye_y = -f.head_ry * uni(0.08, 0.2);
  f.eye_rx = uni(0.042, 0.058);
  f.eye_ry = f.eye_rx * uni(0.45, 0.65);
  f.brow_gap = uni(0.035, 0.055);
  f.brow_tilt = uni(-0.25, 0.25);
  f.brow_thickness = uni(0.008, 0.016);
  f.nose_y = f.head_ry * uni(0.15, 0.25);
  f.nose_size = uni(0.028, 0.042);
  f.mouth_y = f.head_ry * uni(0.44, 0.54);
  f.mouth_rx = f.head_rx * uni(0.32, 0.42);
  f.lip_thickness = uni(0.015, 0.024);
  f.ear_size = uni(0.05, 0.07);
  f.hair_style = static_cast<int>(uni(0, 4));
  f.hairline = uni(0.35, 0.6);
  // Skin from a light-to-dark ramp, with a warm/cool tint.
  const Rgb light{0.96f, 0.82f, 0.70f}, dark{0.36f, 0.22f, 0.14f};
  f.skin = mix(light, dark, uni(0, 1));
  f.skin = mix(f.skin, Rgb{0.9f, 0.6f, 0.5f}, uni(0, 0.15));
  static const Rgb hair_colors[] = {{0.08f, 0.06f, 0.05f}, {0.3f, 0.18f, 0.1f}, {0.55f, 0.38f, 0.2f},
                                    {0.85f, 0.7f, 0.45f},  {0.6f, 0.25f, 0.1f}, {0.75f, 0.75f, 0.75f}};
  f.hair = scaled(hair_colors[static_cast<int>(uni(0, 6))], uni(0.8, 1.15));
  static const Rgb iris_colors[] = {{0.3f, 0.18f, 0.08f}, {0.2f, 0.4f, 0.7f}, {0.25f, 0.5f, 0.3f}, {0.45f, 0.4f, 0.3f}};
  f.iris = iris_colors[static_cast<int>(uni(0, 4))];
  f.lips = mix(scaled(f.skin, 0.8), Rgb{0.7f, 0.25f, 0.3f}, uni(0.35, 0.6));
  f.shirt = color(0.1, 0.9);
  f.background_top = color(0.2, 0.95);
  f.background_bottom = mix(f.background_top, color(0.1, 0.9), uni(0.2, 0.7));
  return f;
}

std::vector<HeadPose> pose_track(uint64_t seed, const std::vector<MouthShape>& mouth, double fps) {
  std::mt19937_64 rng(seed ^ 0xB1B1B1B1ULL);
  auto uni = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  auto sign = [&] { return uni(0, 1) < 0.5 ? -1.0 : 1.0; };
  const int frames = static_cast<int>(mouth.size());
  // Speech activity: the mouth opening smoothed forward and backward (time constant 150 ms), so
  // the head moves with phrases, not with single syllables.
  std::vector<double> env(mouth.size());
  const double a = std::exp(-1.0 / (0.15 * fps));
  double state = 0;
  for (int f = 0; f < frames; ++f) env[static_cast<size_t>(f)] = state = a * state + (1 - a) * mouth[static_cast<size_t>(f)].open;
  state = 0;
  for (int f = frames - 1; f >= 0; --f) env[static_cast<size_t>(f)] = state = a * state + (1 - a) * env[static_cast<size_t>(f)];
  const double nod = uni(0.02, 0.045), sway = sign() * uni(0.0, 0.03), lean = sign() * uni(0.03, 0.08);
  const double grow = uni(0.0, 0.04), brow = uni(0.0, 0.015);
  // Blinks: every 2-5 s, 150 ms closing and opening.
  std::vector<double> blinks;
  for (double t = uni(0.3, 2.5); t < frames / fps + 1; t += uni(2.0, 5.0)) blinks.push_back(t);
  std::vector<HeadPose> poses(static_cast<size_t>(frames));
  for (int f = 0; f < frames; ++f) {
    const double t = (f + 0.5) / fps, e = env[static_cast<size_t>(f)];
    HeadPose& p = poses[static_cast<size_t>(f)];
    p.dx = sway * e;
    p.dy = nod * e;
    p.roll = lean * e;
    p.scale = 1.0 + grow * e;
    p.brow_raise = brow * e;
    for (double b : blinks) p.blink = std::max(p.blink, 1.0 - std::abs(t - b) / 0.075);
    p.blink = std::clamp(p.blink, 0.0, 1.0);
  }
  return poses;
}

}  // namespace thg::synth
