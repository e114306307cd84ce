#pragma once
// Faces in a photo: dlib's HOG frontal-face detector (its confidence ranks them) and its 68-point
// landmark model (the iBUG 300-W layout: jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth
// 48-67). Detection runs on a shrunken copy (long side ~800 px), so a 4000-pixel photo costs about
// what a small one does; landmarks are placed on a face-sized region of the full-resolution photo.
#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "io/image.h"
#include "portrait/geometry.h"

namespace thg::portrait {

using Landmarks = std::array<Point, 68>;

struct DetectedFace {
  Box box;             // the detector's box, in photo pixels
  double score = 0;    // the detector's confidence (higher is surer; about 0 at its threshold)
  Landmarks landmarks; // photo pixels
  // Centres of the eye on the image's left (the person's right: points 36-41), the eye on the
  // image's right (42-47) and the mouth (48-67).
  Point eye_image_left() const;
  Point eye_image_right() const;
  Point mouth() const;
  double eye_distance() const;
};

struct DetectOptions {
  int detect_long_side = 800;  // the detection copy's long side (photos smaller are used as they are)
  // When nothing is found, the detection runs again at twice and four times the scale (at most
  // twice the photo's own pixels and 16 megapixels), for faces below the detector's ~80-pixel
  // window: down to about 40 pixels wide.
  bool retry_small = true;
  // Detections scored below this are dropped when a stronger one exists: on a photo of two people
  // side by side, the HOG detector also fires weakly (score 0.03) on a space suit, against 1.5 for
  // the faces. A photo whose only detections are weak keeps the best of them.
  double min_score = 0.1;
};

// Every face found, most confident first. `source` names the photo in messages. Throws
// Error::failure naming the landmark model when it is missing or unreadable.
std::vector<DetectedFace> detect_faces(const io::RgbaImage& photo, const std::string& source,
                                       const DetectOptions& options = {});

// The 68 landmarks of the face in `box` (photo pixels), without detection: for callers that know
// where the face is (tests against exact landmarks, a face tracked from an earlier frame).
Landmarks landmarks_in_box(const io::RgbaImage& photo, const Box& box);

// The 68-point landmark model: $THG_FACE_LANDMARKS, else Debian's libdlib-data file.
std::filesystem::path landmark_model_path();

// Mean of landmarks [first, last] (inclusive).
Point landmark_mean(const Landmarks& landmarks, int first, int last);

}  // namespace thg::portrait
