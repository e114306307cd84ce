#include "model/motion.h"

namespace thg::model {

const char* motion_channel_name(int channel) {
  static const char* names[kMotionChannels] = {"open", "width", "round", "press", "blink",
                                               "brow", "shift_x", "shift_y", "roll", "scale"};
  return channel >= 0 && channel < kMotionChannels ? names[channel] : "?";
}

MotionFrame rest_motion() {
  MotionFrame m{};
  m[kWidth] = 0.5f;
  return m;
}

}  // namespace thg::model
