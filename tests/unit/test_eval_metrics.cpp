// Evaluation metrics: known values and the invariants they must keep.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "eval/metrics.h"

namespace thg {
namespace {

at::Tensor random_frames(int64_t n, int64_t s, uint64_t seed) {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randint(0, 256, {n, s, s, 3}, g, at::kByte);
}

TEST(Metrics, PsnrOfAConstantOffset) {
  at::Tensor a = at::full({2, 16, 16, 3}, 100, at::kByte);
  at::Tensor b = at::full({2, 16, 16, 3}, 110, at::kByte);
  EXPECT_NEAR(eval::psnr(a, b), 20.0 * std::log10(255.0 / 10.0), 1e-9);
  EXPECT_EQ(eval::psnr(a, a), 100.0);
  EXPECT_THROW(eval::psnr(a, b.slice(0, 0, 1)), std::exception);
}

TEST(Metrics, SsimIsOneForIdenticalAndDropsWithNoise) {
  // A smooth image (a gradient), where noise is structure the reference does not have.
  at::Tensor ramp = at::arange(32, at::kFloat).mul(6).add(30).view({1, 1, 32, 1});
  at::Tensor a = (ramp + ramp.transpose(1, 2)).div(2).expand({2, 32, 32, 3}).to(at::kByte).contiguous();
  EXPECT_NEAR(eval::ssim(a, a), 1.0, 1e-6);
  at::Tensor noisy = (a.to(at::kInt) + at::randint(-40, 40, a.sizes(), at::kInt)).clamp(0, 255).to(at::kByte);
  const double s = eval::ssim(noisy, a);
  EXPECT_LT(s, 0.95);
  EXPECT_GT(s, 0.0);
}

TEST(Metrics, PearsonSignsAndDegenerateCases) {
  EXPECT_NEAR(eval::pearson({1, 2, 3, 4}, {2, 4, 6, 8}), 1.0, 1e-12);
  EXPECT_NEAR(eval::pearson({1, 2, 3, 4}, {8, 6, 4, 2}), -1.0, 1e-12);
  EXPECT_EQ(eval::pearson({1, 1, 1}, {1, 2, 3}), 0.0);
  EXPECT_EQ(eval::pearson({1}, {1}), 0.0);
}

TEST(Metrics, TemporalErrorIsZeroForTheSameMotionAndSeesFrozenVideo) {
  at::Tensor moving = random_frames(4, 8, 2);
  EXPECT_EQ(eval::temporal_error(moving, moving), 0.0);
  at::Tensor frozen = moving[0].unsqueeze(0).expand({4, -1, -1, -1}).contiguous();
  EXPECT_GT(eval::temporal_error(frozen, moving), 10.0);
  EXPECT_EQ(eval::frame_changes(frozen), std::vector<double>(3, 0.0));
}

TEST(Metrics, MouthOpeningCountsDarkPixelsInsideTheBoxOnly) {
  at::Tensor frames = at::full({2, 20, 20, 3}, 200, at::kByte);
  frames[1].slice(0, 5, 10).slice(1, 5, 10).fill_(0);   // a dark 5x5 patch inside the box
  frames[0].slice(0, 15, 20).slice(1, 15, 20).fill_(0); // and one outside it
  at::Tensor boxes = at::tensor(std::vector<int64_t>{0, 0, 10, 10, 0, 0, 10, 10}).view({2, 4});
  const auto open = eval::mouth_opening(frames, boxes);
  EXPECT_EQ(open[0], 0.0);
  EXPECT_NEAR(open[1], 25.0 / 100.0, 1e-6);
}

}  // namespace
}  // namespace thg
