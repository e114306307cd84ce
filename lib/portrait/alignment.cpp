#include "portrait/alignment.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "io/resize.h"

namespace thg::portrait {

Similarity photo_to_crop(const DetectedFace& face, const FaceTemplate& t, double crop_scale, int crop_size) {
  if (crop_scale <= 0) throw Error::input("", "--crop-scale must be positive");
  // Template points in crop pixels, pulled towards the centre by crop_scale.
  auto place = [&](Point p) {
    return Point{(0.5 + (p.x - 0.5) / crop_scale) * crop_size - 0.5, (0.5 + (p.y - 0.5) / crop_scale) * crop_size - 0.5};
  };
  // The eyes weigh more than the mouth: they do not move while the person talks or smiles.
  return fit_similarity({face.eye_image_left(), face.eye_image_right(), face.mouth()},
                        {place(t.eye_image_left()), place(t.eye_image_right()), place(t.mouth())}, {1.0, 1.0, 0.5});
}

at::Tensor extract_crop(const io::RgbaImage& photo, const Similarity& to_crop, int crop_size) {
  const Similarity to_photo = to_crop.inverse();
  // The crop's footprint in the photo, clipped, plus a pixel for the bilinear taps.
  const Box f = footprint(Affine::from(to_photo), crop_size);
  const int x0 = std::clamp(static_cast<int>(std::floor(f.x)) - 1, 0, photo.width - 1);
  const int y0 = std::clamp(static_cast<int>(std::floor(f.y)) - 1, 0, photo.height - 1);
  const int x1 = std::clamp(static_cast<int>(std::ceil(f.x + f.width)) + 2, x0 + 1, photo.width);
  const int y1 = std::clamp(static_cast<int>(std::ceil(f.y + f.height)) + 2, y0 + 1, photo.height);
  // Photo pixels per crop pixel: above 1, the region is first shrunk by that much with area averaging.
  const double shrink = std::max(1.0, to_photo.scale());
  const int rw = std::max(1, static_cast<int>(std::lround((x1 - x0) / shrink)));
  const int rh = std::max(1, static_cast<int>(std::lround((y1 - y0) / shrink)));
  const std::vector<uint8_t> region = io::resize_rgb(photo, {x0, y0, x1 - x0, y1 - y0}, rw, rh);
  const double sx = static_cast<double>(rw) / (x1 - x0), sy = static_cast<double>(rh) / (y1 - y0);

  at::Tensor out = at::empty({3, crop_size, crop_size}, at::kFloat);
  float* o = out.data_ptr<float>();
  const size_t plane = static_cast<size_t>(crop_size) * crop_size;
  for (int v = 0; v < crop_size; ++v)
    for (int u = 0; u < crop_size; ++u) {
      const Point p = to_photo({static_cast<double>(u), static_cast<double>(v)});
      // Into the region's pixel-centre coordinates.
      const double rx = std::clamp((p.x - x0 + 0.5) * sx - 0.5, 0.0, rw - 1.0);
      const double ry = std::clamp((p.y - y0 + 0.5) * sy - 0.5, 0.0, rh - 1.0);
      const int ix = std::min(static_cast<int>(rx), rw - 2 < 0 ? 0 : rw - 2);
      const int iy = std::min(static_cast<int>(ry), rh - 2 < 0 ? 0 : rh - 2);
      const double fx = rw > 1 ? rx - ix : 0, fy = rh > 1 ? ry - iy : 0;
      const int ix1 = std::min(ix + 1, rw - 1), iy1 = std::min(iy + 1, rh - 1);
      for (int c = 0; c < 3; ++c) {
        auto at_px = [&](int x, int y) { return static_cast<double>(region[(static_cast<size_t>(y) * rw + x) * 3 + c]); };
        const double value = (at_px(ix, iy) * (1 - fx) + at_px(ix1, iy) * fx) * (1 - fy) +
                             (at_px(ix, iy1) * (1 - fx) + at_px(ix1, iy1) * fx) * fy;
        o[c * plane + static_cast<size_t>(v) * crop_size + u] = static_cast<float>(value / 255.0);
      }
    }
  return out;
}

}  // namespace thg::portrait
