#include "model/face_warp.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace thg::model {

namespace {

using portrait::Landmarks;
using portrait::Point;

Point operator+(Point a, Point b) { return {a.x + b.x, a.y + b.y}; }
Point operator-(Point a, Point b) { return {a.x - b.x, a.y - b.y}; }
Point operator*(double k, Point a) { return {k * a.x, k * a.y}; }
double dot(Point a, Point b) { return a.x * b.x + a.y * b.y; }


// The face's own axes: ex from the image-left eye to the image-right eye, ey perpendicular to it
// pointing down the face; iod the distance between the eye centres.
struct FaceAxes {
  Point ex, ey;
  double iod = 1;
};

FaceAxes face_axes(const Landmarks& p) {
  const Point d = portrait::landmark_mean(p, 42, 47) - portrait::landmark_mean(p, 36, 41);
  const double iod = std::max(1e-6, std::hypot(d.x, d.y));
  const Point ex = (1.0 / iod) * d;
  return {ex, {-ex.y, ex.x}, iod};
}

// Inner lips: upper 61-63 above lower 67-65 (pairs), corners 60 and 64.
constexpr int kUpperInner[3] = {61, 62, 63};
constexpr int kLowerInner[3] = {67, 66, 65};

// How far each point's displacement reaches (Gaussian sigma, in inter-ocular distances): lips are
// close together and must not pull each other; the jaw line's points are far apart.
double reach(int i) {
  if (i <= 16) return 0.28;             // jaw line
  if (i <= 26) return 0.15;             // brows
  if (i <= 35) return 0.14;             // nose (static anchors)
  if (i <= 47) return 0.07;             // eyes
  return 0.09;                          // lips
}

// The points that drive the field above the lips' meeting line, and the one below it.
std::vector<int> upper_points() {
  std::vector<int> v;
  for (int i = 0; i <= 3; ++i) v.push_back(i);
  for (int i = 13; i <= 54; ++i) v.push_back(i);
  for (int i : {60, 61, 62, 63, 64}) v.push_back(i);
  return v;
}
std::vector<int> lower_points() {
  std::vector<int> v;
  for (int i = 2; i <= 14; ++i) v.push_back(i);
  for (int i = 31; i <= 35; ++i) v.push_back(i);
  for (int i : {48, 54, 55, 56, 57, 58, 59, 60, 64, 65, 66, 67}) v.push_back(i);
  return v;
}

// A smooth displacement field on a coarse grid, upsampled to size x size: at each position the
// Gaussian-weighted mean of the points' displacements, fading to zero away from all of them.
at::Tensor displacement_field(const Landmarks& target, const Landmarks& rest, const std::vector<int>& points,
                              double iod, int64_t size) {
  constexpr int64_t kGrid = 64;
  const auto k = static_cast<int64_t>(points.size());
  std::vector<float> centres, sigmas, moves;
  for (int i : points) {
    const auto u = static_cast<size_t>(i);
    centres.insert(centres.end(), {static_cast<float>(target[u].x), static_cast<float>(target[u].y)});
    const double s = reach(i) * iod;
    sigmas.push_back(static_cast<float>(1.0 / (2 * s * s)));
    moves.insert(moves.end(),
                 {static_cast<float>(target[u].x - rest[u].x), static_cast<float>(target[u].y - rest[u].y)});
  }
  const at::Tensor c = at::tensor(centres).view({k, 2});
  const at::Tensor inv2s2 = at::tensor(sigmas).view({1, k});
  const at::Tensor d = at::tensor(moves).view({k, 2});
  // Grid positions in the crop's pixel-centre coordinates (as bilinear upsampling places them).
  const at::Tensor g = (at::arange(kGrid, at::kFloat) + 0.5) * (static_cast<double>(size) / kGrid) - 0.5;
  const at::Tensor gy = g.view({kGrid, 1}).expand({kGrid, kGrid}).reshape({-1, 1});
  const at::Tensor gx = g.view({1, kGrid}).expand({kGrid, kGrid}).reshape({-1, 1});
  const at::Tensor r2 = (gx - c.select(1, 0).view({1, k})).square() + (gy - c.select(1, 1).view({1, k})).square();
  const at::Tensor w = at::exp(-r2 * inv2s2);                   // [G*G, K]
  const at::Tensor field = at::matmul(w, d) / (w.sum(1, true) + 0.02);  // [G*G, 2]
  const at::Tensor coarse = field.t().reshape({1, 2, kGrid, kGrid});
  return at::upsample_bilinear2d(coarse, {size, size}, /*align_corners=*/false).squeeze(0);  // [2, S, S]
}

// Piecewise-linear v(u) through knots (sorted by u), constant beyond the ends.
at::Tensor piecewise(const at::Tensor& u, std::vector<std::pair<double, double>> knots) {
  std::sort(knots.begin(), knots.end());
  for (size_t k = 1; k < knots.size(); ++k) knots[k].first = std::max(knots[k].first, knots[k - 1].first + 1e-3);
  at::Tensor v = at::full_like(u, knots.front().second);
  for (size_t k = 0; k + 1 < knots.size(); ++k) {
    const auto [u0, v0] = knots[k];
    const auto [u1, v1] = knots[k + 1];
    const at::Tensor t = ((u - u0) / (u1 - u0)).clamp(0, 1);
    v = at::where(u >= u0, v0 + (v1 - v0) * t, v);
  }
  return v;
}

// The inner lips of a face in the (u, v) frame of `origin` and `axes`.
struct MouthCurves {
  std::vector<std::pair<double, double>> upper, lower, middle;
  double left = 0, right = 0;  // u of the inner corners
};

MouthCurves mouth_curves(const Landmarks& p, Point origin, const FaceAxes& a) {
  auto uv = [&](int i) {
    const Point d = p[static_cast<size_t>(i)] - origin;
    return std::pair<double, double>{dot(d, a.ex), dot(d, a.ey)};
  };
  MouthCurves m;
  const auto l = uv(60), r = uv(64);
  m.left = std::min(l.first, r.first);
  m.right = std::max(l.first, r.first);
  m.upper = {l, r};
  m.lower = {l, r};
  m.middle = {l, r};
  for (int k = 0; k < 3; ++k) {
    const auto up = uv(kUpperInner[k]), lo = uv(kLowerInner[k]);
    m.upper.push_back(up);
    m.lower.push_back(lo);
    m.middle.push_back({(up.first + lo.first) / 2, (up.second + lo.second) / 2});
  }
  return m;
}

// Soft "inside the inner lips" of the curves at (u, v); 0 where the lips touch.
at::Tensor inside_mouth(const at::Tensor& u, const at::Tensor& v, const MouthCurves& m) {
  const at::Tensor up = piecewise(u, m.upper), lo = piecewise(u, m.lower);
  const at::Tensor across = at::sigmoid((u - m.left) / 0.7) * at::sigmoid((m.right - u) / 0.7);
  return across * at::sigmoid((v - up) / 0.5) * at::sigmoid((lo - v) / 0.5) * ((lo - up) / 1.5).clamp(0, 1);
}

// Mean colour of the image around a point (a few pixels), for the mouth's own tones.
at::Tensor colour_near(const at::Tensor& image, Point p, int64_t radius) {
  const int64_t s = image.size(1);
  const int64_t x = std::clamp<int64_t>(std::llround(p.x), 0, s - 1), y = std::clamp<int64_t>(std::llround(p.y), 0, s - 1);
  return image.slice(1, std::max<int64_t>(0, y - radius), std::min(s, y + radius + 1))
      .slice(2, std::max<int64_t>(0, x - radius), std::min(s, x + radius + 1))
      .mean({1, 2});
}

}  // namespace

