// Fault injection: disk full, memory exhausted, SIGTERM / SIGINT during generate and batch, absurd
// YAML nesting, and weights that would not fit in memory. Each must end with a clear message, the
// documented exit status, and no partial output.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/failure_message.h"
#include "io/probe.h"
#include "io/safetensors.h"
#include "model/talking_head.h"
#include "engine/generate.h"
#include "jobs/manifest.h"
#include "test_util.h"

namespace thg {
namespace {

namespace fs = std::filesystem;

class Faults : public ::testing::Test {
 protected:
  static std::string weights() { return test::tiny_model_file().string(); }
};

TEST_F(Faults, DiskFullDuringGenerate) {
  test::ScratchDir dir;
  const std::string out = (dir / "full.mp4").string();
  // 16 KB: the header fits, the video does not.
  auto r = test::run_thg({"generate", "--no-crop", "-p", test::data("media/rgb8.png"), "-a", test::data("media/speech_2s.m4a"), "-o",
                          out, "--weights", weights(), "--steps", "1", "--crf", "0"},
                         {.file_size_limit = 16 * 1024});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("disk is full or a file size limit was reached"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("full.mp4"), std::string::npos) << r.err;
  EXPECT_TRUE(dir.entries().empty()) << "no partial or temporary file may remain";
}

TEST_F(Faults, SigtermDuringGenerateLeavesNothing) {
  test::ScratchDir dir;
  auto r = test::run_thg({"generate", "--no-crop", "-p", test::data("media/rgb8.png"), "-a",
                          (test::source_root() / "examples/speech.wav").string(), "-o", (dir / "t.mp4").string(),
                          "--weights", weights(), "--steps", "400"},
                         {.interrupt_when = [&] { return !dir.entries().empty(); }, .signal = SIGTERM});
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_TRUE(dir.entries().empty());
}

TEST_F(Faults, SigintDuringBatchStopsCleanlyAndResumes) {
  test::ScratchDir dir;
  fs::copy(test::data("media/rgb8.png"), dir / "face.png");
  fs::copy(test::data("media/audio.m4a"), dir / "short.m4a");
  std::string jsonl;
  for (int i = 0; i < 6; ++i)
    jsonl += R"({"portrait": "face.png", "audio": "short.m4a", "steps": 8, "output": "v)" + std::to_string(i) + ".mp4\"}\n";
  test::write_file(dir / "jobs.jsonl", jsonl);
  const std::vector<std::string> args{"batch", (dir / "jobs.jsonl").string(), "-d", (dir / "out").string(),
                                      "--weights", weights(), "--no-crop"};
  // SIGINT as soon as the first output is published: the next job is then under way.
  const int pid = test::start_thg(args);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(dir / "out" / "v0.mp4") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 130);
  int complete = 0;
  for (const auto& e : fs::directory_iterator(dir / "out")) {
    const std::string name = e.path().filename().string();
    if (name[0] == '.' || name.rfind("report", 0) == 0) continue;
    EXPECT_EQ(io::probe_media(e.path()).video_frames, 13) << name;
    ++complete;
  }
  EXPECT_LT(complete, 6);
  auto r = test::run_thg(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto report = nlohmann::json::parse(std::ifstream(dir / "out" / "report.json"));
  EXPECT_EQ(report["skipped"].get<int>(), complete);
  EXPECT_EQ(report["done"].get<int>(), 6 - complete);
  EXPECT_EQ(test::temporaries_under(dir / "out"), std::vector<std::string>{}) << "a temporary survived the resume";
}

// 1 GiB of heap and anonymous mappings: enough to load thg and the tiny model and to generate at
// its own 64 px, far too little for 2048 px frames (the VAE's first activation alone is 512 MB).
constexpr long kMemoryLimit = 1L << 30;

TEST_F(Faults, OutOfMemoryDuringGenerateSaysWhatToLower) {
  if (test::kAddressSanitizer) GTEST_SKIP() << "no memory limit can be set under AddressSanitizer";
  test::ScratchDir dir;
  auto r = test::run_thg({"generate", "--no-crop", "-p", test::data("media/rgb8.png"), "-a", test::data("media/speech_2s.m4a"), "-o",
                          (dir / "big.mp4").string(), "--weights", weights(), "--size", "2048"},
                         {.memory_limit = kMemoryLimit});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  // One line (not LibTorch's backtrace) that says what to lower.
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("thg: error: out of memory (tried to allocate ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("lower --chunk-frames or --size"), std::string::npos) << r.err;
  EXPECT_TRUE(dir.entries().empty()) << "no partial or temporary file may remain";
}

TEST_F(Faults, OutOfMemoryInOneBatchJobDoesNotStopTheOthers) {
  if (test::kAddressSanitizer) GTEST_SKIP() << "no memory limit can be set under AddressSanitizer";
  test::ScratchDir dir;
  fs::copy(test::data("media/rgb8.png"), dir / "face.png");
  fs::copy(test::data("media/audio.m4a"), dir / "short.m4a");
  test::write_file(dir / "jobs.jsonl",
                   "{\"portrait\": \"face.png\", \"audio\": \"short.m4a\", \"size\": 2048, \"output\": \"huge.mp4\"}\n"
                   "{\"portrait\": \"face.png\", \"audio\": \"short.m4a\", \"output\": \"small.mp4\"}\n");
  auto r = test::run_thg({"batch", (dir / "jobs.jsonl").string(), "-d", (dir / "out").string(), "--weights", weights(), "--no-crop"},
                         {.memory_limit = kMemoryLimit});
  EXPECT_EQ(r.exit_code, 3) << r.err;  // documented: some jobs failed
  auto report = nlohmann::json::parse(std::ifstream(dir / "out" / "report.json"));
  ASSERT_EQ(report["jobs"].size(), 2u);
  EXPECT_EQ(report["jobs"][0]["status"], "failed");
  const std::string error = report["jobs"][0]["error"];
  EXPECT_EQ(error.rfind("out of memory (tried to allocate ", 0), 0u) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  EXPECT_EQ(report["jobs"][1]["status"], "done") << report["jobs"][1].dump();
  EXPECT_FALSE(fs::exists(dir / "out" / "huge.mp4"));
  EXPECT_EQ(io::probe_media(dir / "out" / "small.mp4").video_frames, 13);
}

TEST(FailureMessage, RealHostAllocationFailureIsOneLineWithTheSizeAndTheAdvice) {
  if (test::kAddressSanitizer) GTEST_SKIP() << "AddressSanitizer aborts on an impossible allocation";
  try {
    at::empty({int64_t{1} << 50}, at::kByte);  // 1 PiB: beyond any address space
    FAIL() << "the allocation was expected to fail";
  } catch (const std::exception& e) {
    EXPECT_EQ(out_of_memory_kind(e), OutOfMemory::Host) << e.what();
    EXPECT_EQ(failure_message(e, {"lower A", "lower B"}), "out of memory (tried to allocate 1024.00 TiB): lower A");
  }
}

TEST(FailureMessage, GpuOutOfMemoryNamesTheSizeAndWhatToLower) {
  // Thrown the way the CUDA caching allocator throws it (the real one is only checked on a GPU).
  try {
    TORCH_CHECK_WITH(OutOfMemoryError, false,
                     "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.19 GiB of "
                     "which 1.06 GiB is free. Of the allocated memory 75.20 GiB is allocated by PyTorch.");
  } catch (const std::exception& e) {
    EXPECT_EQ(out_of_memory_kind(e), OutOfMemory::Gpu);
    const std::string message = failure_message(e, pipeline::generation_memory_advice());
    EXPECT_EQ(message.rfind("out of GPU memory (tried to allocate 2.00 GiB): lower --chunk-frames or --size", 0), 0u)
        << message;
    EXPECT_NE(message.find("--dtype float16"), std::string::npos) << message;
  }
}

TEST(FailureMessage, LibTorchErrorsLoseTheirBacktraceAndLineBreaks) {
  try {
    at::ones({2, 3}).matmul(at::ones({2, 3}));
    FAIL() << "mismatched shapes were expected to throw";
  } catch (const std::exception& e) {
    EXPECT_EQ(out_of_memory_kind(e), OutOfMemory::No);
    const std::string message = failure_message(e, pipeline::generation_memory_advice());
    EXPECT_NE(message.find("cannot be multiplied"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_EQ(message.find("frame #"), std::string::npos) << message;
  }
  EXPECT_EQ(failure_message(std::runtime_error("first\nsecond\n")), "first; second");
}

TEST(Limits, DeeplyNestedYamlIsACleanError) {
  const std::string deep = "image_size: " + std::string(50000, '[') + "1" + std::string(50000, ']') + "\n";
  test::expect_input_error([&] { model::parse_model_config(deep, "deep.yaml"); }, "deep.yaml", "not valid YAML");
  std::string block;
  for (int i = 0; i < 3000; ++i) block += std::string(static_cast<size_t>(i), ' ') + "k:\n";
  test::expect_input_error([&] { model::parse_model_config(block, "block.yaml"); }, "block.yaml", "not valid YAML (line 499");
  test::ScratchDir dir;
  test::write_file(dir / "jobs.yaml", "jobs: " + std::string(50000, '[') + std::string(50000, ']') + "\n");
  test::expect_input_error([&] { pipeline::load_manifest(dir / "jobs.yaml"); }, (dir / "jobs.yaml").string(), "not valid YAML (line 1");
}

TEST(Limits, WeightsThatCannotFitInMemoryAreRefused) {
  // A valid-looking model file whose config describes a UNet of hundreds of GB.
  model::ModelConfig c = model::load_model_config(test::source_root() / "configs/tiny.yaml");
  c.unet.block_out_channels = {8192, 8192};  // within the config bounds, about 100 GB of parameters
  c.unet.attention_head_dim = {64};
  test::ScratchDir dir;
  io::write_safetensors(dir / "bomb.safetensors", {{"unet.conv_in.weight", at::zeros({1})}},
                        {{"thg.format", "thg-model-1"}, {"thg.config", model::to_yaml(c)}});
  test::expect_input_error([&] { model::TalkingHeadModel::load(dir / "bomb.safetensors"); },
                           (dir / "bomb.safetensors").string(), "MB of memory");
}

}  // namespace
}  // namespace thg
