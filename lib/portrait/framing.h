#pragma once
// The video's picture: the whole photo (its own framing, long side capped by --max-size), or a
// head-and-shoulders cut around the face (square, or 9:16 for phones). Output sides are even, as
// H.264's 4:2:0 needs.
#include <cstdint>
#include <string>
#include <vector>

#include "io/image.h"
#include "io/resize.h"
#include "portrait/face_detector.h"

namespace thg::portrait {

enum class Framing { Photo, Square, Portrait };
Framing parse_framing(const std::string& name);  // "photo", "square", "portrait" (9:16); Error::input otherwise
const char* framing_name(Framing framing);

struct Canvas {
  io::PixelRect region;  // the part of the photo shown
  int width = 0, height = 0;  // the video's size (even)
  // Canvas pixel -> photo pixel (pixel centres): a scale per axis (the even rounding of the sides
  // can make them differ slightly) and a shift.
  Affine to_photo() const;
};

Canvas plan_canvas(int photo_width, int photo_height, const DetectedFace& face, Framing framing, int max_size);

// The canvas' pixels (uint8 RGB, height x width x 3), area-filtered from the photo.
std::vector<uint8_t> render_canvas(const io::RgbaImage& photo, const Canvas& canvas);

}  // namespace thg::portrait
