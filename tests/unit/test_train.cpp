// thg-train's pieces: recipes, the optimiser, and short real training runs on a tiny model and a
// tiny synthetic dataset (losses fall, results load, and a resumed run equals an uninterrupted one).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "fake_speech.h"
#include "io/safetensors.h"
#include "model/config.h"
#include "model/talking_head.h"
#include "synth/dataset.h"
#include "test_util.h"
#include "train/adamw.h"
#include "train/recipe.h"
#include "train/trainer.h"

namespace thg {
namespace {

namespace fs = std::filesystem;

std::string tiny_recipe(int64_t vae_steps, int64_t unet_steps) {
  return "model: " + (test::source_root() / "configs/tiny.yaml").string() +
         "\nseed: 3\nmax_clips: 3\ncheckpoint_every: 2\nlog_every: 1\n"
         "vae: {steps: " + std::to_string(vae_steps) + ", batch: 2, lr: 1.0e-3, warmup: 1, crop: 32}\n"
         "unet: {steps: " + std::to_string(unet_steps) + ", batch: 2, frames: 4, lr: 1.0e-3, warmup: 1, drop_all: 0.5, drop_audio: 0.25, "
         "mouth_probe: 0.5}\n";
}

TEST(Recipe, ReadsStagesResolvesTheModelAndRejectsTypos) {
  test::ScratchDir dir;
  test::write_file(dir / "r.yaml", tiny_recipe(4, 6));
  const train::Recipe r = train::load_recipe(dir / "r.yaml");
  EXPECT_EQ(r.model.name, "thg-tiny");
  EXPECT_EQ(r.vae.steps, 4);
  EXPECT_EQ(r.vae.crop, 32);
  EXPECT_EQ(r.unet.frames, 4);
  EXPECT_DOUBLE_EQ(r.unet.drop_all, 0.5);
  EXPECT_DOUBLE_EQ(r.unet.mouth_probe, 0.5);
  EXPECT_DOUBLE_EQ(r.vae.mouth_probe, 0.0);  // off unless asked for
  test::write_file(dir / "neg.yaml", "model: " + (test::source_root() / "configs/tiny.yaml").string() +
                                         "\nunet: {mouth_probe: -1}\n");
  test::expect_input_error([&] { train::load_recipe(dir / "neg.yaml"); }, (dir / "neg.yaml").string() + " (unet)",
                           "out of range");
  test::write_file(dir / "typo.yaml", "model: " + (test::source_root() / "configs/tiny.yaml").string() + "\nvae: {stpes: 3}\n");
  test::expect_input_error([&] { train::load_recipe(dir / "typo.yaml"); }, (dir / "typo.yaml").string() + " (vae)",
                           "unknown field 'stpes'");
  // Found by fuzzing: a model path naming a pipe or device must not block.
  test::write_file(dir / "fifo.yaml", "model: /dev/stdin\n");
  test::expect_input_error([&] { train::load_recipe(dir / "fifo.yaml"); }, "/dev/stdin", "not a regular file");
  test::write_file(dir / "nomodel.yaml", "seed: 1\n");
  test::expect_input_error([&] { train::load_recipe(dir / "nomodel.yaml"); }, (dir / "nomodel.yaml").string(), "model:");
}

TEST(Recipe, LearningRateWarmsUpThenDecaysToATenth) {
  train::StageOptions s;
  s.steps = 100;
  s.warmup = 10;
  s.lr = 1.0;
  EXPECT_NEAR(train::learning_rate(s, 0), 1.0 / 11, 1e-12);
  EXPECT_NEAR(train::learning_rate(s, 10), 1.0, 1e-12);
  EXPECT_NEAR(train::learning_rate(s, 100), 0.1, 1e-12);
  for (int64_t k = 11; k < 100; ++k) EXPECT_LE(train::learning_rate(s, k), train::learning_rate(s, k - 1) + 1e-12);
}

TEST(AdamW, FirstStepsMatchTheClosedForm) {
  // Two steps of AdamW on w with a constant gradient g: the bias-corrected update is lr * g/|g|
  // per step (plus decoupled decay on matrices).
  at::Tensor w = at::tensor({1.0f, -2.0f, 3.0f, 0.5f}).view({2, 2});
  train::NamedParams params{{"w", &w}};
  train::AdamW opt(params, train::AdamWOptions{0.1, 0.9, 0.999, 1e-8, 0.01, 0.0});
  const at::Tensor g = at::tensor({0.5f, -1.0f, 2.0f, -0.25f}).view({2, 2});
  at::Tensor expected = w.clone();
  for (int step = 0; step < 2; ++step) {
    w.mutable_grad() = g.clone();
    opt.step(0.1);
    expected = expected * (1 - 0.1 * 0.01) - 0.1 * g.sign();
  }
  EXPECT_LT((w - expected).abs().max().item<double>(), 1e-5);
  EXPECT_EQ(opt.steps(), 2);
}

TEST(AdamW, ClipsTheGlobalGradientNorm) {
  at::Tensor w = at::zeros({3});
  train::NamedParams params{{"w", &w}};
  train::AdamW opt(params, train::AdamWOptions{0.1, 0.9, 0.999, 1e-8, 0.0, 1.0});
  w.mutable_grad() = at::tensor({30.0f, 40.0f, 0.0f});
  EXPECT_NEAR(opt.step(0.1), 50.0, 1e-4);  // reports the norm before clipping
}

train::TrainOptions options_for(const fs::path& recipe, const fs::path& out) {
  train::TrainOptions o;
  o.recipe = train::load_recipe(recipe);
  o.dataset = test::tiny_synth_dataset() / "train.jsonl";
  o.out = out;
  return o;
}

// Trains both stages of `recipe` into `out`.
train::TrainOptions trained_run(const fs::path& recipe, const fs::path& out) {
  train::TrainOptions o = options_for(recipe, out);
  EXPECT_TRUE(train::run_stage(o, "vae"));
  EXPECT_TRUE(train::run_stage(o, "unet"));
  return o;
}

// How many parameters of two models of one architecture are not `same`; the first few are reported.
int differing_parameters(model::TalkingHeadModel& x, model::TalkingHeadModel& y,
                         const std::function<bool(const at::Tensor&, const at::Tensor&)>& same) {
  auto px = x.named_parameters(), py = y.named_parameters();
  EXPECT_EQ(px.size(), py.size());
  int differing = 0;
  for (size_t i = 0; i < std::min(px.size(), py.size()); ++i)
    if (!same(*px[i].second, *py[i].second) && differing++ < 5) ADD_FAILURE() << "differs: " << px[i].first;
  return differing;
}

// The optimiser, the gradients and each stage's loss are wired right: trained again and again on
// one batch (same clips, noise and timesteps every step), a stage must drive its loss down, and the
// weights it saves must have moved from the seeded initial ones. A no-op or wrong-sign update, a
// detached loss or a result saved from the initial weights fails here.
TEST(Training, EachStageOverfitsOneBatchAndMovesTheWeights) {
  test::ScratchDir dir;
  test::write_file(dir / "r.yaml", "model: " + (test::source_root() / "configs/tiny.yaml").string() +
                                       "\nseed: 3\nmax_clips: 2\ncheckpoint_every: 100\nlog_every: 100\n"
                                       "vae: {steps: 21, batch: 2, lr: 2.0e-3, warmup: 0, crop: 32}\n"
                                       "unet: {steps: 21, batch: 2, frames: 4, lr: 2.0e-3, warmup: 0, drop_all: 0, "
                                       "drop_audio: 0, ema_decay: 0.5}\n");
  train::TrainOptions o = options_for(dir / "r.yaml", dir / "run");
  o.repeat_first_batch = true;
  std::map<int64_t, double> losses;
  o.on_step = [&](int64_t step, double loss) { losses[step] = loss; };
  for (const std::string stage : {"vae", "unet"}) {
    losses.clear();
    ASSERT_TRUE(train::run_stage(o, stage));
    ASSERT_EQ(losses.size(), 21u) << stage;
    std::printf("%s: loss at step 0 %.5f, at step 20 %.5f\n", stage.c_str(), losses[1], losses[21]);
    EXPECT_LT(losses[21], 0.5 * losses[1]) << stage << " did not learn its one batch";
  }
  // The saved weights are trained ones: every parameter the stage trains moved from its seeded
  // initial value (the vae stage starts from seed, the unet stage's non-autoencoder parts from seed + 1).
  auto moved_from = [](model::TalkingHeadModel& trained, model::TalkingHeadModel& initial, bool autoencoder) {
    auto a = trained.named_parameters(), b = initial.named_parameters();
    int same = 0, checked = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      if ((a[i].first.rfind("vae.", 0) == 0) != autoencoder) continue;
      ++checked;
      if (at::allclose(*a[i].second, *b[i].second, 0, 0) && same++ < 5) ADD_FAILURE() << "unchanged: " << a[i].first;
    }
    EXPECT_GT(checked, 0);
    return same;
  };
  auto vae = model::TalkingHeadModel::load(train::stage_result(o.out, "vae"));
  auto vae_init = model::TalkingHeadModel::random(o.recipe.model, o.recipe.seed);
  EXPECT_EQ(moved_from(*vae, *vae_init, true), 0);
  auto full = model::TalkingHeadModel::load(train::stage_result(o.out, "unet"));
  auto unet_init = model::TalkingHeadModel::random(o.recipe.model, o.recipe.seed + 1);
  EXPECT_EQ(moved_from(*full, *unet_init, false), 0);
}

TEST(Training, VaeThenUnetRunAndProduceLoadableModels) {
  test::ScratchDir dir;
  test::write_file(dir / "r.yaml", tiny_recipe(4, 3));
  train::TrainOptions o = options_for(dir / "r.yaml", dir / "run");
  EXPECT_TRUE(train::run_stage(o, "vae"));
  EXPECT_TRUE(train::run_stage(o, "unet"));
  auto vae = model::TalkingHeadModel::load(train::stage_result(o.out, "vae"));
  auto full = model::TalkingHeadModel::load(train::stage_result(o.out, "unet"));
  // The measured latent scale replaced the config's placeholder.
  EXPECT_NE(vae->config().vae.scaling_factor, 0.5);
  EXPECT_EQ(full->config().vae.scaling_factor, vae->config().vae.scaling_factor);
  // The UNet stage trained the UNet and kept the autoencoder frozen.
  auto a = vae->named_parameters(), b = full->named_parameters();
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].first.rfind("vae.", 0) == 0) {
      EXPECT_TRUE(a[i].second->equal(*b[i].second)) << a[i].first;
    }
  }
  // The mouth probe is training state: checkpointed, never in the model file.
  auto has_probe = [](const fs::path& file, const std::string& name) {
    return io::SafetensorsFile::open(file).find(name) != nullptr;
  };
  EXPECT_TRUE(has_probe(train::stage_checkpoint(o.out, "unet"), "objective.mouth_probe.weight"));
  EXPECT_TRUE(has_probe(train::stage_checkpoint(o.out, "unet"), "adam.m.mouth_probe.weight"));
  const io::SafetensorsFile result = io::SafetensorsFile::open(train::stage_result(o.out, "unet"));
  for (const io::TensorEntry& e : result.tensors())
    EXPECT_EQ(e.name.find("probe"), std::string::npos) << e.name;
  // Running a complete stage again is a no-op: it reports complete and rewrites nothing.
  const fs::path result_file = train::stage_result(o.out, "unet"), ckpt_file = train::stage_checkpoint(o.out, "unet");
  const auto result_time = fs::last_write_time(result_file), ckpt_time = fs::last_write_time(ckpt_file);
  const std::string result_bytes = test::read_file(result_file);
  EXPECT_TRUE(train::run_stage(o, "unet"));
  EXPECT_EQ(fs::last_write_time(result_file), result_time);
  EXPECT_EQ(fs::last_write_time(ckpt_file), ckpt_time);
  EXPECT_TRUE(test::read_file(result_file) == result_bytes) << "a complete stage was rewritten";
}

