#include "synth/render.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace thg::synth {

namespace {

struct Vec {
  double x, y;
};

// One signed-distance primitive. Distances are in image units (0..1).
struct Shape {
  enum Kind { Ellipse, Capsule, Box } kind = Ellipse;
  Vec c{0, 0};           // centre (ellipse, box) or first end (capsule)
  Vec r{0, 0};           // half-axes (ellipse, box) or second end (capsule)
  double radius = 0;     // capsule thickness / 2
  double ry_below = -1;  // ellipse: a different lower half-axis (jaw), < 0 for none
  double angle = 0;      // ellipse, box: rotation

  double bound() const {
    switch (kind) {
      case Ellipse: return std::max({r.x, r.y, ry_below});
      case Box: return std::hypot(r.x, r.y);
      case Capsule: return std::hypot(r.x - c.x, r.y - c.y) / 2 + radius;
    }
    return 1e9;
  }
  Vec centre() const { return kind == Capsule ? Vec{(c.x + r.x) / 2, (c.y + r.y) / 2} : c; }

  double distance(Vec p) const {
    if (kind == Capsule) {
      const double ax = p.x - c.x, ay = p.y - c.y, bx = r.x - c.x, by = r.y - c.y;
      const double h = std::clamp((ax * bx + ay * by) / std::max(1e-12, bx * bx + by * by), 0.0, 1.0);
      return std::hypot(ax - bx * h, ay - by * h) - radius;
    }
    double x = p.x - c.x, y = p.y - c.y;
    if (angle != 0) {
      const double cs = std::cos(angle), sn = std::sin(angle);
      const double rx = cs * x + sn * y, ry = -sn * x + cs * y;
      x = rx;
      y = ry;
    }
    if (kind == Box) {
      const double qx = std::abs(x) - r.x, qy = std::abs(y) - r.y;
      return std::hypot(std::max(qx, 0.0), std::max(qy, 0.0)) + std::min(std::max(qx, qy), 0.0);
    }
    const double ax = r.x, ay = (ry_below > 0 && y > 0) ? ry_below : r.y;
    // Inigo Quilez's ellipse distance estimate: exact on the boundary, smooth near it.
    const double k0 = std::hypot(x / ax, y / ay);
    const double k1 = std::hypot(x / (ax * ax), y / (ay * ay));
    return k1 < 1e-12 ? -std::min(ax, ay) : k0 * (k0 - 1.0) / k1;
  }
};

Shape ellipse(Vec c, double rx, double ry, double angle = 0) { return {Shape::Ellipse, c, {rx, ry}, 0, -1, angle}; }
Shape box(Vec c, double hx, double hy, double angle = 0) { return {Shape::Box, c, {hx, hy}, 0, -1, angle}; }
Shape capsule(Vec a, Vec b, double radius) { return {Shape::Capsule, a, b, radius, -1, 0}; }

struct Layer {
  Shape shape;
  Rgb color;
  double alpha;
  bool face_space;            // moves with the head
  double softness_px;         // edge width in pixels (blush: wide)
  std::vector<Shape> clips;   // drawn only inside every clip shape

