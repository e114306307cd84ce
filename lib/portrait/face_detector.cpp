#include "portrait/face_detector.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "io/resize.h"
#include "portrait/dlib/dlib_faces.h"

namespace thg::portrait {

namespace {

dlib_faces::GrayView view(const io::GrayImage& g) { return {g.pixels.data(), g.width, g.height}; }

// The landmark model's path, checked once: a missing file is one line naming it.
const std::string& model_path() {
  static const std::string path = [] {
    const std::filesystem::path p = landmark_model_path();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec))
      throw Error::failure(p.string(), "the 68-point face landmark model is missing (install Debian's "
                                       "libdlib-data, or set THG_FACE_LANDMARKS to the file)");
    return p.string();
  }();
  return path;
}

struct Found {
  Box box;  // photo pixels
  double score;
};

// Detections on a copy of the photo scaled by `scale`.
std::vector<Found> detect_at(const io::RgbaImage& photo, double scale) {
  const int w = std::max(1, static_cast<int>(std::lround(photo.width * scale)));
  const int h = std::max(1, static_cast<int>(std::lround(photo.height * scale)));
  const io::GrayImage gray = io::resize_gray(photo, {0, 0, photo.width, photo.height}, w, h);
  const double sx = static_cast<double>(photo.width) / w, sy = static_cast<double>(photo.height) / h;
  std::vector<Found> out;
  for (const auto& d : dlib_faces::detect(view(gray)))
    out.push_back({{d.left * sx, d.top * sy, (d.right - d.left + 1) * sx, (d.bottom - d.top + 1) * sy}, d.score});
  return out;
}

// The 68 landmarks of the face in `box`, placed on a region around it taken from the full photo
// at about 300 pixels per face width (the landmark model's working scale), never enlarged.
Landmarks place_landmarks(const io::RgbaImage& photo, const Box& box) {
  const std::string& model = model_path();
  const Point c = box.centre();
  const double half = std::max(box.width, box.height);  // a region twice the box
  const int x0 = std::clamp(static_cast<int>(std::floor(c.x - half)), 0, photo.width - 1);
  const int y0 = std::clamp(static_cast<int>(std::floor(c.y - half)), 0, photo.height - 1);
  const int x1 = std::clamp(static_cast<int>(std::ceil(c.x + half)), x0 + 1, photo.width);
  const int y1 = std::clamp(static_cast<int>(std::ceil(c.y + half)), y0 + 1, photo.height);
  const double scale = std::min(1.0, 300.0 / std::max(1.0, box.width));
  const int w = std::max(1, static_cast<int>(std::lround((x1 - x0) * scale)));
  const int h = std::max(1, static_cast<int>(std::lround((y1 - y0) * scale)));
  const io::GrayImage region = io::resize_gray(photo, {x0, y0, x1 - x0, y1 - y0}, w, h);
  const double sx = static_cast<double>(x1 - x0) / w, sy = static_cast<double>(y1 - y0) / h;
  std::array<std::pair<double, double>, 68> parts;
  try {
    parts = dlib_faces::landmarks(view(region), std::lround((box.x - x0) / sx), std::lround((box.y - y0) / sy),
                                  std::lround((box.x + box.width - x0) / sx) - 1,
                                  std::lround((box.y + box.height - y0) / sy) - 1, model);
  } catch (const std::exception& e) {
    throw Error::failure(model, std::string("cannot use the face landmark model (") + e.what() + ")");
  }
  Landmarks out;
  for (size_t i = 0; i < out.size(); ++i)
    // dlib's coordinates are pixel centres; ours too, shifted into the photo.
    out[i] = {x0 + (parts[i].first + 0.5) * sx - 0.5, y0 + (parts[i].second + 0.5) * sy - 0.5};
  return out;
}

}  // namespace

std::filesystem::path landmark_model_path() {
  if (const char* env = std::getenv("THG_FACE_LANDMARKS"); env && *env) return env;
  return "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";
}

Landmarks landmarks_in_box(const io::RgbaImage& photo, const Box& box) { return place_landmarks(photo, box); }

std::vector<DetectedFace> detect_faces(const io::RgbaImage& photo, const std::string& source, const DetectOptions& o) {
  (void)source;
  model_path();  // a missing landmark model fails before any work
  const int long_side = std::max(photo.width, photo.height);
  double scale = std::min(1.0, static_cast<double>(o.detect_long_side) / long_side);
  std::vector<Found> found = detect_at(photo, scale);
  // Nothing found: the face may be under the detector's ~80-pixel window at this scale. Twice the
  // scale, then four times, up to twice the photo's own pixels and 16 megapixels of search.
  while (found.empty() && o.retry_small) {
    scale *= 2;
    if (scale > 2.0 || photo.width * scale * photo.height * scale > 16e6) break;
    found = detect_at(photo, scale);
  }
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.score > b.score; });
  if (!found.empty()) {
    const double floor = found.front().score >= o.min_score ? o.min_score : found.front().score;
    found.erase(std::remove_if(found.begin(), found.end(), [&](const Found& f) { return f.score < floor; }), found.end());
  }
  std::vector<DetectedFace> faces;
  for (const Found& f : found) {
    DetectedFace face;
    face.box = f.box;
    face.score = f.score;
    face.landmarks = place_landmarks(photo, f.box);
    faces.push_back(face);
  }
  return faces;
}

}  // namespace thg::portrait