TEST(Training, AnInterruptedAndResumedRunEqualsAnUninterruptedOne) {
  test::ScratchDir dir;
  test::write_file(dir / "r.yaml", tiny_recipe(6, 4));
  const train::TrainOptions straight = trained_run(dir / "r.yaml", dir / "straight");
  ASSERT_FALSE(testing::Test::HasFailure());

  train::TrainOptions parts = options_for(dir / "r.yaml", dir / "parts");
  parts.max_steps_this_run = 4;
  EXPECT_FALSE(train::run_stage(parts, "vae"));  // stops at step 4 with a checkpoint
  EXPECT_TRUE(fs::exists(train::stage_checkpoint(parts.out, "vae")));
  EXPECT_TRUE(train::run_stage(parts, "vae"));   // resumes 4 -> 6
  parts.max_steps_this_run = 3;
  EXPECT_FALSE(train::run_stage(parts, "unet"));
  EXPECT_TRUE(train::run_stage(parts, "unet"));

  auto x = model::TalkingHeadModel::load(train::stage_result(straight.out, "unet"));
  auto y = model::TalkingHeadModel::load(train::stage_result(parts.out, "unet"));
  EXPECT_EQ(differing_parameters(*x, *y, [](const at::Tensor& a, const at::Tensor& b) { return a.equal(b); }), 0);
}

