// The landmark arithmetic of a detected face (built with or without dlib).
#include <cmath>

#include "portrait/face_detector.h"

namespace thg::portrait {

Point landmark_mean(const Landmarks& l, int first, int last) {
  Point p;
  for (int i = first; i <= last; ++i) p.x += l[static_cast<size_t>(i)].x, p.y += l[static_cast<size_t>(i)].y;
  const double n = last - first + 1;
  return {p.x / n, p.y / n};
}

Point DetectedFace::eye_image_left() const { return landmark_mean(landmarks, 36, 41); }
Point DetectedFace::eye_image_right() const { return landmark_mean(landmarks, 42, 47); }
Point DetectedFace::mouth() const { return landmark_mean(landmarks, 48, 67); }
double DetectedFace::eye_distance() const {
  const Point l = eye_image_left(), r = eye_image_right();
  return std::hypot(r.x - l.x, r.y - l.y);
}

}  // namespace thg::portrait