Landmarks template_landmarks(double eye_y, double eye_distance, double mouth_y, int size) {
  constexpr double kPi = 3.14159265358979323846;
  const double s = size, d = eye_distance * s, cx = 0.5 * s - 0.5, ey = eye_y * s - 0.5, my = mouth_y * s - 0.5;
  Landmarks p;
  size_t k = 0;
  auto put = [&](double x, double y) { p[k++] = {x, y}; };
  for (int i = 0; i < 17; ++i) {  // jaw 0-16: from beside the eyes down round the chin
    const double a = kPi * (1.0 - i / 16.0);
    put(cx + 1.0 * d * std::cos(a), ey + 0.15 * d + (my - ey + 0.75 * d) * std::sin(a));
  }
  for (int side = -1; side <= 1; side += 2)  // brows 17-21, 22-26
    for (int i = 0; i < 5; ++i) put(cx + side * 0.5 * d + (i - 2) * 0.16 * d, ey - 0.35 * d - 0.05 * d * (2 - std::abs(i - 2)));
  for (int i = 0; i < 4; ++i) put(cx, ey + 0.1 * d + i * 0.18 * d);            // nose bridge 27-30
  for (int i = 0; i < 5; ++i) put(cx + (i - 2) * 0.12 * d, ey + 0.68 * d);    // nostrils 31-35
  for (int side = -1; side <= 1; side += 2)                                   // eyes 36-41, 42-47
    for (int i = 0; i < 6; ++i) {
      const double a = kPi * (1.0 + i / 3.0);
      put(cx + side * 0.5 * d + 0.22 * d * std::cos(a), ey + 0.09 * d * std::sin(a));
    }
  const double half = 0.43 * d;
  for (int i = 0; i < 12; ++i) {  // outer lips 48-59
    const double a = kPi * (1.0 + i / 6.0);
    put(cx + half * std::cos(a), my + 0.14 * d * std::sin(a));
  }
  for (int i = 0; i < 8; ++i) {  // inner lips 60-67, closed
    const double a = kPi * (1.0 + i / 4.0);
    put(cx + 0.8 * half * std::cos(a), my);
  }
  return p;
}