TEST(Training, UnetStageNeedsTheVaeResultAndSaysSo) {
  test::ScratchDir dir;
  test::write_file(dir / "r.yaml", tiny_recipe(2, 2));
  train::TrainOptions o = options_for(dir / "r.yaml", dir / "run");
  test::expect_input_error([&] { train::run_stage(o, "unet"); }, train::stage_result(o.out, "vae").string(),
                           "needs the vae stage");
}

// A recipe with `init:` continues a finished run: the vae stage is skipped and the unet stage starts
// from the init model's weights (checked with a learning rate so small that training cannot move
// them: the result must be the init model, not the recipe's seeded random init).
TEST(Training, WarmStartSkipsTheVaeStageAndStartsFromTheInitModel) {
  test::ScratchDir dir;
  test::write_file(dir / "r.yaml", tiny_recipe(2, 2));
  const train::TrainOptions base = trained_run(dir / "r.yaml", dir / "base");
  ASSERT_FALSE(testing::Test::HasFailure());

  test::write_file(dir / "more.yaml", "model: " + (test::source_root() / "configs/tiny.yaml").string() +
                                          "\ninit: base/unet.safetensors\nseed: 4\nmax_clips: 3\nlog_every: 1\n"
                                          "unet: {steps: 2, batch: 2, frames: 4, lr: 1.0e-12, warmup: 0, mouth_probe: 0.5}\n");
  train::TrainOptions more = options_for(dir / "more.yaml", dir / "more");
  EXPECT_EQ(more.recipe.init, dir / "base/unet.safetensors");
  EXPECT_TRUE(train::run_stage(more, "vae"));
  EXPECT_FALSE(fs::exists(train::stage_result(more.out, "vae")));
  EXPECT_TRUE(train::run_stage(more, "unet"));

  auto init = model::TalkingHeadModel::load(train::stage_result(base.out, "unet"));
  auto result = model::TalkingHeadModel::load(train::stage_result(more.out, "unet"));
  EXPECT_EQ(result->config().vae.scaling_factor, init->config().vae.scaling_factor);
  EXPECT_EQ(differing_parameters(*init, *result,
                                 [](const at::Tensor& a, const at::Tensor& b) { return at::allclose(a, b, 1e-5, 1e-6); }),
            0);
}

