#pragma once
// Speed of the portrait stage on the CPU: finding the face (detection on the shrunken copy,
// landmarks, alignment, the crop and the canvas) per portrait, and pasting one generated crop back
// into a 1280x720 picture per frame.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace thg::pipeline {

struct PortraitBenchOptions {
  std::filesystem::path photo;
  int crop_size = 128;
  int warmup = 1;     // untimed first (it also loads the landmark model, ~1 s)
  int repeats = 5;
  int paste_frames = 200;  // frames pasted per timed paste run
};

struct PortraitBenchResult {
  int photo_width = 0, photo_height = 0;
  int faces = 0;
  std::vector<double> prepare_seconds;  // each timed portrait preparation (decoded photo in memory)
  double prepare_median_ms = 0;
  int paste_width = 0, paste_height = 0;
  size_t paste_masked_pixels = 0;
  std::vector<double> paste_ms_per_frame;  // each timed paste run
  double paste_median_ms = 0;
  std::map<std::string, std::string> about;
};

PortraitBenchResult bench_portrait(const PortraitBenchOptions& options);

}  // namespace thg::pipeline
