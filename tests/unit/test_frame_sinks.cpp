// Frames out: the engine writes into a sink (MP4, PNG sequence, memory). The same generation gives
// the same pixels in every lossless sink; a sink publishes only when generation completes; the CLI
// takes a PNG pattern as --output.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "io/frame_sink.h"
#include "io/image.h"
#include "io/probe.h"
#include "model/talking_head.h"
#include "pipeline/generate.h"
#include "test_util.h"

namespace thg {
namespace {

namespace fs = std::filesystem;

pipeline::GenerateOptions short_clip(const fs::path& output) {
  pipeline::GenerateOptions o;
  o.portrait = test::data("media/rgb8.png");
  o.audio = test::data("media/audio.m4a");  // 0.5 s: 13 frames at 25 fps
  o.output = output;
  o.steps = 1;
  o.seed = 4;
  o.chunk_frames = 5;
  o.progress = false;
  return o;
}

TEST(FrameSinks, MemoryAndPngSequenceHoldTheGeneratedPixelsExactly) {
  test::ScratchDir dir;
  auto model = model::TalkingHeadModel::load(test::tiny_model_file());
  std::vector<at::Tensor> observed;
  pipeline::GenerateOptions o = short_clip("");
  o.on_rgb_frames = [&](const at::Tensor& frames, int64_t) { observed.push_back(frames.clone()); };
  io::MemoryFrameSink memory;
  const pipeline::GenerateResult r = pipeline::generate(*model, o, memory);
  const at::Tensor frames = memory.frames();
  ASSERT_EQ(frames.sizes(), (std::vector<int64_t>{13, 64, 64, 3}));
  EXPECT_EQ(r.frames, 13);
  EXPECT_TRUE(frames.equal(at::cat(observed)));
  EXPECT_EQ(memory.format().fps, 25);

  // The same generation into a PNG sequence: 13 lossless files with the same pixels.
  fs::create_directories(dir / "frames");
  o.on_rgb_frames = nullptr;
  o.output = dir / "frames" / "f%03d.png";
  pipeline::generate(*model, o);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir / "frames")) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 13u);
  EXPECT_EQ(names.front(), "f000.png");
  EXPECT_EQ(names.back(), "f012.png");
  for (int64_t i = 0; i < 13; ++i) {
    const io::RgbaImage png = io::decode_image_rgba(dir / "frames" / names[static_cast<size_t>(i)]);
    at::Tensor rgb = at::from_blob(const_cast<uint8_t*>(png.pixels.data()), {64, 64, 4}, at::kByte).slice(2, 0, 3);
    EXPECT_TRUE(rgb.equal(frames[i])) << names[static_cast<size_t>(i)];
  }
}

TEST(FrameSinks, AnUnfinishedSequenceLeavesNothing) {
  test::ScratchDir dir;
  {
    io::PngSequenceSink sink((dir / "%04d.png").string());
    sink.begin({32, 32, 25, nullptr});
    sink.write(at::zeros({3, 32, 32, 3}, at::kByte), 0);
    EXPECT_EQ(dir.entries().size(), 3u);  // hidden temporaries while writing
  }  // destroyed without finish(): an error or an interrupt
  EXPECT_TRUE(dir.entries().empty());
  // Frames out of order are a programming error, said as such.
  io::MemoryFrameSink memory;
  memory.begin({32, 32, 25, nullptr});
  memory.write(at::zeros({2, 32, 32, 3}, at::kByte), 0);
  EXPECT_THROW(memory.write(at::zeros({1, 32, 32, 3}, at::kByte), 5), Error);
  EXPECT_THROW(memory.write(at::zeros({1, 16, 32, 3}, at::kByte), 2), Error);
}

TEST(FrameSinks, OutputNamesAreCheckedBeforeAnyWork) {
  test::ScratchDir dir;
  test::expect_input_error([&] { io::check_sink_output(dir / "x.avi"); }, (dir / "x.avi").string(),
                           "output must be an .mp4 file or a PNG pattern such as frames/%05d.png");
  for (const char* bad : {"%s.png", "%d_%d.png", "%d.jpg", "f%-5d.png"})
    test::expect_input_error([&] { io::check_sink_output(dir / bad); }, (dir / bad).string(),
                             "a frame sequence is named by one integer field and .png");
  test::expect_input_error([&] { io::check_sink_output(dir / "missing" / "%05d.png"); },
                           (dir / "missing" / "00000.png").string(), "output folder does not exist");
  EXPECT_NO_THROW(io::check_sink_output(dir / "100%%-%05d.png"));
  EXPECT_EQ(io::PngSequenceSink::frame_path((dir / "100%%-%05d.png").string(), 7), dir / "100%-00007.png");
}

TEST(FrameSinks, TheCliWritesAPngSequence) {
  test::ScratchDir dir;
  auto r = test::run_thg({"--quiet", "generate", "-p", test::data("media/rgb8.png").string(), "-a",
                          test::data("media/audio.m4a").string(), "-o", (dir / "%05d.png").string(), "--weights",
                          test::tiny_model_file().string(), "--steps", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(dir.entries().size(), 13u);
  EXPECT_TRUE(fs::exists(dir / "00012.png"));
  r = test::run_thg({"generate", "-p", test::data("media/rgb8.png").string(), "-a", test::data("media/audio.m4a").string(),
                     "-o", (dir / "%s.png").string(), "--weights", test::tiny_model_file().string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("one integer field"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace thg
