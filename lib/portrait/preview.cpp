#include "portrait/preview.h"

#include <algorithm>
#include <cmath>

#include "io/resize.h"

namespace thg::portrait {

namespace {
struct Pen {
  Preview& p;
  uint8_t r, g, b;
  void dot(int x, int y, int radius) const {
    for (int yy = y - radius; yy <= y + radius; ++yy)
      for (int xx = x - radius; xx <= x + radius; ++xx) {
        if (xx < 0 || yy < 0 || xx >= p.width || yy >= p.height) continue;
        uint8_t* px = &p.rgb[(static_cast<size_t>(yy) * p.width + xx) * 3];
        px[0] = r, px[1] = g, px[2] = b;
      }
  }
  void line(double x0, double y0, double x1, double y1, int radius) const {
    const int n = static_cast<int>(std::ceil(std::max(std::abs(x1 - x0), std::abs(y1 - y0)))) + 1;
    for (int i = 0; i <= n; ++i)
      dot(static_cast<int>(std::lround(x0 + (x1 - x0) * i / n)), static_cast<int>(std::lround(y0 + (y1 - y0) * i / n)), radius);
  }
};
}  // namespace

Preview draw_faces(const io::RgbaImage& photo, const std::vector<DetectedFace>& faces, int chosen, int max_size) {
  Preview p;
  const double scale = std::min(1.0, static_cast<double>(max_size) / std::max(photo.width, photo.height));
  p.width = std::max(1, static_cast<int>(std::lround(photo.width * scale)));
  p.height = std::max(1, static_cast<int>(std::lround(photo.height * scale)));
  p.rgb = io::resize_rgb(photo, {0, 0, photo.width, photo.height}, p.width, p.height);
  const int thick = std::max(1, p.width / 500);
  for (size_t i = faces.size(); i-- > 0;) {  // the chosen face drawn last, on top
    const bool is_chosen = static_cast<int>(i) == chosen;
    const Pen pen{p, static_cast<uint8_t>(is_chosen ? 40 : 255), static_cast<uint8_t>(is_chosen ? 220 : 150),
                  static_cast<uint8_t>(is_chosen ? 60 : 0)};
    const Box& b = faces[i].box;
    const double x0 = b.x * scale, y0 = b.y * scale, x1 = (b.x + b.width) * scale, y1 = (b.y + b.height) * scale;
    pen.line(x0, y0, x1, y0, thick);
    pen.line(x1, y0, x1, y1, thick);
    pen.line(x1, y1, x0, y1, thick);
    pen.line(x0, y1, x0, y0, thick);
    for (size_t k = 0; k <= i; ++k)  // the index as dots above the box
      pen.dot(static_cast<int>(x0 + (3 + 5 * k) * thick), static_cast<int>(y0 - 4 * thick), thick + 1);
    for (const Point& l : faces[i].landmarks)
      pen.dot(static_cast<int>(std::lround(l.x * scale)), static_cast<int>(std::lround(l.y * scale)), thick);
  }
  return p;
}

}  // namespace thg::portrait
