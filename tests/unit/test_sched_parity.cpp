// Parity with diffusers' schedulers: every sampler x prediction type x spacing x Karras x steps in
// {1, 2, 5, 10, 25, 50}, driven by a linear and a non-linear analytic model, with diffusers' noise
// replayed (tests/reference/sched_reference.py). Every step's sample must match in float32 to a
// relative error of 1e-5, measured as max|ours - theirs| / max(max|theirs|, max|step input|):
// float32 rounding in a step scales with its largest operand, and a few extreme steps (1-2 steps
// from sigma 14.6, Heun's corrector) return a result 15-250x smaller than their input, where one
// ulp of a coefficient exceeds 1e-5 of the output. The error relative to the output alone is
// printed too. Each step starts from diffusers' previous sample, so the error of that step is
// measured, not accumulated drift.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "sched/scheduler.h"
#include "test_util.h"

namespace thg {
namespace {

constexpr double kTolerance = 1e-5;

at::Tensor analytic_model(const std::string& kind, const at::Tensor& x, double t_value) {
  at::Tensor t = at::scalar_tensor(t_value, at::kFloat);
  if (kind == "linear") return x * t / (t + 1);
  return at::tanh(1.3 * x) * (0.5 + 0.5 * at::cos(t / 250)) + 0.05 * x * at::sin(t / 100);
}

TEST(SchedulerParity, EveryStepMatchesDiffusers) {
  const auto path = test::reference_data("sched.safetensors");
  if (path.empty()) GTEST_SKIP() << "no reference Python (torch + diffusers) configured for this build";
  io::SafetensorsFile file = io::SafetensorsFile::open(path);
  const auto cases = nlohmann::json::parse(file.metadata().at("cases"));
  const auto base = nlohmann::json::parse(file.metadata().at("base"));
  std::map<std::string, double> worst;
  std::map<std::string, int> counted;
  std::map<std::string, double> output_worst;  // relative to the output alone (exact-zero outputs excluded)
  int failures = 0;
  for (const auto& c : cases) {
    const std::string key = c["key"], name = c["sampler"];
    sched::SamplerOptions o;
    o.schedule.num_train_timesteps = base["num_train_timesteps"];
    o.schedule.beta_start = base["beta_start"];
    o.schedule.beta_end = base["beta_end"];
    o.schedule.beta_schedule = base["beta_schedule"];
    o.schedule.steps_offset = base["steps_offset"];
    o.schedule.prediction_type = c["prediction_type"];
    o.schedule.timestep_spacing = c["spacing"];
    o.karras = c["karras"];
    o.eta = c["eta"];
    o.flow_shift = c["shift"];
    auto s = sched::make_scheduler(name, o);
    s->set_timesteps(c["steps"].get<int64_t>());

    const at::Tensor ref_t = file.load(key + "/timesteps"), samples = file.load(key + "/samples"),
                     noise = file.load(key + "/noise");
    const double ref_sigma = file.load(key + "/init_sigma").item<double>();
    ASSERT_EQ(static_cast<int64_t>(s->timesteps().size()), ref_t.size(0)) << key;
    for (size_t i = 0; i < s->timesteps().size(); ++i)
      ASSERT_NEAR(s->timesteps()[i], ref_t[i].item<double>(), 1e-3) << key << " timestep " << i;
    ASSERT_NEAR(s->init_noise_sigma(), ref_sigma, 1e-5 * ref_sigma) << key;

    int64_t drawn = 0;
    const sched::NoiseFn replay = [&](const at::Tensor& like) {
      EXPECT_LT(drawn, noise.size(0)) << key << ": drew more noise than diffusers";
      return noise[std::min(drawn++, noise.size(0) - 1)].to(like.options());
    };
    at::Tensor x = samples[0].clone();
    double case_worst = 0;
    for (size_t i = 0; i < s->timesteps().size(); ++i) {
      at::Tensor out = analytic_model(c["model"], s->scale_model_input(x, i), s->timesteps()[i]);
      x = s->step(out, i, x, replay);
      // Continue from the reference sample so one step's error is measured, not the accumulated drift.
      const at::Tensor expected = samples[static_cast<int64_t>(i) + 1];
      const double diff = (x - expected).abs().max().item<double>();
      const double out_scale = expected.abs().max().item<double>();
      const double in_scale = samples[static_cast<int64_t>(i)].abs().max().item<double>();
      case_worst = std::max(case_worst, diff / std::max(out_scale, in_scale));
      if (out_scale > 1e-3 * in_scale) output_worst[name] = std::max(output_worst[name], diff / out_scale);
      x = expected.clone();
    }
    EXPECT_EQ(drawn, noise.size(0)) << key << ": drew a different amount of noise than diffusers";
    if (case_worst > kTolerance && ++failures <= 20) ADD_FAILURE() << key << " max relative error " << case_worst;
    worst[name] = std::max(worst[name], case_worst);
    counted[name]++;
  }
  for (const auto& [name, err] : worst)
    std::printf("[parity] sampler %-16s %4d cases, worst step relative error %.3g (bound %.0e); relative to the"
                " output alone %.3g\n",
                name.c_str(), counted[name], err, kTolerance, output_worst[name]);
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace thg