at::Tensor landmarks_tensor(const Landmarks& landmarks) {
  std::vector<float> points;
  for (const Point& p : landmarks) points.insert(points.end(), {static_cast<float>(p.x), static_cast<float>(p.y)});
  return at::tensor(points).view({68, 2});
}

Landmarks landmarks_from_tensor(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kCPU, at::kDouble).contiguous();
  const auto a = c.accessor<double, 2>();
  Landmarks out;
  for (size_t i = 0; i < out.size(); ++i) out[i] = {a[static_cast<int64_t>(i)][0], a[static_cast<int64_t>(i)][1]};
  return out;
}

double lip_opening(const Landmarks& p) {
  const FaceAxes a = face_axes(p);
  double gap = 0;
  for (int k = 0; k < 3; ++k)
    gap += dot(p[static_cast<size_t>(kLowerInner[k])] - p[static_cast<size_t>(kUpperInner[k])], a.ey);
  return std::max(0.0, gap / 3) / a.iod;
}

// A blink on one eye (points first..first+5: corners first and first+3, upper lid first+1,
// first+2, lower lid first+5, first+4): the upper lid slides down by `amount` of the eye's
// opening. In the face's frame (u across, v down the face) each column of the eye's box is remapped:
// the lid's skin above the lid stretches down to the lid's new edge, and what is left of the open
// eye is squeezed between that edge and the lower lid. A smooth displacement field cannot do this:
// the lower lid's points, a few pixels away, hold it in place. Adds the remap to the sample
// coordinates (sx, sy) where (lx, ly) are the positions in the face's frame.
void blink_eye(at::Tensor& sx, at::Tensor& sy, const at::Tensor& lx, const at::Tensor& ly, const Landmarks& rest,
               int first, double amount, const FaceAxes& a) {
  const auto at_ = [&](int k) { return rest[static_cast<size_t>(first + k)]; };
  const Point c = portrait::landmark_mean(rest, first, first + 5);
  const auto uv = [&](Point p) { return std::pair{dot(p - c, a.ex), dot(p - c, a.ey)}; };
  const auto [u0, v0] = uv(at_(0));
  const auto [u3, v3] = uv(at_(3));
  const double width = u3 - u0;
  if (!(width > 2)) return;
  const std::vector<std::pair<double, double>> upper{uv(at_(0)), uv(at_(1)), uv(at_(2)), uv(at_(3))};
  const std::vector<std::pair<double, double>> lower{uv(at_(0)), uv(at_(5)), uv(at_(4)), uv(at_(3))};
  // The box: the eye, the lid's skin above it (0.45 of the eye's width) and a margin.
  const int64_t size = sx.size(-1);
  double x0 = 1e9, x1 = -1e9, y0 = 1e9, y1 = -1e9;
  for (int k = 0; k < 6; ++k) {
    x0 = std::min(x0, at_(k).x), x1 = std::max(x1, at_(k).x), y0 = std::min(y0, at_(k).y), y1 = std::max(y1, at_(k).y);
  }
  const auto clampi = [&](double v) { return std::clamp<int64_t>(static_cast<int64_t>(v), 0, size); };
  const int64_t bx0 = clampi(x0 - 0.3 * width), bx1 = clampi(x1 + 0.3 * width + 1);
  const int64_t by0 = clampi(y0 - 0.6 * width), by1 = clampi(y1 + 0.2 * width + 1);
  if (bx1 <= bx0 || by1 <= by0) return;
  auto box = [&](const at::Tensor& t) { return t.slice(-2, by0, by1).slice(-1, bx0, bx1); };
  const at::Tensor px = box(lx) - c.x, py = box(ly) - c.y;
  const at::Tensor u = px * a.ex.x + py * a.ex.y, v = px * a.ey.x + py * a.ey.y;
  const at::Tensor up = piecewise(u, upper), low = at::maximum(piecewise(u, lower), up + 0.5);
  const at::Tensor top = up - 0.45 * width;
  const at::Tensor edge = up + amount * (low - up);
  const at::Tensor skin = top + (v - top) * (up - top) / (edge - top);          // top..edge <- top..up
  const at::Tensor eye = up + (v - edge) * (low - up) / (low - edge + 1e-3);     // edge..low <- up..low
  at::Tensor source = at::where(v < top, v, at::where(v < edge, skin, at::where(v < low, eye, v)));
  // Full at the eye, fading out past its corners.
  const at::Tensor across = (1 - ((u - (u0 + u3) / 2).abs() - width / 2) / (0.3 * width)).clamp(0, 1);
  const at::Tensor dv = (source - v) * across;
  box(sx).add_(dv * a.ey.x);
  box(sy).add_(dv * a.ey.y);
}

