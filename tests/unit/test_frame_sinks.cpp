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
#include "io/audio.h"
#include "bench/bench_e2e.h"
#include "engine/generate.h"
#include "test_util.h"

namespace thg {
namespace {

namespace fs = std::filesystem;

pipeline::GenerateOptions short_clip(const fs::path& output) {
  pipeline::GenerateOptions o;
  o.placement.crop = false;  // test media are not photos of faces
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

TEST(FrameSinks, DecodedInputsInMemoryGiveTheSameFramesAsTheFiles) {
  auto model = model::TalkingHeadModel::load(test::tiny_model_file());
  const pipeline::GenerateOptions o = short_clip("");
  const at::Tensor from_files = test::generated_frames(*model, o);

  pipeline::GenerateInputs inputs;
  io::ImageLoadOptions image;
  image.size = 64;
  inputs.portrait = io::load_image(o.portrait, image);
  inputs.speech = io::decode_audio(o.audio, {});
  pipeline::GenerateOptions no_paths = o;
  no_paths.portrait.clear();
  no_paths.audio.clear();
  io::MemoryFrameSink memory;
  const pipeline::GenerateResult r = pipeline::generate(*model, inputs, no_paths, memory);
  EXPECT_EQ(r.frames, 13);
  EXPECT_TRUE(memory.frames().equal(from_files));

  // Inputs of the wrong shape or an empty buffer are refused by name, before any model work.
  pipeline::GenerateInputs wrong = inputs;
  wrong.portrait = inputs.portrait.slice(1, 0, 32);
  io::MemoryFrameSink unused;
  test::expect_input_error([&] { pipeline::generate(*model, wrong, no_paths, unused); }, "portrait", "[3, 64, 64]");
  wrong = inputs;
  wrong.speech.sample_rate = 0;
  test::expect_input_error([&] { pipeline::generate(*model, wrong, no_paths, unused); }, "speech", "sample rate");
  wrong = inputs;
  wrong.speech.samples.resize(10);
  test::expect_input_error([&] { pipeline::generate(*model, wrong, no_paths, unused); }, "speech", "shorter than one video frame");
}

TEST(FrameSinks, TheEndToEndBenchmarkCountsEveryFrameOfItsRuns) {
  auto model = model::TalkingHeadModel::load(test::tiny_model_file());
  pipeline::E2eBenchOptions o;
  o.seconds = 1.0;
  o.repeats = 2;
  o.progress = false;
  o.generation.steps = 1;
  const pipeline::E2eBenchResult r = pipeline::bench_e2e(*model, o);
  EXPECT_EQ(r.frames, 25);
  EXPECT_EQ(r.seconds.size(), 2u);
  EXPECT_GT(r.median_seconds, 0);
  EXPECT_NEAR(r.frames_per_second, 25 / r.median_seconds, 1e-9);
  EXPECT_GT(r.stage_seconds.at("denoise"), 0);
  // The synthetic speech is voiced at syllable rate: loud and quiet stretches, not silence.
  const pipeline::GenerateInputs in = pipeline::synthetic_inputs(64, 1.0, 16000);
  float loud = 0, quiet = 1;
  for (size_t i = 0; i < in.speech.samples.size(); i += 400) {
    float peak = 0;
    for (size_t k = i; k < i + 400 && k < in.speech.samples.size(); ++k) peak = std::max(peak, std::abs(in.speech.samples[k]));
    loud = std::max(loud, peak);
    quiet = std::min(quiet, peak);
  }
  EXPECT_GT(loud, 0.2f);
  EXPECT_LT(quiet, 0.1f);
  EXPECT_EQ(in.portrait.sizes(), (std::vector<int64_t>{3, 64, 64}));
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
  auto r = test::run_thg({"--quiet", "generate", "--no-crop", "-p", test::data("media/rgb8.png").string(), "-a",
                          test::data("media/audio.m4a").string(), "-o", (dir / "%05d.png").string(), "--weights",
                          test::tiny_model_file().string(), "--steps", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(dir.entries().size(), 13u);
  EXPECT_TRUE(fs::exists(dir / "00012.png"));
  r = test::run_thg({"generate", "--no-crop", "-p", test::data("media/rgb8.png").string(), "-a", test::data("media/audio.m4a").string(),
                     "-o", (dir / "%s.png").string(), "--weights", test::tiny_model_file().string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("one integer field"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace thg