  Layer(Shape s, Rgb c, double a = 1.0, bool in_face = true, double soft = 1.0, std::vector<Shape> clip = {})
      : shape(s), color(c), alpha(a), face_space(in_face), softness_px(soft), clips(std::move(clip)) {}
};

Rgb operator*(const Rgb& c, double k) {
  return {static_cast<float>(c[0] * k), static_cast<float>(c[1] * k), static_cast<float>(c[2] * k)};
}

// The face's layers for one pose and mouth, back to front.
std::vector<Layer> build_layers(const FaceIdentity& f, const HeadPose& pose, const MouthShape& m) {
  std::vector<Layer> L;
  const Vec h{f.head_x, f.head_y};
  const Rgb black{0.03f, 0.02f, 0.02f}, white{0.96f, 0.96f, 0.95f};
  const double open = std::clamp(m.open, 0.0, 1.0);
  const double jaw = open * 0.035;

  if (f.hair_style == 3)
    L.push_back({ellipse({h.x, h.y + 0.06}, f.head_rx * 1.3, f.head_ry * 1.3), f.hair});
  L.push_back({box({h.x, h.y + f.head_ry * 0.8 + 0.15}, f.head_rx * 0.45, 0.15), f.skin * 0.8});
  L.push_back({ellipse({0.5, 1.12}, 0.5, 0.24), f.shirt, 1.0, false});
  for (int s : {-1, 1})
    L.push_back({ellipse({h.x + s * f.head_rx * 0.97, h.y + f.eye_y + 0.035}, f.ear_size * 0.5, f.ear_size),
                 f.skin * 0.9});
  Shape head = ellipse(h, f.head_rx, f.head_ry);
  head.ry_below = f.head_ry * f.chin + jaw;
  L.push_back({head, f.skin});
  for (int s : {-1, 1})
    L.push_back({ellipse({h.x + s * f.head_rx * 0.55, h.y + f.mouth_y * 0.55}, 0.045, 0.035), Rgb{0.9f, 0.45f, 0.45f},
                 0.18, true, 6.0});
  if (f.hair_style != 0) {
    const double tilt = f.hair_style == 2 ? 0.22 : 0.0;
    L.push_back({ellipse({h.x, h.y - 0.012}, f.head_rx * 1.07, f.head_ry * 1.08), f.hair, 1.0, true, 1.0,
                 {box({h.x, h.y - f.hairline * f.head_ry - 0.5}, 1.0, 0.5, tilt)}});
  }

  // Eyes: sclera, iris, pupil, all clipped to the band the eyelids leave open.
  for (int s : {-1, 1}) {
    const Vec e{h.x + s * f.eye_spacing, h.y + f.eye_y};
    const double open_ry = f.eye_ry * (1.0 - pose.blink) + 1e-4;
    const Shape sclera = ellipse(e, f.eye_rx, f.eye_ry);
    const Shape band = box(e, f.eye_rx * 1.2, open_ry);
    L.push_back({sclera, white, 1.0, true, 1.0, {band}});
    L.push_back({ellipse(e, f.eye_ry * 0.85, f.eye_ry * 0.85), f.iris, 1.0, true, 1.0, {sclera, band}});
    L.push_back({ellipse(e, f.eye_ry * 0.4, f.eye_ry * 0.4), black, 1.0, true, 1.0, {sclera, band}});
    L.push_back({capsule({e.x - f.eye_rx, e.y - open_ry}, {e.x + f.eye_rx, e.y - open_ry}, 0.0035), f.skin * 0.45,
                 1.0, true, 1.0, {ellipse(e, f.eye_rx * 1.05, f.eye_ry * 1.3)}});
    const double by = e.y - f.eye_ry - f.brow_gap - pose.brow_raise;
    L.push_back({capsule({e.x - s * f.eye_rx * 0.9, by + s * 0 + f.brow_tilt * 0.02},
                         {e.x + s * f.eye_rx * 1.1, by - f.brow_tilt * 0.02}, f.brow_thickness),
                 f.hair * 0.9});
  }

  // Nose: a soft shade and two nostrils.
  L.push_back({ellipse({h.x, h.y + f.nose_y}, f.nose_size * 0.6, f.nose_size), f.skin * 0.88, 1.0, true, 3.0});
  for (int s : {-1, 1})
    L.push_back({ellipse({h.x + s * f.nose_size * 0.4, h.y + f.nose_y + f.nose_size * 0.55}, f.nose_size * 0.22,
                         f.nose_size * 0.13),
                 f.skin * 0.6});

  // Mouth: lips, the dark interior whose height is the opening, teeth and tongue inside it.
  const double size_k = f.mouth_rx / 0.12;
  const double oh = open * 0.065 * size_k;
  const double rx = f.mouth_rx * (0.75 + 0.45 * m.width - 0.3 * m.round);
  const Vec mc{h.x, h.y + f.mouth_y + jaw * 0.5};
  L.push_back({ellipse(mc, rx + 0.004, f.lip_thickness * (1.0 + 0.4 * m.round) + oh), f.lips});
  if (oh > 0.0015) {
    const Shape interior = ellipse(mc, rx * 0.85, oh);
    L.push_back({interior, Rgb{0.12f, 0.02f, 0.04f}});
    L.push_back({box({mc.x, mc.y - oh + 0.006 * size_k}, rx * 0.7, 0.006 * size_k), white * 0.97,
                 std::clamp(m.teeth, 0.0, 1.0), true, 1.0, {interior}});
    L.push_back({ellipse({mc.x, mc.y + oh * 0.95}, rx * 0.5, oh * 0.55), Rgb{0.72f, 0.3f, 0.35f},
                 std::clamp(m.tongue, 0.0, 1.0), true, 1.0, {interior}});
  }
  L.push_back({capsule({mc.x - rx * 0.8, mc.y}, {mc.x + rx * 0.8, mc.y}, 0.002), f.lips * 0.5,
               std::clamp(1.0 - oh / 0.006, 0.0, 1.0)});
  return L;
}

// Maps an image point into the head's own frame (inverse of: scale and roll about the head
// centre, then translate).
Vec to_face(const FaceIdentity& f, const HeadPose& p, Vec q) {
  const double x = (q.x - f.head_x - p.dx) / p.scale, y = (q.y - f.head_y - p.dy) / p.scale;
  const double cs = std::cos(-p.roll), sn = std::sin(-p.roll);
  return {f.head_x + cs * x - sn * y, f.head_y + sn * x + cs * y};
}

}  // namespace