Landmarks move_landmarks(const Landmarks& rest, const MotionFrame& m, bool with_head) {
  const FaceAxes a = face_axes(rest);
  Landmarks q = rest;
  auto shift = [&](int i, double along_ey, double along_ex = 0) {
    q[static_cast<size_t>(i)] = q[static_cast<size_t>(i)] + along_ey * a.ey + along_ex * a.ex;
  };
  // Opening: the rest gap plus the motion's opening; pressing closes whatever was open. The jaw
  // carries most of an opening (the lower lip), the lips share a closing.
  const double rest_gap = lip_opening(rest) * a.iod;
  // Pressed lips roll in a little: their inner edges meet past the line, so no sliver of teeth
  // stays between them.
  // A generated press rarely reaches 1 at a p, b or m (coarticulation, sampling): from 0.6 on the
  // lips are fully closed, below 0.1 not at all.
  const double press = std::clamp<double>((m[kPress] - 0.1) / 0.5, 0, 1);
  const double gap = (1.0 - press) * (rest_gap + 0.46 * std::max(0.0f, m[kOpen]) * a.iod) - press * 0.06 * a.iod;
  const double change = gap - rest_gap;
  const double upper_share = change > 0 ? 0.22 : 0.5;
  const double up = -upper_share * change, down = (1 - upper_share) * change;
  for (int i : {61, 62, 63}) shift(i, up);
  for (int i : {50, 51, 52}) shift(i, 0.85 * up);
  for (int i : {49, 53}) shift(i, 0.6 * up);
  for (int i : {65, 66, 67, 56, 57, 58}) shift(i, down);
  for (int i : {55, 59}) shift(i, 0.75 * down);
  for (int i : {48, 54, 60, 64}) shift(i, 0.35 * down);
  // The jaw follows the lower lip; the chin most, the angles of the jaw hardly.
  const double jaw = change > 0 ? down : 0.4 * down;
  const double jaw_share[17] = {0, 0, 0, 0.05, 0.15, 0.35, 0.6, 0.8, 0.9, 0.8, 0.6, 0.35, 0.15, 0.05, 0, 0, 0};
  for (int i = 0; i <= 16; ++i) shift(i, jaw_share[i] * jaw);
  // Width: spreading and rounding move the lips along the mouth's axis about its centre.
  const Point centre = portrait::landmark_mean(rest, 48, 67);
  const double spread = 0.6 * (m[kWidth] - 0.5) - 0.4 * std::clamp<double>(m[kRound], 0, 1);
  for (int i = 48; i <= 67; ++i) shift(i, 0, spread * dot(rest[static_cast<size_t>(i)] - centre, a.ex));
  // Blinks: the upper lids come down onto the lower ones (render_motion draws them with blink_eye;
  // these points say where the lids are).
  const double blink = 0.92 * std::clamp<double>(m[kBlink], 0, 1);
  for (auto [upper, lower] : {std::pair{37, 41}, {38, 40}, {43, 47}, {44, 46}})
    q[static_cast<size_t>(upper)] =
        q[static_cast<size_t>(upper)] + blink * (rest[static_cast<size_t>(lower)] - rest[static_cast<size_t>(upper)]);
  for (int i = 17; i <= 26; ++i) shift(i, -m[kBrow] * a.iod);
  if (!with_head) return q;
  // Head: a similarity about the face's centre.
  const Point c = portrait::landmark_mean(rest, 0, 67);
  const double s = 1.0 + m[kScale], cr = std::cos(m[kRoll]), sr = std::sin(m[kRoll]);
  const Point t = (m[kShiftX] * a.iod) * a.ex + (m[kShiftY] * a.iod) * a.ey;
  for (Point& p : q) {
    const Point d = p - c;
    p = c + Point{s * (cr * d.x - sr * d.y), s * (sr * d.x + cr * d.y)} + t;
  }
  return q;
}

