#pragma once
// What a media file holds, read by demuxing (no decoding): codecs, sizes, frame count, durations.
// Used to verify THG's own outputs (tests, batch resume) and to inspect ground-truth videos.
#include <cstdint>
#include <filesystem>
#include <string>

namespace thg::io {

struct MediaInfo {
  std::string format;          // container short name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
  bool has_video = false;
  std::string video_codec;     // e.g. "h264"
  std::string pixel_format;    // e.g. "yuv420p"
  int width = 0, height = 0;
  double fps = 0;
  int64_t video_frames = 0;    // counted packets of the video stream
  double video_seconds = 0;
  bool has_audio = false;
  std::string audio_codec;     // e.g. "aac"
  int sample_rate = 0;
  int channels = 0;
  double audio_seconds = 0;
};

MediaInfo probe_media(const std::filesystem::path& path);

}  // namespace thg::io
