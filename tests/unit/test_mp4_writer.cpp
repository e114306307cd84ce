// The MP4 writer: our own output decodes back with the right codecs, frame count and duration,
// audio present and as long as the video; unfinished writes leave nothing behind.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "io/audio.h"
#include "io/image.h"
#include "io/mp4_writer.h"
#include "io/probe.h"
#include "test_util.h"

namespace thg {
namespace {

io::AudioBuffer sine(double seconds, int rate, int channels) {
  io::AudioBuffer a;
  a.sample_rate = rate;
  a.channels = channels;
  const int64_t n = static_cast<int64_t>(seconds * rate);
  for (int64_t i = 0; i < n; ++i)
    for (int c = 0; c < channels; ++c) a.samples.push_back(0.25f * std::sin(2 * M_PI * 440 * i / rate));
  return a;
}

TEST(Mp4Writer, RoundTrip) {
  test::ScratchDir dir;
  const int fps = 25, frames = 50;
  io::AudioBuffer audio = sine(2.0, 44100, 2);
  io::Mp4Writer writer(dir / "out.mp4", io::VideoSpec{64, 48, fps, 18}, audio);
  std::vector<uint8_t> rgb(64 * 48 * 3);
  for (int f = 0; f < frames; ++f) {
    for (size_t i = 0; i < rgb.size(); i += 3) {
      rgb[i] = 200;  // orange-ish constant colour
      rgb[i + 1] = 120;
      rgb[i + 2] = 30;
    }
    writer.write_frame(rgb.data());
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "out.mp4")) << "the final name must appear only when complete";
  writer.finish();
  ASSERT_EQ(dir.entries(), std::vector<std::string>{"out.mp4"});

  io::MediaInfo info = io::probe_media(dir / "out.mp4");
  EXPECT_EQ(info.video_codec, "h264");
  EXPECT_EQ(info.pixel_format, "yuv420p");
  EXPECT_EQ(info.width, 64);
  EXPECT_EQ(info.height, 48);
  EXPECT_NEAR(info.fps, 25.0, 1e-6);
  EXPECT_EQ(info.video_frames, frames);
  EXPECT_NEAR(info.video_seconds, 2.0, 1e-6);
  ASSERT_TRUE(info.has_audio);
  EXPECT_EQ(info.audio_codec, "aac");
  EXPECT_EQ(info.sample_rate, 44100);
  EXPECT_EQ(info.channels, 2);
  EXPECT_NEAR(info.audio_seconds, info.video_seconds, 1.0 / fps);

  // The audio decodes back to the same length; the first frame to the colour written.
  io::AudioBuffer back = io::decode_audio(dir / "out.mp4");
  EXPECT_NEAR(back.seconds(), 2.0, 1.0 / fps);
  io::RgbaImage first = io::decode_image_rgba(dir / "out.mp4");
  const uint8_t* px = &first.pixels[(24 * 64 + 32) * 4];
  EXPECT_NEAR(px[0], 200, 6);
  EXPECT_NEAR(px[1], 120, 6);
  EXPECT_NEAR(px[2], 30, 6);
}

TEST(Mp4Writer, FaststartPutsTheIndexFirst) {
  test::ScratchDir dir;
  io::Mp4Writer writer(dir / "f.mp4", io::VideoSpec{32, 32, 25, 23}, sine(0.2, 16000, 1));
  std::vector<uint8_t> rgb(32 * 32 * 3, 90);
  for (int f = 0; f < 5; ++f) writer.write_frame(rgb.data());
  writer.finish();
  const std::string bytes = test::read_file(dir / "f.mp4");
  const size_t moov = bytes.find("moov"), mdat = bytes.find("mdat");
  ASSERT_NE(moov, std::string::npos);
  ASSERT_NE(mdat, std::string::npos);
  EXPECT_LT(moov, mdat);
}

TEST(Mp4Writer, UnfinishedOutputLeavesNothing) {
  test::ScratchDir dir;
  {
    io::Mp4Writer writer(dir / "partial.mp4", io::VideoSpec{32, 32, 25, 23}, sine(1.0, 16000, 1));
    std::vector<uint8_t> rgb(32 * 32 * 3, 10);
    writer.write_frame(rgb.data());
    EXPECT_EQ(dir.entries().size(), 1u);  // the hidden temporary file
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(Mp4Writer, RejectsBadSpecsAndFolders) {
  test::ScratchDir dir;
  io::AudioBuffer a = sine(0.2, 16000, 1);
  test::expect_input_error([&] { io::Mp4Writer(dir / "odd.mp4", io::VideoSpec{33, 32, 25, 18}, a); },
                           (dir / "odd.mp4").string(), "video size must be positive and even");
  test::expect_input_error([&] { io::Mp4Writer(dir / "nofolder" / "x.mp4", io::VideoSpec{32, 32, 25, 18}, a); },
                           (dir / "nofolder" / "x.mp4").string(), "output folder does not exist");
  test::write_file(dir / "file", "x");
  test::expect_input_error([&] { io::Mp4Writer(dir / "file" / "x.mp4", io::VideoSpec{32, 32, 25, 18}, a); },
                           (dir / "file" / "x.mp4").string(), "output folder is not a folder");
  EXPECT_TRUE(dir.entries() == std::vector<std::string>{"file"});
}

}  // namespace
}  // namespace thg
