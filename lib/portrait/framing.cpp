#include "portrait/framing.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace thg::portrait {

Framing parse_framing(const std::string& name) {
  if (name == "photo") return Framing::Photo;
  if (name == "square") return Framing::Square;
  if (name == "portrait") return Framing::Portrait;
  throw Error::input("", "--framing must be photo, square or portrait, not '" + name + "'");
}

const char* framing_name(Framing f) {
  switch (f) {
    case Framing::Photo: return "photo";
    case Framing::Square: return "square";
    case Framing::Portrait: return "portrait";
  }
  return "?";
}

Affine Canvas::to_photo() const {
  const double sx = static_cast<double>(region.width) / width, sy = static_cast<double>(region.height) / height;
  return {sx, 0, 0, sy, region.x + 0.5 * sx - 0.5, region.y + 0.5 * sy - 0.5};
}

Canvas plan_canvas(int pw, int ph, const DetectedFace& face, Framing framing, int max_size) {
  if (max_size < 64 || max_size > 8192) throw Error::input("", "--max-size must be between 64 and 8192");
  Canvas c;
  c.region = {0, 0, pw, ph};
  if (framing != Framing::Photo) {
    // Head and shoulders: about seven eye distances across, the eyes a little above the middle.
    const double aspect = framing == Framing::Square ? 1.0 : 9.0 / 16.0;  // width / height
    double w = face.eye_distance() * 7.0, h = w / aspect;
    const double fit = std::min({1.0, pw / w, ph / h});  // shrink (keeping the aspect) to fit the photo
    w *= fit, h *= fit;
    const Point eyes{(face.eye_image_left().x + face.eye_image_right().x) / 2,
                     (face.eye_image_left().y + face.eye_image_right().y) / 2};
    const double x = std::clamp(eyes.x - w / 2, 0.0, pw - w);
    const double y = std::clamp(eyes.y - h * 0.4, 0.0, ph - h);
    c.region = {static_cast<int>(std::lround(x)), static_cast<int>(std::lround(y)), std::max(2, static_cast<int>(w)),
                std::max(2, static_cast<int>(h))};
    c.region.width = std::min(c.region.width, pw - c.region.x);
    c.region.height = std::min(c.region.height, ph - c.region.y);
  }
  const double scale = std::min(1.0, static_cast<double>(max_size) / std::max(c.region.width, c.region.height));
  if (scale == 1.0) {  // no scaling: drop an odd last row or column instead of resampling the photo
    c.region.width = std::max(2, c.region.width / 2 * 2);
    c.region.height = std::max(2, c.region.height / 2 * 2);
    c.width = c.region.width;
    c.height = c.region.height;
    return c;
  }
  c.width = std::max(2, static_cast<int>(std::lround(c.region.width * scale)) / 2 * 2);
  c.height = std::max(2, static_cast<int>(std::lround(c.region.height * scale)) / 2 * 2);
  return c;
}

std::vector<uint8_t> render_canvas(const io::RgbaImage& photo, const Canvas& c) {
  return io::resize_rgb(photo, c.region, c.width, c.height);
}

}  // namespace thg::portrait
