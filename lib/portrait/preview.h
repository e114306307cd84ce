#pragma once
// A picture of what the detector found: the photo (long side capped) with each face's box, its
// index (as a row of dots: index + 1) and its 68 landmarks; the chosen face in green, others in
// orange. For `thg faces --preview`, so that a user can see which --face to pick.
#include <cstdint>
#include <vector>

#include "io/image.h"
#include "portrait/face_detector.h"

namespace thg::portrait {

struct Preview {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // height x width x 3
};

Preview draw_faces(const io::RgbaImage& photo, const std::vector<DetectedFace>& faces, int chosen, int max_size);

}  // namespace thg::portrait