void render_frame(const FaceIdentity& f, const HeadPose& pose, const MouthShape& mouth, int size, uint8_t* rgb) {
  const std::vector<Layer> layers = build_layers(f, pose, mouth);
  const double px = 1.0 / size;
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const Vec img{(x + 0.5) * px, (y + 0.5) * px};
      const Vec face = to_face(f, pose, img);
      const double t = img.y;
      std::array<double, 3> c{};
      for (int k = 0; k < 3; ++k) c[k] = f.background_top[k] + (f.background_bottom[k] - f.background_top[k]) * t;
      for (const Layer& layer : layers) {
        const Vec p = layer.face_space ? face : img;
        const Vec centre = layer.shape.centre();
        const double reach = layer.shape.bound() + layer.softness_px * px * 2;
        if (std::abs(p.x - centre.x) > reach || std::abs(p.y - centre.y) > reach) continue;
        double d = layer.shape.distance(p);
        for (const Shape& clip : layer.clips) d = std::max(d, clip.distance(p));
        const double coverage = std::clamp(0.5 - d / (px * layer.softness_px), 0.0, 1.0) * layer.alpha;
        if (coverage <= 0) continue;
        for (int k = 0; k < 3; ++k) c[k] += (layer.color[k] - c[k]) * coverage;
      }
      uint8_t* out = rgb + (static_cast<size_t>(y) * size + x) * 3;
      for (int k = 0; k < 3; ++k) out[k] = static_cast<uint8_t>(std::lround(std::clamp(c[k], 0.0, 1.0) * 255.0));
    }
  }
}

void render_portrait(const FaceIdentity& face, int size, uint8_t* rgb) {
  render_frame(face, HeadPose{}, rest_mouth(), size, rgb);
}

PixelBox mouth_box(const FaceIdentity& f, const HeadPose& p, int size) {
  // The box in face space: from just below the nostrils to below the lowest jaw position.
  const double top = std::max(f.mouth_y - 0.09, f.nose_y + f.nose_size * 0.8), bottom = f.mouth_y + 0.11;
  const double fx = 0.0, fy = (top + bottom) / 2;
  // Its centre in the image: the forward pose transform.
  const double cs = std::cos(p.roll), sn = std::sin(p.roll);
  const double cx = f.head_x + p.dx + p.scale * (cs * fx - sn * fy);
  const double cy = f.head_y + p.dy + p.scale * (sn * fx + cs * fy);
  const double hw = f.mouth_rx * 1.3 * p.scale, hh = (bottom - top) / 2 * p.scale;
  auto clampi = [&](double v) { return std::clamp(static_cast<int>(std::lround(v * size)), 0, size); };
  return {clampi(cx - hw), clampi(cy - hh), clampi(cx + hw), clampi(cy + hh)};
}

}  // namespace thg::synth
