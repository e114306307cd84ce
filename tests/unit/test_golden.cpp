// The bundled model's frames against frames saved before the engine became a library of families
// (issue 20): same inputs and seed, same pixels. The golden frames in tests/data/golden/default_model
// were written by `thg generate` at commit 0b751c6 (before the refactor, itself bit-identical to
// 45a8d39's with --no-crop) with the options below; regenerate them only for an intended change of
// the default model's output, and say so in the commit.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cstdio>

#include "engine/generate.h"
#include "engine/model_loader.h"
#include "io/image.h"
#include "model/talking_head.h"
#include "test_util.h"

namespace thg {
namespace {

TEST(Golden, PixelLatentModelFramesAreThoseOfBeforeTheEngineRefactor) {
  pipeline::ModelSource pixel_latent;
  pixel_latent.weights = model::default_model_paths().pixel_latent_weights;
  ASSERT_TRUE(std::filesystem::exists(pixel_latent.weights)) << pixel_latent.weights << " is missing";
  pipeline::LoadedModel loaded = pipeline::load_model(pixel_latent);
  pipeline::GenerateOptions o;
  o.portrait = test::data("photos/astronaut.png");
  o.audio = test::data("media/speech_2s.m4a");
  o.placement.framing = "square";
  o.placement.max_size = 160;
  o.max_frames = 6;
  o.chunk_frames = 4;  // two chunks sharing a cross-faded frame
  o.chunk_overlap = 1;
  o.seed = 3;
  const at::Tensor frames = test::generated_frames(*loaded.model, o).to(at::kInt);
  ASSERT_EQ(frames.size(0), 6);
  int64_t differing = 0, total = 0;
  int max_diff = 0;
  double sum_diff = 0;
  for (int64_t i = 0; i < frames.size(0); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "golden/default_model/%02lld.png", static_cast<long long>(i));
    io::RgbaImage g = io::decode_image_rgba(test::data(name));
    ASSERT_EQ(g.width, frames.size(2));
    ASSERT_EQ(g.height, frames.size(1));
    at::Tensor golden = at::from_blob(g.pixels.data(), {g.height, g.width, 4}, at::kByte).slice(2, 0, 3).to(at::kInt);
    const at::Tensor diff = (frames[i] - golden).abs();
    differing += diff.ne(0).sum().item<int64_t>();
    total += diff.numel();
    max_diff = std::max(max_diff, diff.max().item<int>());
    sum_diff += diff.sum().item<double>();
  }
  const double mean_diff = sum_diff / static_cast<double>(total);
  std::printf("golden: %lld of %lld values differ (max %d, mean %.4f levels)%s\n", static_cast<long long>(differing),
              static_cast<long long>(total), max_diff, mean_diff, differing == 0 ? ": bit-identical" : "");
  // Bit-identical on the machine that wrote them; another CPU's vector units may round a float
  // differently, which moves a value by a level, never more than a couple (any change of noise,
  // sampler, conditioning or paste-back moves thousands of values by tens of levels).
  EXPECT_LE(max_diff, 2);
  EXPECT_LE(mean_diff, 0.01);
}

}  // namespace
}  // namespace thg
