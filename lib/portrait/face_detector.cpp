#include "portrait/face_detector.h"

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <mutex>

#include "core/error.h"
#include "io/resize.h"

namespace thg::portrait {

namespace {

// dlib's HOG detector and the 68-point model, loaded once per process (the model file is ~100 MB
// and takes about a second to read). The detector keeps scratch buffers, hence the mutex.
struct Models {
  std::mutex mutex;
  dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();
  dlib::shape_predictor landmarks;
};

Models& models() {
  static Models* m = [] {
    const std::filesystem::path path = landmark_model_path();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
      throw Error::failure(path.string(), "the 68-point face landmark model is missing (install Debian's "
                                          "libdlib-data, or set THG_FACE_LANDMARKS to the file)");
    auto* loaded = new Models();
    try {
      dlib::deserialize(path.string()) >> loaded->landmarks;
    } catch (const std::exception& e) {
      delete loaded;
      throw Error::failure(path.string(), std::string("cannot read the face landmark model (") + e.what() + ")");
    }
    return loaded;
  }();
  return *m;
}

dlib::array2d<unsigned char> to_dlib(const io::GrayImage& g) {
  dlib::array2d<unsigned char> a(g.height, g.width);
  std::copy(g.pixels.begin(), g.pixels.end(), &a[0][0]);
  return a;
}

struct Found {
  Box box;  // photo pixels
  double score;
};

// Detections on a copy of the photo scaled by `scale`.
std::vector<Found> detect_at(const io::RgbaImage& photo, double scale, Models& m) {
  const int w = std::max(1, static_cast<int>(std::lround(photo.width * scale)));
  const int h = std::max(1, static_cast<int>(std::lround(photo.height * scale)));
  const io::GrayImage gray = io::resize_gray(photo, {0, 0, photo.width, photo.height}, w, h);
  const dlib::array2d<unsigned char> img = to_dlib(gray);
  std::vector<dlib::rect_detection> dets;
  m.detector(img, dets, 0.0);
  const double sx = static_cast<double>(photo.width) / w, sy = static_cast<double>(photo.height) / h;
  std::vector<Found> out;
  for (const auto& d : dets)
    out.push_back({{d.rect.left() * sx, d.rect.top() * sy, (d.rect.width()) * sx, (d.rect.height()) * sy},
                   d.detection_confidence});
  return out;
}

// The 68 landmarks of the face in `box`, placed on a region around it taken from the full photo
// at about 300 pixels per face width (the landmark model's working scale), never enlarged.
Landmarks place_landmarks(const io::RgbaImage& photo, const Box& box, Models& m) {
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
  const dlib::array2d<unsigned char> img = to_dlib(region);
  const dlib::rectangle rect(static_cast<long>(std::lround((box.x - x0) / sx)), static_cast<long>(std::lround((box.y - y0) / sy)),
                             static_cast<long>(std::lround((box.x + box.width - x0) / sx)) - 1,
                             static_cast<long>(std::lround((box.y + box.height - y0) / sy)) - 1);
  const dlib::full_object_detection shape = m.landmarks(img, rect);
  Landmarks out;
  for (unsigned long i = 0; i < shape.num_parts() && i < out.size(); ++i)
    // dlib's pixel coordinates are pixel centres; ours too, shifted into the photo.
    out[i] = {x0 + (shape.part(i).x() + 0.5) * sx - 0.5, y0 + (shape.part(i).y() + 0.5) * sy - 0.5};
  return out;
}

}  // namespace

std::filesystem::path landmark_model_path() {
  if (const char* env = std::getenv("THG_FACE_LANDMARKS"); env && *env) return env;
  return "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";
}

Landmarks landmarks_in_box(const io::RgbaImage& photo, const Box& box) {
  Models& m = models();
  std::lock_guard<std::mutex> lock(m.mutex);
  return place_landmarks(photo, box, m);
}

std::vector<DetectedFace> detect_faces(const io::RgbaImage& photo, const std::string& source, const DetectOptions& o) {
  (void)source;
  Models& m = models();
  std::lock_guard<std::mutex> lock(m.mutex);
  const int long_side = std::max(photo.width, photo.height);
  double scale = std::min(1.0, static_cast<double>(o.detect_long_side) / long_side);
  std::vector<Found> found = detect_at(photo, scale, m);
  // Nothing found: the face may be under the detector's ~80-pixel window at this scale. Twice the
  // scale, then four times, up to twice the photo's own pixels and 16 megapixels of search.
  while (found.empty() && o.retry_small) {
    scale *= 2;
    if (scale > 2.0 || photo.width * scale * photo.height * scale > 16e6) break;
    found = detect_at(photo, scale, m);
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
    face.landmarks = place_landmarks(photo, f.box, m);
    faces.push_back(face);
  }
  return faces;
}

}  // namespace thg::portrait
