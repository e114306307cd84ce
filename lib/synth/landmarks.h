#pragma once
// The 68 facial landmarks (the iBUG 300-W layout that dlib's model outputs: jaw 0-16, brows
// 17-26, nose 27-35, eyes 36-47, outer lips 48-59, inner lips 60-67) of a rendered synthetic face,
// exact: computed from the same shapes the renderer draws, for the same identity, pose and mouth.
// They test the portrait stage's alignment against ground truth, and are the motion targets a
// model can learn from.
#include "portrait/face_detector.h"
#include "synth/face.h"
#include "synth/mouth.h"

namespace thg::synth {

// In pixels of a size x size frame, pixel-centre coordinates (pixel (0, 0) is centred on 0, 0).
portrait::Landmarks face_landmarks(const FaceIdentity& face, const HeadPose& pose, const MouthShape& mouth, int size);

}  // namespace thg::synth
