// Classifier-free guidance with separate reference and audio scales.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "sched/guidance.h"
#include "test_util.h"

namespace thg {
namespace {

TEST(Guidance, MatchesTheTwoScaleFormula) {
  at::Tensor u = at::randn({2, 4, 3, 3}), r = at::randn({2, 4, 3, 3}), f = at::randn({2, 4, 3, 3});
  sched::GuidanceScales s{2.5, 4.0, 0.0};
  at::Tensor expected = u + 2.5 * (r - u) + 4.0 * (f - r);
  EXPECT_TRUE(at::allclose(sched::combine_guidance(u, r, f, s), expected, 1e-5, 1e-5));
}

TEST(Guidance, ScalesOfOneSkipBranches) {
  at::Tensor r = at::randn({2, 4}), f = at::randn({2, 4});
  auto none = sched::guidance_branches({1.0, 1.0, 0.0});
  EXPECT_EQ(none.count(), 1);
  EXPECT_TRUE(at::equal(sched::combine_guidance({}, {}, f, {1.0, 1.0, 0.7}), f));
  auto audio_only = sched::guidance_branches({1.0, 3.0, 0.0});
  EXPECT_FALSE(audio_only.uncond);
  EXPECT_TRUE(audio_only.reference);
  EXPECT_TRUE(at::allclose(sched::combine_guidance({}, r, f, {1.0, 3.0, 0.0}), r + 3.0 * (f - r)));
  EXPECT_EQ(sched::guidance_branches({2.0, 1.0, 0.0}).count(), 3);
}

TEST(Guidance, RescaleRestoresTheConditionalStd) {
  at::Tensor u = at::randn({3, 16}), r = at::randn({3, 16}), f = at::randn({3, 16});
  at::Tensor full_rescale = sched::combine_guidance(u, r, f, {3.0, 5.0, 1.0});
  EXPECT_TRUE(at::allclose(full_rescale.std(1), f.std(1), 1e-4, 1e-5));
  at::Tensor none = sched::combine_guidance(u, r, f, {3.0, 5.0, 0.0});
  at::Tensor half = sched::combine_guidance(u, r, f, {3.0, 5.0, 0.5});
  EXPECT_TRUE(at::allclose(half, 0.5 * none + 0.5 * full_rescale, 1e-5, 1e-5));
}

TEST(Guidance, RejectsBadScales) {
  test::expect_input_error([] { sched::GuidanceScales{-1, 1, 0}.validate(); }, "", "between 0 and 30");
  test::expect_input_error([] { sched::GuidanceScales{1, 1, 2}.validate(); }, "", "--guidance-rescale");
}

}  // namespace
}  // namespace thg
