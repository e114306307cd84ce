// The thg executable end to end: a real generate run, info, and every class of bad input giving one
// line naming the file, exit status 2, and no output left behind.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "io/probe.h"
#include "model/talking_head.h"
#include "sched/scheduler.h"
#include "test_util.h"

namespace thg {
namespace {

class Cli : public ::testing::Test {
 protected:
  static std::string weights() { return test::tiny_model_file().string(); }

  std::vector<std::string> generate_args(const std::string& portrait, const std::string& audio,
                                         const std::string& output) {
    return {"generate", "--no-crop", "--portrait", portrait, "--audio", audio, "--output", output, "--weights", weights(),
            "--device", "cpu"};
  }

  // One line on stderr, naming `file`, exit status 2, and `dir` unchanged.
  void expect_clean_failure(const test::ProcessResult& r, const std::string& file, const test::ScratchDir& dir,
                            const std::vector<std::string>& entries_before) {
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("thg: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(file), std::string::npos) << "message must name " << file << ": " << r.err;
    auto after = dir.entries();
    std::sort(after.begin(), after.end());
    EXPECT_EQ(after, entries_before) << "nothing may be left behind";
  }

};

TEST_F(Cli, VersionAndHelp) {
  auto r = test::run_thg({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("thg " THG_VERSION), std::string::npos);
  r = test::run_thg({"generate", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Examples:"), std::string::npos);
  EXPECT_NE(r.out.find("ddim"), std::string::npos);
  r = test::run_thg({"generate", "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  r = test::run_thg({});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(Cli, GeneratesATwoSecondClip) {
  test::ScratchDir dir;
  const auto out = dir / "clip.mp4";
  auto args = generate_args(test::data("media/rgb8.png"), test::data("media/speech_2s.m4a"), out);
  args.insert(args.end(), {"--json", "--steps", "2", "--seed", "5"});
  auto r = test::run_thg(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "") << "a model file run prints no warning";
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["frames"], 50);
  EXPECT_EQ(j["random_weights"], false);
  ASSERT_EQ(dir.entries(), std::vector<std::string>{"clip.mp4"});

  io::MediaInfo info = io::probe_media(out);
  EXPECT_EQ(info.video_codec, "h264");
  EXPECT_EQ(info.pixel_format, "yuv420p");
  EXPECT_EQ(info.width, 64);
  EXPECT_EQ(info.video_frames, 50);
  ASSERT_TRUE(info.has_audio);
  EXPECT_EQ(info.audio_codec, "aac");
  // Video duration equals the audio's within one frame.
  EXPECT_NEAR(info.video_seconds, 2.0, 0.04);
  EXPECT_NEAR(info.audio_seconds, info.video_seconds, 0.04);

  // Same seed, same video.
  auto args2 = args;
  std::replace(args2.begin(), args2.end(), out.string(), (dir / "again.mp4").string());
  ASSERT_EQ(test::run_thg(args2).exit_code, 0);
  EXPECT_EQ(test::read_file(out), test::read_file(dir / "again.mp4"));
}

TEST_F(Cli, EverySamplerRunsInGenerate) {
  test::ScratchDir dir;
  // flow-euler needs a velocity (flow-matching) model: a tiny one made for the test.
  const std::string tiny = test::read_file(test::source_root() / "configs/tiny.yaml");
  // configs/tiny.yaml ends with its generation section: the first line appended joins it.
  test::write_file(dir / "flow.yaml", tiny + "  sampler: flow-euler\nscheduler:\n  prediction_type: flow\n");
  auto flow = model::TalkingHeadModel::random(model::load_model_config(dir / "flow.yaml"), 4);
  flow->save(dir / "flow.safetensors", at::kFloat);
  std::vector<std::string> names;
  for (const auto& s : sched::samplers()) names.push_back(s.name);
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    const std::string out = (dir / (name + ".mp4")).string();
    auto args = generate_args(test::data("media/rgb8.png"), test::data("media/audio.m4a"), out);
    // --chunk-frames 5: several chunks, so state carried between chunks would show.
    args.insert(args.end(), {"--sampler", name, "--steps", "3", "--chunk-frames", "5", "--json"});
    if (name == "flow-euler") *(std::find(args.begin(), args.end(), "--weights") + 1) = (dir / "flow.safetensors").string();
    auto r = test::run_thg(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["sampler"], name);
    EXPECT_EQ(j["model_evaluations_per_frame"], name == "heun" ? 5 : 3);
    EXPECT_EQ(io::probe_media(out).video_frames, 13);  // 0.5 s at 25 fps, rounded (the sine fixture)
  }
}

TEST_F(Cli, GuidanceAndKarrasOptions) {
  test::ScratchDir dir;
  auto args = generate_args(test::data("media/rgb8.png"), test::data("media/audio.m4a"), (dir / "g.mp4").string());
  args.insert(args.end(), {"--sampler", "dpmpp-2m", "--schedule", "karras", "--steps", "2", "--guidance-ref", "2",
                           "--guidance-audio", "3", "--guidance-rescale", "0.5", "--json"});
  auto r = test::run_thg(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["model_evaluations_per_frame"], 6);  // 2 steps x 3 branches

  auto bad = generate_args(test::data("media/rgb8.png"), test::data("media/audio.m4a"), (dir / "b.mp4").string());
  bad.insert(bad.end(), {"--sampler", "dpm"});
  r = test::run_thg(bad);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("sampler must be one of ddim, ddpm, euler, euler-ancestral, heun, dpmpp-2m"), std::string::npos) << r.err;
  bad.back() = "ddim";
  bad.insert(bad.end(), {"--schedule", "karras"});
  r = test::run_thg(bad);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("does not support --schedule karras"), std::string::npos) << r.err;
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"g.mp4"}) << "failed runs leave nothing";
}

TEST_F(Cli, InfoShowsTheModel) {
  auto r = test::run_thg({"info", weights()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("unet"), std::string::npos);
  EXPECT_NE(r.out.find("vae"), std::string::npos);
  EXPECT_NE(r.out.find("F16"), std::string::npos);
  r = test::run_thg({"info", weights(), "--json", "--tensors"});
  ASSERT_EQ(r.exit_code, 0);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["parameters"].get<int64_t>(), 0);
  EXPECT_EQ(j["tensors"].size(), j["tensor_count"].get<size_t>());
  EXPECT_EQ(j["metadata"]["thg.format"], "thg-model-1");
}

TEST_F(Cli, InfoRejectsBadFiles) {
  test::ScratchDir dir;
  test::write_file(dir / "junk.safetensors", std::string("\xff\xff\xff\xff\xff\xff\xff\xff{}", 10));
  auto r = test::run_thg({"info", (dir / "junk.safetensors").string()});
  expect_clean_failure(r, "junk.safetensors", dir, {"junk.safetensors"});
  r = test::run_thg({"info", (dir / "none.safetensors").string()});
  expect_clean_failure(r, "none.safetensors", dir, {"junk.safetensors"});
}

TEST_F(Cli, BadInputsFailCleanly) {
  test::ScratchDir dir;
  test::write_file(dir / "empty.png", "");
  test::write_file(dir / "corrupt.png", std::string(1000, '\x42'));
  const std::string png = test::read_file(test::data("media/rgb8.png"));
  test::write_file(dir / "truncated.png", png.substr(0, 60));
  test::write_file(dir / "notes.txt", "this is not media\n");
  std::vector<std::string> before = dir.entries();
  std::sort(before.begin(), before.end());
  const std::string good_image = test::data("media/rgb8.png"), good_audio = test::data("media/speech_2s.m4a");
  const std::string out = (dir / "out.mp4").string();

  struct Case {
    std::string portrait, audio, output, named;
  };
  std::vector<Case> cases = {
      {(dir / "missing.png").string(), good_audio, out, "missing.png"},
      {(dir / "empty.png").string(), good_audio, out, "empty.png"},
      {(dir / "corrupt.png").string(), good_audio, out, "corrupt.png"},
      {(dir / "truncated.png").string(), good_audio, out, "truncated.png"},
      {(dir / "notes.txt").string(), good_audio, out, "notes.txt"},
      {test::data("media/small_20px.png"), good_audio, out, "small_20px.png"},
      {good_image, (dir / "missing.wav").string(), out, "missing.wav"},
      {good_image, (dir / "notes.txt").string(), out, "notes.txt"},
      {good_image, test::data("media/video_no_audio.mp4"), out, "video_no_audio.mp4"},
      {good_image, test::data("media/too_short_20ms.wav"), out, "too_short_20ms.wav"},
      {good_image, good_audio, (dir / "no" / "such" / "folder.mp4").string(), "folder.mp4"},
      {good_image, good_audio, (dir / "notes.txt" / "x.mp4").string(), "x.mp4"},
      {good_image, good_audio, (dir / "out.avi").string(), "out.avi"},
      {good_image, good_audio, good_image, "rgb8.png"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.named);
    auto r = test::run_thg(generate_args(c.portrait, c.audio, c.output));
    expect_clean_failure(r, c.named, dir, before);
  }
}

TEST_F(Cli, UnwritableOutputFolderFailsCleanly) {
  test::ScratchDir dir;
  std::filesystem::create_directories(dir / "ro");
  std::filesystem::permissions(dir / "ro", std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  // Root ignores folder permissions; /proc refuses new files whoever asks.
  const std::string out = ::geteuid() == 0 ? "/proc/thg-test-output.mp4" : (dir / "ro" / "out.mp4").string();
  auto r = test::run_thg(generate_args(test::data("media/rgb8.png"), test::data("media/speech_2s.m4a"), out));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(std::filesystem::path(out).filename().string()), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_TRUE(std::filesystem::is_empty(dir / "ro"));
}

TEST_F(Cli, InterruptLeavesNoPartialOutput) {
  test::ScratchDir dir;
  auto args = generate_args(test::data("media/rgb8.png"), (test::source_root() / "examples/speech.wav").string(),
                            (dir / "long.mp4").string());
  args.insert(args.end(), {"--steps", "400"});  // long enough to be interrupted mid-way
  // Interrupted once the output's temporary file exists: mid-way through the 400 steps.
  auto r = test::run_thg(args, {.interrupt_when = [&] { return !dir.entries().empty(); }});
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
  EXPECT_TRUE(dir.entries().empty()) << "no partial or temporary file may remain";
}

}  // namespace
}  // namespace thg
