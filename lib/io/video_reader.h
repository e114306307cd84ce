#pragma once
// Every frame of a video, scaled to a square RGB size: the ground truth that training and
// evaluation compare generated frames with.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>

namespace thg::io {

struct VideoReadOptions {
  int size = 128;                // frames are scaled to size x size (square sources keep their aspect)
  int64_t max_frames = 100000;   // longer videos are refused, never half-read
};

// uint8 [frames, size, size, 3]. Throws Error::input naming the file for anything unreadable.
at::Tensor read_video_frames(const std::filesystem::path& path, const VideoReadOptions& options = {});

}  // namespace thg::io
