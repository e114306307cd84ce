#include "portrait/geometry.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace thg::portrait {

double Similarity::scale() const { return std::hypot(a, b); }
double Similarity::angle() const { return std::atan2(b, a); }

Similarity Similarity::inverse() const {
  const double d = a * a + b * b;
  if (d <= 0) throw Error::failure("", "similarity: a transform of scale 0 has no inverse");
  const double ia = a / d, ib = -b / d;
  return {ia, ib, -(ia * tx - ib * ty), -(ib * tx + ia * ty)};
}

Similarity Similarity::after(const Similarity& f) const {
  // this(f(p)) = M (F p + t_f) + t = (M F) p + M t_f + t; products of [a -b; b a] matrices stay so.
  const Point t = (*this)({f.tx, f.ty});
  return {a * f.a - b * f.b, a * f.b + b * f.a, t.x, t.y};
}

Affine Affine::after(const Affine& f) const {
  const Point t = (*this)({f.tx, f.ty});
  return {m00 * f.m00 + m01 * f.m10, m00 * f.m01 + m01 * f.m11, m10 * f.m00 + m11 * f.m10, m10 * f.m01 + m11 * f.m11, t.x, t.y};
}

Affine Affine::inverse() const {
  const double det = m00 * m11 - m01 * m10;
  if (std::abs(det) < 1e-300) throw Error::failure("", "affine: a singular map has no inverse");
  const Affine r{m11 / det, -m01 / det, -m10 / det, m00 / det, 0, 0};
  const Point t = r({tx, ty});
  return {r.m00, r.m01, r.m10, r.m11, -t.x, -t.y};
}

Box footprint(const Affine& crop_to_target, int crop_size) {
  const double lo = -0.5, hi = crop_size - 0.5;
  double x_min = 1e300, y_min = 1e300, x_max = -1e300, y_max = -1e300;
  for (const Point c : {Point{lo, lo}, Point{hi, lo}, Point{lo, hi}, Point{hi, hi}}) {
    const Point p = crop_to_target(c);
    x_min = std::min(x_min, p.x), y_min = std::min(y_min, p.y), x_max = std::max(x_max, p.x), y_max = std::max(y_max, p.y);
  }
  return {x_min, y_min, x_max - x_min, y_max - y_min};
}

Similarity fit_similarity(const std::vector<Point>& from, const std::vector<Point>& to, const std::vector<double>& weights) {
  if (from.size() != to.size() || from.size() < 2 || (!weights.empty() && weights.size() != from.size()))
    throw Error::failure("", "similarity: needs two or more point pairs (and one weight per pair)");
  double w_sum = 0;
  Point mf, mt;
  for (size_t i = 0; i < from.size(); ++i) {
    const double w = weights.empty() ? 1.0 : weights[i];
    w_sum += w;
    mf.x += w * from[i].x, mf.y += w * from[i].y;
    mt.x += w * to[i].x, mt.y += w * to[i].y;
  }
  mf.x /= w_sum, mf.y /= w_sum, mt.x /= w_sum, mt.y /= w_sum;
  double dot = 0, cross = 0, norm = 0;
  for (size_t i = 0; i < from.size(); ++i) {
    const double w = weights.empty() ? 1.0 : weights[i];
    const double fx = from[i].x - mf.x, fy = from[i].y - mf.y, tx = to[i].x - mt.x, ty = to[i].y - mt.y;
    dot += w * (fx * tx + fy * ty);
    cross += w * (fx * ty - fy * tx);
    norm += w * (fx * fx + fy * fy);
  }
  if (norm <= 1e-12) throw Error::failure("", "similarity: the points coincide");
  Similarity s{dot / norm, cross / norm, 0, 0};
  const Point m = s(mf);
  s.tx = mt.x - m.x;
  s.ty = mt.y - m.y;
  return s;
}

}  // namespace thg::portrait