// Exporting takes the sampling settings from the recipe's model config as it is at export time
// (so they can be retuned on a finished run) and everything learned or trained-for from the run.
TEST(Training, ExportTakesSamplingSettingsFromTheRecipeAndTheRestFromTheRun) {
  test::ScratchDir dir;
  test::write_file(dir / "r.yaml", tiny_recipe(2, 2));
  train::TrainOptions o = trained_run(dir / "r.yaml", dir / "run");
  ASSERT_FALSE(testing::Test::HasFailure());
  train::Recipe retuned = o.recipe;
  ASSERT_NE(retuned.model.scheduler.timestep_spacing, "trailing");
  retuned.model.scheduler.timestep_spacing = "trailing";
  retuned.model.scheduler.steps_offset = 0;
  retuned.model.generation.steps = 3;
  retuned.model.generation.guidance_audio = 1.25;
  retuned.model.scheduler.num_train_timesteps = 500;  // a training setting: must not be taken
  train::export_model(o.out, retuned, dir / "exported.safetensors", at::kFloat);

  auto trained = model::TalkingHeadModel::load(train::stage_result(o.out, "unet"));
  auto exported = model::TalkingHeadModel::load(dir / "exported.safetensors");
  const model::ModelConfig& c = exported->config();
  EXPECT_EQ(c.scheduler.timestep_spacing, "trailing");
  EXPECT_EQ(c.scheduler.steps_offset, 0);
  EXPECT_EQ(c.generation.steps, 3);
  EXPECT_DOUBLE_EQ(c.generation.guidance_audio, 1.25);
  EXPECT_EQ(c.generation.chunk_frames, 4);  // the recipe's unet.frames
  EXPECT_EQ(c.scheduler.num_train_timesteps, trained->config().scheduler.num_train_timesteps);
  EXPECT_EQ(c.vae.scaling_factor, trained->config().vae.scaling_factor);
  EXPECT_EQ(differing_parameters(*trained, *exported, [](const at::Tensor& a, const at::Tensor& b) { return a.equal(b); }),
            0);
}

TEST(Training, WarmStartFromAMissingOrDifferentModelIsAClearError) {
  test::ScratchDir dir;
  const std::string tiny = (test::source_root() / "configs/tiny.yaml").string();
  test::write_file(dir / "missing.yaml", "model: " + tiny + "\ninit: nowhere.safetensors\nunet: {steps: 1}\n");
  train::TrainOptions o = options_for(dir / "missing.yaml", dir / "run");
  test::expect_input_error([&] { train::run_stage(o, "unet"); }, (dir / "nowhere.safetensors").string(), "missing");

  // A model whose UNet is wider than the recipe's.
  std::string text = test::read_file(test::source_root() / "configs/tiny.yaml");
  const std::string narrow = "block_out_channels: [32, 64]";
  ASSERT_NE(text.find(narrow), std::string::npos);
  text.replace(text.find(narrow), narrow.size(), "block_out_channels: [32, 96]");
  model::TalkingHeadModel::random(model::parse_model_config(text, "wide"), 1)->save(dir / "wide.safetensors", at::kFloat);
  test::write_file(dir / "wide.yaml", "model: " + tiny + "\ninit: wide.safetensors\nunet: {steps: 1}\n");
  o = options_for(dir / "wide.yaml", dir / "run2");
  test::expect_input_error([&] { train::run_stage(o, "unet"); }, (dir / "wide.safetensors").string(),
                           "architecture differs");
}

}  // namespace
}  // namespace thg
