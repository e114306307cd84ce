#pragma once
// Alignment: the similarity transform that puts a detected face where the model's training faces
// sit in its square crop (the model config's face template), and the crop itself, resampled from
// the full-resolution photo with area filtering first so that a large face is not aliased.
#include <ATen/core/Tensor.h>

#include "io/image.h"
#include "portrait/face_detector.h"
#include "portrait/geometry.h"

namespace thg::portrait {

// Where the eyes and the mouth sit in the model's crop, in crop units (0..1, y down); the face is
// centred horizontally. The defaults are the mean face of thg-synth, which trained the bundled model.
struct FaceTemplate {
  double eye_y = 0.413;         // both eye centres
  double eye_distance = 0.27;   // between the eye centres
  double mouth_y = 0.67;        // the mouth's centre (mean of the 20 lip points)
  Point eye_image_left() const { return {0.5 - eye_distance / 2, eye_y}; }
  Point eye_image_right() const { return {0.5 + eye_distance / 2, eye_y}; }
  Point mouth() const { return {0.5, mouth_y}; }
};

// Photo pixels -> crop pixels for a crop of crop_size pixels. crop_scale > 1 shows more around the
// face (the face is drawn smaller); < 1 zooms in.
Similarity photo_to_crop(const DetectedFace& face, const FaceTemplate& face_template, double crop_scale, int crop_size);

// The crop: float32 [3, crop_size, crop_size] in [0, 1] (what io::load_image returns), sampled
// bilinearly from the photo (edges repeat outside it) after area shrinking of the face region to
// about the crop's own scale.
at::Tensor extract_crop(const io::RgbaImage& photo, const Similarity& photo_to_crop, int crop_size);

}  // namespace thg::portrait
