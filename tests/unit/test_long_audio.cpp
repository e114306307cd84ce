// Long audio: generation in overlapping chunks keeps peak memory flat in the audio length and
// leaves no seams at chunk boundaries.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "eval/metrics.h"
#include "io/media_writers.h"
#include "io/video_reader.h"
#include "model/talking_head.h"
#include "engine/generate.h"
#include "test_util.h"

namespace thg {
namespace {

namespace fs = std::filesystem;

void write_speechlike_wav(const fs::path& path, double seconds) {
  test::write_mono_wav(path, seconds, [](double t) {
    const double syllables = 0.5 + 0.5 * std::sin(2 * M_PI * 3.0 * t);  // ~6 syllables per second
    return 0.4 * syllables * std::sin(2 * M_PI * 150.0 * t * (1 + 0.2 * syllables));
  });
}


// Peak memory against the audio's length, at the default model's 128 px and 25 fps, over three
// lengths. The first run's peak includes one-off growth (thread pools, allocator arenas, the
// encoder's look-ahead filling up), so the slope is taken between the two longer runs: it must be
// far below what keeping the video's frames costs (128 x 128 x 3 bytes x 25 fps = 70 MiB per
// minute, four times that as floats). What does grow with the length is the decoded speech and its
// features, which generation keeps whole (~10 MiB per minute).
TEST(LongAudio, PeakMemoryIsFlatInTheAudioLength) {
  test::ScratchDir dir;
  const std::vector<double> seconds{5.0, 20.0, 35.0};
  // A model far cheaper than tiny.yaml at 128 px (the frames' cost to memory depends on their size,
  // not on the model), run from its config with a seeded random init.
  test::write_file(dir / "micro.yaml", R"(name: thg-micro
image_size: 128
vae: {latent_channels: 4, block_out_channels: [8, 8], layers_per_block: 1, norm_num_groups: 8, scaling_factor: 0.5}
unet:
  in_channels: 8
  out_channels: 4
  block_out_channels: [16, 16]
  down_block_types: [DownBlock2D, CrossAttnDownBlock2D]
  up_block_types: [CrossAttnUpBlock2D, UpBlock2D]
  layers_per_block: 1
  norm_num_groups: 8
  cross_attention_dim: 16
  audio_cross_attention_dim: 16
  temporal_attention_levels: [1]
  temporal_max_frames: 32
  attention_head_dim: [2]
  use_linear_projection: true
audio: {context_frames: 1, dim: 16, layers: 1, heads: 2}
reference: {dim: 16, patch_size: 2}
generation: {steps: 1, chunk_frames: 8}
)");
  std::vector<double> peak_mib;
  for (double length : seconds) {
    const std::string name = std::to_string(static_cast<int>(length)) + "s";
    write_speechlike_wav(dir / (name + ".wav"), length);
    peak_mib.push_back(test::peak_rss_mib({"--quiet", "generate", "--no-crop", "-p", test::data("media/rgb8.png").string(), "-a",
                                   (dir / (name + ".wav")).string(), "-o", (dir / (name + ".mp4")).string(), "--config",
                                   (dir / "micro.yaml").string(), "--size", "128", "--fps", "25", "--device", "cpu"}));
  }
  const double steady_slope = 60.0 * (peak_mib[2] - peak_mib[1]) / (seconds[2] - seconds[1]);
  std::printf("peak RSS: 5 s %.0f MiB, 20 s %.0f MiB, 35 s %.0f MiB: %.1f MiB per minute of audio from 20 to 35 s\n",
              peak_mib[0], peak_mib[1], peak_mib[2], steady_slope);
  EXPECT_LT(steady_slope, 30.0) << "memory grows with the video's length";
  EXPECT_LT(peak_mib[2] - peak_mib[0], 60.0) << "memory grew by more than the one-off growth allows";
  EXPECT_EQ(io::read_video_frames(dir / "35s.mp4", {128, 100000}).size(0), 875);
}

// The same for the default motion-warp model on a real photo: motion per chunk, rendered on the
// 384-px crop and pasted into a 256 x 256 picture (keeping the frames would cost 280 MiB per minute).
// Besides the speech and its features, what grows with the length is the per-frame speech activity
// (4 bytes a frame).
TEST(LongAudio, PeakMemoryIsFlatInTheAudioLengthWithTheMotionModel) {
  const fs::path weights = test::source_root() / "weights/motion.safetensors";
  if (!fs::exists(weights)) GTEST_SKIP() << "no motion weights";
  test::ScratchDir dir;
  const std::vector<double> seconds{5.0, 20.0, 35.0};
  std::vector<double> peak_mib;
  for (double length : seconds) {
    const std::string name = std::to_string(static_cast<int>(length)) + "s";
    write_speechlike_wav(dir / (name + ".wav"), length);
    peak_mib.push_back(test::peak_rss_mib({"--quiet", "generate", "-p", (test::source_root() / "examples/astronaut.png").string(),
                                           "-a", (dir / (name + ".wav")).string(), "-o", (dir / (name + ".mp4")).string(),
                                           "--weights", weights.string(), "--max-size", "256", "--device", "cpu"}));
  }
  const double steady_slope = 60.0 * (peak_mib[2] - peak_mib[1]) / (seconds[2] - seconds[1]);
  std::printf("motion model, peak RSS: 5 s %.0f MiB, 20 s %.0f MiB, 35 s %.0f MiB: %.1f MiB per minute from 20 to 35 s\n",
              peak_mib[0], peak_mib[1], peak_mib[2], steady_slope);
  EXPECT_LT(steady_slope, 30.0) << "memory grows with the video's length";
  EXPECT_LT(peak_mib[2] - peak_mib[0], 60.0) << "memory grew by more than the one-off growth allows";
  EXPECT_EQ(io::read_video_frames(dir / "35s.mp4", {256, 100000}).size(0), 875);
}

// Chunks of 8 frames sharing 2 (the bundled model's defaults) against one chunk holding the whole
// clip. A chunked run deviates from the single chunk a little everywhere (each chunk's temporal
// attention sees other frames); a seam is where that deviation jumps from one frame to the next.
// The jump at the worst chunk boundary (the transitions into, through and out of each cross-faded
// span) must stay within 2x the median jump inside the chunks around it (speech makes every jump
// larger, silence smaller): the worst boundary counts, not an average that the many quiet ones
// dilute. Measured: 1.24x with the cross-fade, 2.30x without it (overlap 0: a hard cut every 8
// frames), which fails here.
TEST(LongAudio, NoSeamsAtChunkBoundariesWithTheBundledModel) {
  const fs::path weights = test::source_root() / "weights/pixel-latent.safetensors";
  if (!fs::exists(weights)) GTEST_SKIP() << "no bundled weights";
  auto model = model::TalkingHeadModel::load(weights);
  test::ScratchDir dir;
  pipeline::GenerateOptions o;
  o.placement.crop = false;  // test media are not photos of faces
  o.portrait = test::source_root() / "examples/portrait.png";
  o.audio = test::source_root() / "examples/speech.wav";
  o.output = dir / "out.mp4";
  o.max_frames = 32;  // the model's temporal attention limit: one chunk can hold it all
  const int64_t chunk = model->config().generation.chunk_frames, overlap = model->config().generation.chunk_overlap;
  ASSERT_EQ(chunk, 8);
  ASSERT_GT(overlap, 0);
  o.chunk_frames = 32;
  const at::Tensor single = test::generated_frames(*model, o).to(at::kFloat);
  o.chunk_frames = chunk;
  o.chunk_overlap = overlap;
  const at::Tensor deviation = test::generated_frames(*model, o).to(at::kFloat) - single;
  ASSERT_EQ(deviation.size(0), 32);

  // Chunk k > 0 starts at frame k * (chunk - overlap); transition t is frame t -> t + 1.
  std::vector<bool> at_boundary(31, false);
  for (int64_t start = chunk - overlap; start < 32; start += chunk - overlap)
    for (int64_t t = start - 1; t <= start + overlap - 1 && t < 31; ++t) at_boundary[static_cast<size_t>(t)] = true;
  std::vector<double> jump;
  for (int64_t t = 0; t < 31; ++t) jump.push_back((deviation[t + 1] - deviation[t]).abs().mean().item<double>());
  // Each boundary transition against the median jump of the transitions inside chunks within 6
  // frames of it: speech makes the jumps larger and silence smaller, so the comparison is local.
  double worst = 0;
  int64_t worst_at = -1;
  for (int64_t t = 0; t < 31; ++t) {
    if (!at_boundary[static_cast<size_t>(t)]) continue;
    std::vector<double> near;
    for (int64_t u = std::max<int64_t>(0, t - 6); u <= std::min<int64_t>(30, t + 6); ++u)
      if (!at_boundary[static_cast<size_t>(u)]) near.push_back(jump[static_cast<size_t>(u)]);
    std::nth_element(near.begin(), near.begin() + static_cast<long>(near.size() / 2), near.end());
    const double ratio = jump[static_cast<size_t>(t)] / near[near.size() / 2];
    if (ratio > worst) worst = ratio, worst_at = t;
  }
  std::printf("jump of the chunked run's deviation at the worst chunk boundary (frame %lld): %.2fx the median jump "
              "inside chunks around it\n",
              static_cast<long long>(worst_at), worst);
  EXPECT_LT(worst, 2.0) << "a seam at frame " << worst_at;
}

}  // namespace
}  // namespace thg
