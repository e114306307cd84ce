// Long audio: generation in overlapping chunks keeps peak memory flat in the audio length and
// leaves no seams at chunk boundaries.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>

#include "eval/metrics.h"
#include "io/media_writers.h"
#include "io/video_reader.h"
#include "model/talking_head.h"
#include "test_util.h"

namespace thg {
namespace {

namespace fs = std::filesystem;

void write_speechlike_wav(const fs::path& path, double seconds) {
  io::AudioBuffer a;
  a.sample_rate = 16000;
  a.channels = 1;
  const auto n = static_cast<size_t>(seconds * 16000);
  for (size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / 16000.0;
    const double syllables = 0.5 + 0.5 * std::sin(2 * M_PI * 3.0 * t);  // ~6 syllables per second
    a.samples.push_back(static_cast<float>(0.4 * syllables * std::sin(2 * M_PI * 150.0 * t * (1 + 0.2 * syllables))));
  }
  io::write_wav(path, a);
}

// Peak resident memory (KiB) of one `thg` run, from the kernel's accounting of that child alone.
long peak_rss_kib(const std::vector<std::string>& args) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(THG_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(THG_BINARY, argv.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "thg failed";
  return usage.ru_maxrss;
}

TEST(LongAudio, PeakMemoryIsFlatInTheAudioLength) {
  test::ScratchDir dir;
  write_speechlike_wav(dir / "short.wav", 5.0);
  write_speechlike_wav(dir / "long.wav", 60.0);
  const std::string weights = test::tiny_model_file().string();
  auto run = [&](const std::string& audio) {
    return peak_rss_kib({"--quiet", "generate", "-p", test::data("media/rgb8.png").string(), "-a",
                         (dir / audio).string(), "-o", (dir / (audio + ".mp4")).string(), "--weights", weights,
                         "--steps", "1", "--fps", "10", "--device", "cpu"});
  };
  const long short_peak = run("short.wav");
  const long long_peak = run("long.wav");
  std::printf("peak RSS: 5 s audio %ld MiB, 60 s audio %ld MiB (ratio %.3f)\n", short_peak / 1024, long_peak / 1024,
              static_cast<double>(long_peak) / static_cast<double>(short_peak));
  EXPECT_LE(static_cast<double>(long_peak), 1.2 * static_cast<double>(short_peak));
  EXPECT_EQ(io::read_video_frames(dir / "long.wav.mp4", {64, 100000}).size(0), 600);
}

TEST(LongAudio, NoSeamsAtChunkBoundariesWithTheBundledModel) {
  const fs::path weights = test::source_root() / "weights/default.safetensors";
  if (!fs::exists(weights)) GTEST_SKIP() << "no bundled weights";
  test::ScratchDir dir;
  auto out = dir / "out.mp4";
  const int64_t chunk = 8, overlap = 2;  // the bundled model's defaults (its training group length)
  auto r = test::run_thg({"--quiet", "generate", "-p", test::source_root().string() + "/examples/portrait.png", "-a",
                          test::source_root().string() + "/examples/speech.wav", "-o", out.string(), "--chunk-frames",
                          std::to_string(chunk), "--chunk-overlap", std::to_string(overlap), "--crf", "0",
                          "--max-frames", "62"});  // 10 chunks
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<double> change = eval::frame_changes(io::read_video_frames(out, {128, 100000}));
  // Transitions written from two chunks (the cross-faded span and its edges) against the rest.
  std::vector<bool> boundary(change.size(), false);
  for (int64_t start = chunk - overlap; start < static_cast<int64_t>(change.size()); start += chunk - overlap)
    for (int64_t t = start - 1; t <= start + overlap && t < static_cast<int64_t>(change.size()); ++t)
      boundary[static_cast<size_t>(t)] = true;
  double at_boundaries = 0, inside = 0;
  int nb = 0, ni = 0;
  for (size_t t = 0; t < change.size(); ++t) {
    (boundary[t] ? at_boundaries : inside) += change[t];
    (boundary[t] ? nb : ni) += 1;
  }
  at_boundaries /= nb;
  inside /= ni;
  std::printf("mean frame-to-frame change: at chunk boundaries %.3f, inside chunks %.3f (ratio %.2f)\n", at_boundaries,
              inside, at_boundaries / inside);
  EXPECT_LE(at_boundaries, 1.5 * inside);
}

}  // namespace
}  // namespace thg
