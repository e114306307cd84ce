#include "train/trainer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/cancel.h"
#include "core/error.h"
#include "core/log.h"
#include "train/checkpoint.h"
#include "train/objective.h"

namespace thg::train {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

fs::path stage_checkpoint(const fs::path& out, const std::string& stage) { return out / (stage + ".ckpt.safetensors"); }
fs::path stage_result(const fs::path& out, const std::string& stage) { return out / (stage + ".safetensors"); }

namespace {

std::string duration_text(double seconds) {
  char buf[32];
  if (seconds >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(seconds / 3600), static_cast<int>(seconds / 60) % 60);
  else std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(seconds / 60), static_cast<int>(seconds) % 60);
  return buf;
}

// Copies every parameter of `from` into `to`, across devices (same architecture: the same names and
// shapes, in the same order). `where` names the source file and `target` the model in the error.
void copy_all_parameters(model::TalkingHeadModel& from, model::TalkingHeadModel& to, const fs::path& where,
                         const std::string& target) {
  auto src = from.named_parameters();
  auto dst = to.named_parameters();
  const auto differs = [&](const std::string& what) {
    return Error::input(where.string(), "its architecture differs from " + target + ": " + what);
  };
  if (src.size() != dst.size())
    throw differs(std::to_string(src.size()) + " parameters, against " + std::to_string(dst.size()));
  for (size_t i = 0; i < dst.size(); ++i)
    if (src[i].first != dst[i].first || !src[i].second->sizes().equals(dst[i].second->sizes()))
      throw differs("parameter " + src[i].first + " does not match " + dst[i].first);
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < dst.size(); ++i) dst[i].second->copy_(*src[i].second);
}

// Saves `trained`'s weights with another config of the same architecture (only fields that do not
// shape parameters differ: the latent scale, generation defaults).
void save_under_config(model::TalkingHeadModel& trained, const model::ModelConfig& config, const fs::path& path,
                       c10::ScalarType dtype) {
  model::TalkingHeadModel copy(config);
  copy_all_parameters(trained, copy, path, "the config it is saved under (" + config.name + ")");
  copy.save(path, dtype);
}

// Stage 1's result with the measured latent scale written into its config.
void save_vae_result(model::TalkingHeadModel& trained, const std::vector<TrainingClip>& clips, const fs::path& path) {
  model::ModelConfig config = trained.config();
  const double std_dev = latent_std(trained, clips, 512);
  config.vae.scaling_factor = 1.0 / std::max(std_dev, 1e-3);
  save_under_config(trained, config, path, at::kFloat);
  std::fprintf(stderr, "vae: latent std %.4f -> scaling_factor %.4f\n", std_dev, config.vae.scaling_factor);
}

// The unet stage's starting model when the recipe warm-starts from `init`: the recipe's model
// (scheduler, generation) with all of init's weights and its latent scale.
std::unique_ptr<model::TalkingHeadModel> warm_start_model(const Recipe& r) {
  std::error_code ec;
  if (!fs::is_regular_file(r.init, ec))
    throw Error::input(r.init.string(), "the recipe's init model is missing (train the run it continues first)");
  auto init = model::TalkingHeadModel::load(r.init);
  model::ModelConfig config = r.model;
  config.vae.scaling_factor = init->config().vae.scaling_factor;
  auto model = model::TalkingHeadModel::random(config, r.seed + 1);
  copy_all_parameters(*init, *model, r.init, "the recipe's model (" + r.model.name + ")");
  return model;
}

}  // namespace

