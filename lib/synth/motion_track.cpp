#include "synth/motion_track.h"

#include <fstream>
#include <sstream>

#include "core/error.h"

namespace thg::synth {

model::MotionFrame motion_frame(const FaceIdentity& face, const HeadPose& pose, const MouthShape& mouth) {
  // The renderer places the eyes at head_x +- eye_spacing (image units): the inter-ocular distance.
  const double iod = 2.0 * face.eye_spacing;
  model::MotionFrame m{};
  m[model::kOpen] = static_cast<float>(mouth.open);
  m[model::kWidth] = static_cast<float>(mouth.width);
  m[model::kRound] = static_cast<float>(mouth.round);
  m[model::kPress] = static_cast<float>(mouth.press);
  m[model::kBlink] = static_cast<float>(pose.blink);
  m[model::kBrow] = static_cast<float>(pose.brow_raise / iod);
  m[model::kShiftX] = static_cast<float>(pose.dx / iod);
  m[model::kShiftY] = static_cast<float>(pose.dy / iod);
  m[model::kRoll] = static_cast<float>(pose.roll);
  m[model::kScale] = static_cast<float>(pose.scale - 1.0);
  return m;
}

std::string motion_csv(const std::vector<model::MotionFrame>& frames) {
  std::ostringstream out;
  out << "frame";
  for (int c = 0; c < model::kMotionChannels; ++c) out << ',' << model::motion_channel_name(c);
  out << '\n';
  for (size_t f = 0; f < frames.size(); ++f) {
    out << f;
    for (float v : frames[f]) out << ',' << v;
    out << '\n';
  }
  return out.str();
}

std::vector<model::MotionFrame> read_motion_csv(const std::filesystem::path& csv) {
  std::ifstream in(csv);
  if (!in) throw Error::input(csv.string(), "cannot open the motion track");
  std::string line;
  std::getline(in, line);
  if (line.rfind("frame,open,", 0) != 0) throw Error::input(csv.string(), "not a motion track (header)");
  std::vector<model::MotionFrame> out;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream row(line);
    std::string cell;
    std::getline(row, cell, ',');
    model::MotionFrame m{};
    for (int c = 0; c < model::kMotionChannels; ++c) {
      if (!std::getline(row, cell, ',')) throw Error::input(csv.string(), "a row has too few values: " + line);
      try {
        m[static_cast<size_t>(c)] = std::stof(cell);
      } catch (const std::exception&) {
        throw Error::input(csv.string(), "not a number: '" + cell + "'");
      }
    }
    out.push_back(m);
  }
  return out;
}

}  // namespace thg::synth
