// The forward process that training and sampling share (sched/targets): noising and targets equal
// diffusers' (DDPMScheduler.add_noise / get_velocity, FlowMatchEulerDiscreteScheduler.scale_noise),
// the flow sampler inverts the flow target exactly, and a model whose sampler cannot invert its
// target is refused in one line.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "io/safetensors.h"
#include "model/config.h"
#include "sched/flow_euler.h"
#include "sched/targets.h"
#include "test_util.h"

namespace thg {
namespace {

sched::ScheduleConfig ddpm(const std::string& prediction_type) {
  sched::ScheduleConfig c;
  c.num_train_timesteps = 1000;
  c.beta_start = 0.00085;
  c.beta_end = 0.012;
  c.beta_schedule = "scaled_linear";
  c.prediction_type = prediction_type;
  return c;
}

TEST(Targets, NoisingAndTargetsMatchDiffusers) {
  const auto path = test::reference_data("targets.safetensors");
  if (path.empty()) GTEST_SKIP() << "no reference Python (torch + diffusers) configured for this build";
  io::SafetensorsFile file = io::SafetensorsFile::open(path);
  const at::Tensor clean = file.load("clean"), noise = file.load("noise"), t = file.load("t");
  // float32 on both sides from float64 alphas: agreement to float rounding.
  const sched::NoisedBatch eps = sched::noise_for_training(ddpm("epsilon"), clean, noise, t);
  EXPECT_LT(test::max_relative_error(eps.noisy, file.load("ddpm_noisy")), 1e-6);
  EXPECT_TRUE(eps.target.equal(noise));
  EXPECT_TRUE(eps.model_timestep.equal(t.to(at::kFloat)));
  const sched::NoisedBatch v = sched::noise_for_training(ddpm("v_prediction"), clean, noise, t);
  EXPECT_LT(test::max_relative_error(v.target, file.load("ddpm_velocity")), 1e-6);
  EXPECT_TRUE(sched::noise_for_training(ddpm("sample"), clean, noise, t).target.equal(clean));

  const sched::NoisedBatch flow = sched::noise_for_training(ddpm("flow"), clean, noise, t);
  EXPECT_LT(test::max_relative_error(flow.noisy, file.load("flow_noisy")), 1e-6);
  EXPECT_TRUE(flow.model_timestep.equal(file.load("flow_timesteps")));
  EXPECT_TRUE(flow.target.equal(noise - clean));
}

// Training's flow target is the velocity the flow sampler integrates: one Euler step from pure
// noise with the exact target as the model's output lands on the clean sample.
TEST(Targets, TheFlowSamplerInvertsTheFlowTarget) {
  at::Tensor clean = at::randn({2, 4, 8, 8}), noise = at::randn({2, 4, 8, 8});
  const sched::NoisedBatch b = sched::noise_for_training(ddpm("flow"), clean, noise, at::full({2}, 999, at::kLong));
  EXPECT_TRUE(b.noisy.allclose(noise, 0, 1e-6));  // sigma = 1 at the last training timestep
  sched::FlowEulerScheduler s(1000, 1.0);
  s.set_timesteps(1);
  const at::Tensor x0 = s.step(b.target, 0, b.noisy, nullptr);
  EXPECT_LT((x0 - clean).abs().max().item<double>(), 1e-5);
}

TEST(Targets, AModelWhoseSamplerCannotInvertItsTargetIsRefused) {
  test::expect_input_error([] { sched::check_sampler_inverts(ddpm("flow"), "ddim"); }, "", "cannot be sampled by");
  sched::check_sampler_inverts(ddpm("flow"), "flow-euler");
  sched::check_sampler_inverts(ddpm("v_prediction"), "dpmpp-2m");
  test::expect_input_error([] { sched::check_sampler_inverts(ddpm("epsilon"), "flow-euler"); }, "", "flow-euler");
  // In a model config (and so in every training recipe and weights file): one line, before any work.
  model::ModelConfig c = model::load_model_config(test::source_root() / "configs" / "tiny.yaml");
  c.scheduler.prediction_type = "flow";
  c.generation.sampler = "ddim";
  try {
    c.validate();
    ADD_FAILURE() << "a flow model sampled by ddim was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("prediction_type flow cannot be sampled by the model's sampler ddim"),
              std::string::npos)
        << e.what();
  }
  c.generation.sampler = "flow-euler";
  c.validate();
}

}  // namespace
}  // namespace thg