void export_model(const fs::path& out, const Recipe& recipe, const fs::path& path, c10::ScalarType dtype) {
  auto trained = model::TalkingHeadModel::load(stage_result(out, "unet"));
  model::ModelConfig config = trained->config();
  // Sampling choices come from the recipe's model as it is now, so they can be retuned on a
  // finished run without retraining; what training fixed (noise schedule, prediction type,
  // architecture) comes from the trained model. Training never reads the timestep spacing.
  config.generation = recipe.model.generation;
  config.scheduler.timestep_spacing = recipe.model.scheduler.timestep_spacing;
  config.scheduler.steps_offset = recipe.model.scheduler.steps_offset;
  // Temporal attention only knows the group length it was trained on: generate in chunks of it.
  config.generation.chunk_frames = recipe.unet.frames;
  config.generation.chunk_overlap = std::min(config.generation.chunk_overlap, recipe.unet.frames / 2);
  save_under_config(*trained, config, path, dtype);
}

bool run_stage(const TrainOptions& o, const std::string& stage) {
  if (stage != "vae" && stage != "unet") throw Error::input("", "unknown stage '" + stage + "' (vae or unet)");
  const Recipe& r = o.recipe;
  const StageOptions& so = stage == "vae" ? r.vae : r.unet;
  fs::create_directories(o.out);
  if (fs::exists(stage_result(o.out, stage))) {
    std::fprintf(stderr, "%s: already complete (%s)\n", stage.c_str(), stage_result(o.out, stage).c_str());
    return true;
  }

  if (stage == "vae" && !r.init.empty()) {
    std::fprintf(stderr, "vae: skipped, the autoencoder comes from the init model %s\n", r.init.c_str());
    return true;
  }

  // The model at the start of the stage.
  std::unique_ptr<model::TalkingHeadModel> model;
  if (stage == "vae") {
    model = model::TalkingHeadModel::random(r.model, r.seed);
  } else if (!r.init.empty()) {
    model = warm_start_model(r);
  } else {
    const fs::path vae = stage_result(o.out, "vae");
    if (!fs::exists(vae)) throw Error::input(vae.string(), "the unet stage needs the vae stage's result (run it first)");
    auto trained_vae = model::TalkingHeadModel::load(vae);
    // The recipe's model (UNet, scheduler, generation) with the VAE stage's autoencoder and its
    // measured latent scale; the non-VAE parts start from the recipe's seeded init.
    model::ModelConfig config = r.model;
    config.vae.scaling_factor = trained_vae->config().vae.scaling_factor;
    if (model::to_yaml(config.vae) != model::to_yaml(trained_vae->config().vae) ||
        config.image_size != trained_vae->config().image_size)
      throw Error::input(vae.string(), "its autoencoder differs from the recipe's model (" + r.model.name +
                                           "): train the vae stage with this recipe");
    model = model::TalkingHeadModel::random(config, r.seed + 1);
    auto dst = model->named_parameters();
    auto src = trained_vae->named_parameters();
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < dst.size(); ++i)
      if (dst[i].first.rfind("vae.", 0) == 0) dst[i].second->copy_(*src[i].second);
  }
  model->to(o.device, at::kFloat);

  const auto load_start = Clock::now();
  std::vector<TrainingClip> clips = load_training_clips(o.dataset, model->config(), model->audio_window(), r.max_clips);
  if (stage == "unet") encode_clip_latents(*model, clips);
  std::fprintf(stderr, "%s: %zu clips ready in %.0f s\n", stage.c_str(), clips.size(),
               std::chrono::duration<double>(Clock::now() - load_start).count());

  std::unique_ptr<StageObjective> objective =
      stage == "vae" ? make_vae_objective(*model, so, clips) : make_unet_objective(*model, so, clips);
  NamedParams params = objective->params();
  {
    at::NoGradGuard no_grad;
    for (auto& [name, t] : params) t->requires_grad_(true);
  }
  AdamW optimizer(params, AdamWOptions{so.lr, 0.9, 0.999, 1e-8, so.weight_decay, 1.0});
  Ema ema(params, so.ema_decay);
  int64_t step = 0;
  const fs::path ckpt = stage_checkpoint(o.out, stage);
  if (o.resume && fs::exists(ckpt)) {
    CheckpointState s = load_checkpoint(ckpt, *model);
    if (s.stage != stage) throw Error::input(ckpt.string(), "is a checkpoint of stage " + s.stage);
    step = s.step;
    for (const auto& param : objective->objective_params()) {
      const std::string& name = param.first;
      auto it = std::find_if(s.objective.begin(), s.objective.end(), [&](const auto& e) { return e.first == name; });
      if (it == s.objective.end() || !it->second.sizes().equals(param.second->sizes()))
        throw Error::input(ckpt.string(), "checkpoint lacks the objective's " + name + " (another recipe?)");
      at::NoGradGuard no_grad;
      param.second->copy_(it->second);
    }
    optimizer.load_state(s.optimizer, step);
    ema.load_state(s.ema, step);
    std::fprintf(stderr, "%s: resumed at step %lld\n", stage.c_str(), static_cast<long long>(step));
  }
  auto checkpoint = [&] {
    std::vector<std::pair<std::string, at::Tensor>> own;
    for (auto& [name, t] : objective->objective_params()) own.emplace_back(name, *t);
    save_checkpoint(ckpt, *model, CheckpointState{stage, step, optimizer.state(), ema.state(), std::move(own)});
  };

  const auto start = Clock::now();
  const int64_t first = step;
  double loss_avg = 0;
  int64_t loss_n = 0;
  while (step < so.steps) {
    if (interrupt_requested() || (o.max_steps_this_run > 0 && step - first >= o.max_steps_this_run)) {
      checkpoint();
      std::fprintf(stderr, "%s: stopped at step %lld; checkpoint %s (run again to resume)\n", stage.c_str(),
                   static_cast<long long>(step), ckpt.c_str());
      throw_if_interrupted();
      return false;
    }
    // The batch of step k depends only on (seed, stage, k): resuming changes nothing.
    const uint64_t batch_step = o.repeat_first_batch ? 0 : static_cast<uint64_t>(step);
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(r.seed * 1000003ULL + (stage == "vae" ? 17 : 29) +
                                                                 batch_step * 7919ULL);
    optimizer.zero_grad();
    at::Tensor loss = objective->loss(gen);
    const double value = loss.item<double>();
    if (!std::isfinite(value)) throw Error::failure(ckpt.string(), "the loss diverged (non-finite) at step " + std::to_string(step));
    loss.backward();
    const double lr = learning_rate(so, step);
    const double grad_norm = optimizer.step(lr);
    ema.update(params);
    ++step;
    if (o.on_step) o.on_step(step, value);
    loss_avg += value;
    ++loss_n;
    if (step % r.log_every == 0 || step == so.steps) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      const double rate = static_cast<double>(step - first) / std::max(elapsed, 1e-9);
      std::fprintf(stderr, "%s step %lld/%lld  loss %.5f%s  grad %.3f  lr %.2e  %.1f %s/s  elapsed %s  eta %s\n",
                   stage.c_str(), static_cast<long long>(step), static_cast<long long>(so.steps), loss_avg / loss_n,
                   objective->loss_detail().c_str(),
                   grad_norm, lr, rate * static_cast<double>(objective->items_per_step()), objective->item_name(),
                   duration_text(elapsed).c_str(), duration_text(static_cast<double>(so.steps - step) / rate).c_str());
      loss_avg = 0;
      loss_n = 0;
    }
    if (step % r.checkpoint_every == 0 && step < so.steps) checkpoint();
  }

  // The stage's result: for the UNet the EMA weights, for the VAE the weights with its latent scale.
  {
    at::NoGradGuard no_grad;
    for (auto& [name, t] : params) t->requires_grad_(false);
  }
  if (stage == "unet") {
    ema.copy_to(params);
    model->save(stage_result(o.out, stage), at::kFloat);
  } else {
    save_vae_result(*model, clips, stage_result(o.out, stage));
  }
  std::fprintf(stderr, "%s: complete -> %s\n", stage.c_str(), stage_result(o.out, stage).c_str());
  return true;
}

}  // namespace thg::train
