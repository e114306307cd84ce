#pragma once
// The synthetic world's motion in the motion-warp family's terms (model/motion.h): for every frame
// of a clip, exactly what its mouth, eyes and head do. This is what the motion model learns.
// motion.csv in a dataset clip: a header "frame,open,width,...", then one row per frame.
#include <filesystem>
#include <vector>

#include "model/motion.h"
#include "synth/face.h"
#include "synth/mouth.h"

namespace thg::synth {

model::MotionFrame motion_frame(const FaceIdentity& face, const HeadPose& pose, const MouthShape& mouth);

std::string motion_csv(const std::vector<model::MotionFrame>& frames);
// Reads a clip's motion.csv. Throws Error::input naming the file.
std::vector<model::MotionFrame> read_motion_csv(const std::filesystem::path& csv);

}  // namespace thg::synth
