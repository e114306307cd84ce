#include "dlib_faces.h"

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>

#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace thg::portrait::dlib_faces {

namespace {

std::mutex& lock() {
  static std::mutex m;
  return m;
}

dlib::array2d<unsigned char> to_dlib(const GrayView& g) {
  dlib::array2d<unsigned char> a(g.height, g.width);
  for (int y = 0; y < g.height; ++y)
    for (int x = 0; x < g.width; ++x) a[y][x] = g.pixels[static_cast<size_t>(y) * g.width + x];
  return a;
}

}  // namespace

std::vector<Detection> detect(const GrayView& image) {
  // The detector keeps scratch buffers: one at a time (it is built once, ~10 ms).
  std::lock_guard<std::mutex> guard(lock());
  static dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();
  const dlib::array2d<unsigned char> img = to_dlib(image);
  std::vector<dlib::rect_detection> found;
  detector(img, found, 0.0);
  std::vector<Detection> out;
  for (const auto& d : found) out.push_back({d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom(), d.detection_confidence});
  return out;
}

std::array<std::pair<double, double>, 68> landmarks(const GrayView& image, long left, long top, long right, long bottom,
                                                    const std::string& model_path) {
  std::lock_guard<std::mutex> guard(lock());
  static std::map<std::string, std::unique_ptr<dlib::shape_predictor>> models;
  auto& model = models[model_path];
  if (!model) {
    auto loaded = std::make_unique<dlib::shape_predictor>();
    dlib::deserialize(model_path) >> *loaded;  // throws dlib::serialization_error (a std::exception)
    if (loaded->num_parts() != 68) throw std::runtime_error("it has " + std::to_string(loaded->num_parts()) + " points, not 68");
    model = std::move(loaded);
  }
  const dlib::array2d<unsigned char> img = to_dlib(image);
  const dlib::full_object_detection shape = (*model)(img, dlib::rectangle(left, top, right, bottom));
  std::array<std::pair<double, double>, 68> out{};
  for (unsigned long i = 0; i < 68; ++i) out[i] = {static_cast<double>(shape.part(i).x()), static_cast<double>(shape.part(i).y())};
  return out;
}

}  // namespace thg::portrait::dlib_faces