at::Tensor render_motion(const at::Tensor& image_in, const Landmarks& rest, const at::Tensor& motion_in) {
  const at::Tensor image = image_in.to(at::kFloat).contiguous();
  const at::Tensor motion = motion_in.to(at::kCPU, at::kFloat).contiguous();
  const int64_t size = image.size(2), n = motion.size(0);
  const auto opt = at::TensorOptions().dtype(at::kFloat).device(image.device());
  const FaceAxes a = face_axes(rest);
  const Point face_centre = portrait::landmark_mean(rest, 0, 67);
  const Point mouth_origin = portrait::landmark_mean(rest, 48, 67);
  const at::Tensor ramp = at::arange(size, opt);
  const at::Tensor X = ramp.view({1, size}).expand({size, size});
  const at::Tensor Y = ramp.view({size, 1}).expand({size, size});
  // How much of the head's own motion a pixel follows: all of it on the face, none at the border.
  const at::Tensor head_weight =
      ((2.3 * a.iod - at::sqrt((X - face_centre.x).square() + (Y - face_centre.y).square())) / (0.8 * a.iod)).clamp(0, 1);
  const MouthCurves rest_mouth = mouth_curves(rest, mouth_origin, a);
  // The mouth's own tones: the lips' colour for the cavity, the skin's brightness for the teeth.
  const at::Tensor lips = (colour_near(image, rest[51], 2) + colour_near(image, rest[57], 2)) / 2;
  const at::Tensor skin = colour_near(image, rest[29], 3);
  const double brightness = std::clamp(skin.mean().item<double>() / 0.6, 0.45, 1.15);
  const at::Tensor cavity_colour = (lips * at::tensor({0.55f, 0.36f, 0.36f}).to(opt.device())).view({3, 1, 1});
  const at::Tensor teeth_colour = (at::tensor({0.86f, 0.84f, 0.79f}).to(opt.device()) * brightness).view({3, 1, 1});
  const std::vector<int> upper = upper_points(), lower = lower_points();
  // The box around the mouth where openings, lip lines and interiors can be: the corners'
  // spread and soft zone across, the widest opening and the head's motion up and down.
  const auto clampi = [&](double v) { return std::clamp<int64_t>(static_cast<int64_t>(v), 0, size); };
  const int64_t bx0 = clampi(std::floor(mouth_origin.x - 1.2 * a.iod)), bx1 = clampi(std::ceil(mouth_origin.x + 1.2 * a.iod) + 1);
  const int64_t by0 = clampi(std::floor(mouth_origin.y - 0.9 * a.iod)), by1 = clampi(std::ceil(mouth_origin.y + 1.0 * a.iod) + 1);

  std::vector<at::Tensor> frames;
  const auto rows = motion.accessor<float, 2>();
  for (int64_t f = 0; f < n; ++f) {
    MotionFrame m{};
    for (int c = 0; c < kMotionChannels; ++c) m[static_cast<size_t>(c)] = rows[f][c];
    // 1. Undo the head's similarity (weighted), giving positions in the face's own frame.
    const double s = 1.0 + m[kScale], cr = std::cos(-m[kRoll]), sr = std::sin(-m[kRoll]);
    const Point t = (m[kShiftX] * a.iod) * a.ex + (m[kShiftY] * a.iod) * a.ey;
    const at::Tensor dx = X - face_centre.x - t.x, dy = Y - face_centre.y - t.y;
    const at::Tensor hx = face_centre.x + (cr * dx - sr * dy) / s, hy = face_centre.y + (sr * dx + cr * dy) / s;
    const at::Tensor lx = X + head_weight * (hx - X), ly = Y + head_weight * (hy - Y);
    // 2. The face's own motion: two fields split at the lips' meeting line.
    Landmarks moved = move_landmarks(rest, m, /*with_head=*/false);
    Landmarks field_points = moved;  // the lids are remapped by blink_eye, not by the fields
    for (int i = 36; i <= 47; ++i) field_points[static_cast<size_t>(i)] = rest[static_cast<size_t>(i)];
    const at::Tensor up_field = displacement_field(field_points, rest, upper, a.iod, size).to(opt.device());
    const at::Tensor low_field = displacement_field(field_points, rest, lower, a.iod, size).to(opt.device());
    const at::Tensor u = (lx - mouth_origin.x) * a.ex.x + (ly - mouth_origin.y) * a.ex.y;
    const at::Tensor v = (lx - mouth_origin.x) * a.ey.x + (ly - mouth_origin.y) * a.ey.y;
    const MouthCurves target = mouth_curves(moved, mouth_origin, a);
    // Sharp at the lips (they part cleanly), soft beyond the corners (the cheeks stay whole).
    const double half = (target.right - target.left) / 2, mid_u = (target.right + target.left) / 2;
    const at::Tensor beyond = (((u - mid_u).abs() - half) / (0.3 * a.iod)).clamp(0, 1);
    const at::Tensor below = at::sigmoid((v - piecewise(u, target.middle)) / (0.6 + 0.25 * a.iod * beyond));
    at::Tensor sx = lx - (up_field[0] * (1 - below) + low_field[0] * below);
    at::Tensor sy = ly - (up_field[1] * (1 - below) + low_field[1] * below);
    // The mouth's own work is done only in a box around it (its masks are zero elsewhere).
    auto box = [&](const at::Tensor& t) { return t.slice(-2, by0, by1).slice(-1, bx0, bx1); };
    const at::Tensor ub = box(u), vb = box(v), belowb = box(below), lxb = box(lx), lyb = box(ly);
    // Inside the opening, what the mouth shows moves rigidly with its lip (teeth do not stretch):
    // each column shifts by exactly its inner lip's displacement across the mouth.
    const at::Tensor opening = inside_mouth(ub, vb, target);
    std::vector<std::pair<double, double>> up_shift, low_shift;
    for (size_t k = 0; k < target.upper.size(); ++k) {
      up_shift.push_back({target.upper[k].first, target.upper[k].second - rest_mouth.upper[k].second});
      low_shift.push_back({target.lower[k].first, target.lower[k].second - rest_mouth.lower[k].second});
    }
    const at::Tensor shift = at::where(belowb < 0.5, piecewise(ub, up_shift), piecewise(ub, low_shift));
    // The lips' inner edges too, so that lips which meet leave no sliver of what was between.
    const at::Tensor near_line = at::exp(-((vb - piecewise(ub, target.middle)) / (0.05 * a.iod)).square()) *
                                 at::sigmoid((ub - target.left) / 0.7) * at::sigmoid((target.right - ub) / 0.7);
    const at::Tensor rigid = at::maximum(opening, near_line);
    const at::Tensor sxb = box(sx) * (1 - rigid) + (lxb - shift * a.ey.x) * rigid;
    const at::Tensor syb = box(sy) * (1 - rigid) + (lyb - shift * a.ey.y) * rigid;
    box(sx).copy_(sxb);
    box(sy).copy_(syb);
    const double blink = std::clamp<double>(m[kBlink], 0, 1);  // 1: the lids meet
    if (blink > 0.01)
      for (int eye : {36, 42}) blink_eye(sx, sy, lx, ly, rest, eye, blink, a);
    // 3. Fetch the photo's pixels.
    const at::Tensor grid = at::stack({(sx + 0.5) * (2.0 / size) - 1, (sy + 0.5) * (2.0 / size) - 1}, -1).unsqueeze(0);
    at::Tensor out = at::grid_sampler(image.unsqueeze(0), grid, /*bilinear*/ 0, /*border*/ 1, /*align_corners=*/false)
                         .squeeze(0);
    // 4. The opening: inside the moved inner lips, whatever the photo's mouth did not show there
    // becomes the mouth's interior (upper teeth under the upper lip, darkness behind).
    const at::Tensor su = (sxb - mouth_origin.x) * a.ex.x + (syb - mouth_origin.y) * a.ex.y;
    const at::Tensor sv = (sxb - mouth_origin.x) * a.ey.x + (syb - mouth_origin.y) * a.ey.y;
    // What the photo's mouth shows there counts only from the half that moves with the pixel's
    // field (upper teeth with the upper lip, lower teeth with the jaw); anything else was hidden.
    const at::Tensor source_half = at::where(belowb < 0.5, sv <= piecewise(su, rest_mouth.middle) + 0.5,
                                             sv >= piecewise(su, rest_mouth.middle) - 0.5).to(at::kFloat);
    const at::Tensor shown = inside_mouth(su, sv, rest_mouth) * source_half;
    const at::Tensor revealed = (opening - shown).clamp(0, 1);  // exactly 0 where nothing moved
    const at::Tensor top = piecewise(ub, target.upper), gap = (piecewise(ub, target.lower) - top).clamp_min(0);
    const at::Tensor tooth_depth = at::minimum(gap * 0.42, at::full_like(gap, 0.085 * a.iod));
    const at::Tensor across = (1 - ((ub - mid_u).abs() / (0.75 * half + 1e-3)).square()).clamp(0, 1);
    const at::Tensor teeth = at::sigmoid((top + tooth_depth - vb) / 0.6) * across * (gap / 3.0).clamp(0, 1);
    const at::Tensor depth = 1 - 0.6 * (1 - ((vb - top) / (gap + 1e-3) * 2 - 1).square()).clamp(0, 1);
    const at::Tensor interior = teeth * teeth_colour + (1 - teeth) * cavity_colour * depth;
    box(out).copy_(box(out) * (1 - revealed) + interior * revealed);
    frames.push_back(out.clamp(0, 1));
  }
  return at::stack(frames);
}

}  // namespace thg::model
