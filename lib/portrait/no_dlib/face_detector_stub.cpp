// Built instead of face_detector.cpp when THG_WITH_FFMPEG=OFF (the GPU machine's model and kernel
// build, which has neither FFmpeg nor dlib): asking for faces says so; nothing is faked.
#include "core/error.h"
#include "portrait/face_detector.h"

namespace thg::portrait {

std::vector<DetectedFace> detect_faces(const io::RgbaImage&, const std::string& source, const DetectOptions&) {
  throw Error::failure(source, "this THG build has no face detection (configured with THG_WITH_FFMPEG=OFF)");
}

std::filesystem::path landmark_model_path() { return {}; }

Landmarks landmarks_in_box(const io::RgbaImage&, const Box&) {
  throw Error::failure("", "this THG build has no face landmarks (configured with THG_WITH_FFMPEG=OFF)");
}

}  // namespace thg::portrait
