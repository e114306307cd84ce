// Noise schedule and DDIM basics (the full diffusers parity suite is the samplers issue).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "sched/ddim.h"
#include "sched/schedule.h"
#include "sched/scheduler.h"
#include "test_util.h"

namespace thg {
namespace {

TEST(Schedule, SpacingMatchesDiffusersAtTenSteps) {
  // SD1.5's schedule at 10 steps, as diffusers produces it: leading 901..1, trailing 999..99,
  // linspace 999..0.
  sched::ScheduleConfig c;
  c.timestep_spacing = "leading";
  EXPECT_EQ(sched::spaced_timesteps(c, 10), (std::vector<int64_t>{901, 801, 701, 601, 501, 401, 301, 201, 101, 1}));
  c.timestep_spacing = "trailing";
  EXPECT_EQ(sched::spaced_timesteps(c, 10), (std::vector<int64_t>{999, 899, 799, 699, 599, 499, 399, 299, 199, 99}));
  c.timestep_spacing = "linspace";
  EXPECT_EQ(sched::spaced_timesteps(c, 10), (std::vector<int64_t>{999, 888, 777, 666, 555, 444, 333, 222, 111, 0}));
}

TEST(Schedule, AlphasCumprodIsDecreasingAndMatchesKnownEnds) {
  auto a = sched::alphas_cumprod(sched::ScheduleConfig{});
  ASSERT_EQ(a.size(), 1000u);
  EXPECT_NEAR(a.front(), 1 - 0.00085, 1e-7);
  for (size_t i = 1; i < a.size(); ++i) ASSERT_LT(a[i], a[i - 1]);
  // SD1.5's final alpha_bar is about 0.0047.
  EXPECT_NEAR(a.back(), 0.00466, 2e-4);
}

TEST(Schedule, RejectsTooManySteps) {
  sched::ScheduleConfig c;
  test::expect_input_error([&] { sched::spaced_timesteps(c, 1001); }, "", "--steps 1001 exceeds the schedule's 1000");
  test::expect_input_error([&] { sched::spaced_timesteps(c, 0); }, "", "--steps must be at least 1");
}

TEST(Ddim, RecoversTheCleanSampleFromTrueNoise) {
  // If the model predicts the exact noise of x_t = sqrt(a) x0 + sqrt(1 - a) eps, deterministic
  // DDIM stays on that trajectory and, with set_alpha_to_one, ends exactly at x0.
  sched::ScheduleConfig c;
  c.set_alpha_to_one = true;
  sched::DdimScheduler ddim(c, 0.0);
  ddim.set_timesteps(20);
  at::Tensor x0 = at::randn({2, 4, 8, 8}, at::kDouble);
  at::Tensor eps = at::randn({2, 4, 8, 8}, at::kDouble);
  auto ac = sched::alphas_cumprod(c);
  const double a = ac[static_cast<size_t>(ddim.timesteps()[0])];
  at::Tensor x = std::sqrt(a) * x0 + std::sqrt(1 - a) * eps;
  const sched::NoiseFn no_noise = [](const at::Tensor&) -> at::Tensor {
    ADD_FAILURE() << "deterministic DDIM drew noise";
    return {};
  };
  for (size_t i = 0; i < ddim.timesteps().size(); ++i) x = ddim.step(eps, i, x, no_noise);
  EXPECT_LT((x - x0).abs().max().item<double>(), 1e-6);
}

TEST(Ddim, SeededNoiseIsReproducible) {
  sched::DdimScheduler ddim(sched::ScheduleConfig{}, 1.0);
  ddim.set_timesteps(5);
  at::Tensor x = at::randn({1, 4, 4, 4});
  at::Generator g1 = at::make_generator<at::CPUGeneratorImpl>(7), g2 = at::make_generator<at::CPUGeneratorImpl>(7),
                g3 = at::make_generator<at::CPUGeneratorImpl>(8);
  at::Tensor a = ddim.step(x, 0, x, sched::gaussian_noise(g1));
  EXPECT_TRUE(at::equal(a, ddim.step(x, 0, x, sched::gaussian_noise(g2))));
  EXPECT_FALSE(at::equal(a, ddim.step(x, 0, x, sched::gaussian_noise(g3))));
}

TEST(Samplers, UnknownNamesAndUnsupportedOptionsAreClearErrors) {
  sched::SamplerOptions o;
  test::expect_input_error([&] { sched::make_scheduler("dpm++", o); }, "", "valid: ddim, ddpm, euler");
  o.karras = true;
  test::expect_input_error([&] { sched::make_scheduler("ddim", o); }, "", "does not support --schedule karras");
  o.karras = false;
  test::expect_input_error([&] { sched::make_scheduler("flow-euler", o); }, "", "prediction_type epsilon");
  o.schedule.prediction_type = "sample";
  test::expect_input_error([&] { sched::make_scheduler("euler-ancestral", o); }, "", "prediction_type sample");
  o.schedule.prediction_type = "epsilon";
  for (const auto& info : sched::samplers()) {
    if (std::string(info.name) == "flow-euler") continue;
    auto s = sched::make_scheduler(info.name, o);
    test::expect_input_error([&] { s->set_timesteps(1001); }, "", "1001");
  }
}

}  // namespace
}  // namespace thg
