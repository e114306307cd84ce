#pragma once
// Plane geometry of the portrait stage: points, boxes and similarity transforms (rotation, uniform
// scale, translation), which map a face in the photo onto the model's face template and back.
#include <vector>

namespace thg::portrait {

struct Point {
  double x = 0, y = 0;
};

struct Box {
  double x = 0, y = 0, width = 0, height = 0;  // pixels; (x, y) is the top-left corner
  Point centre() const { return {x + width / 2, y + height / 2}; }
};

// p' = [a -b; b a] p + t: a rotation by atan2(b, a) and a scale of hypot(a, b), then a shift.
struct Similarity {
  double a = 1, b = 0, tx = 0, ty = 0;
  Point operator()(const Point& p) const { return {a * p.x - b * p.y + tx, b * p.x + a * p.y + ty}; }
  double scale() const;
  double angle() const;  // radians
  Similarity inverse() const;
  // (this after first)(p) = this(first(p))
  Similarity after(const Similarity& first) const;
};

// A general 2-D affine map (p' = M p + t): a similarity after a non-uniform scale, as when a
// canvas whose sides were rounded to even numbers is mapped into a crop.
struct Affine {
  double m00 = 1, m01 = 0, m10 = 0, m11 = 1, tx = 0, ty = 0;
  Point operator()(const Point& p) const { return {m00 * p.x + m01 * p.y + tx, m10 * p.x + m11 * p.y + ty}; }
  static Affine from(const Similarity& s) { return {s.a, -s.b, s.b, s.a, s.tx, s.ty}; }
  Affine after(const Affine& f) const;  // this(f(p))
  Affine inverse() const;
};

// The bounding box, in the target's pixels, of a crop_size x crop_size crop (its pixels' outer
// edges) mapped by `crop_to_target`: the only pixels of a photo or canvas a crop can touch.
Box footprint(const Affine& crop_to_target, int crop_size);

// The least-squares similarity taking each `from` point onto its `to` point (Horn's closed form,
// with optional weights). Needs at least two distinct points.
Similarity fit_similarity(const std::vector<Point>& from, const std::vector<Point>& to,
                          const std::vector<double>& weights = {});

}  // namespace thg::portrait
