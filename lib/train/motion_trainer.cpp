#include "train/motion_trainer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "audio/mel.h"
#include "core/cancel.h"
#include "core/error.h"
#include "io/audio.h"
#include "model/motion_warp.h"
#include "sched/targets.h"
#include "synth/dataset.h"
#include "synth/landmarks.h"
#include "synth/motion_track.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/speech_augment.h"

namespace thg::train {

namespace fs = std::filesystem;

namespace {

struct MotionClip {
  std::vector<float> speech;  // 16 kHz mono
  at::Tensor motion;          // [N, C] raw
  at::Tensor geometry;        // [kGeometryFeatures]
};

std::vector<MotionClip> load_clips(const fs::path& manifest, int64_t max_clips) {
  std::vector<synth::DatasetClip> rows = synth::read_dataset_manifest(manifest);
  if (max_clips > 0 && static_cast<int64_t>(rows.size()) > max_clips) rows.resize(static_cast<size_t>(max_clips));
  std::vector<MotionClip> clips;
  for (const synth::DatasetClip& row : rows) {
    throw_if_interrupted();
    MotionClip c;
    c.speech = io::resample(io::decode_audio(row.audio), 16000, 1).samples;
    const std::vector<model::MotionFrame> frames = synth::read_motion_csv(row.audio.parent_path() / "motion.csv");
    std::vector<float> flat;
    for (const auto& f : frames) flat.insert(flat.end(), f.begin(), f.end());
    c.motion = at::tensor(flat).view({static_cast<int64_t>(frames.size()), model::kMotionChannels});
    // The face's geometry as a photo would give it: its landmarks at rest.
    const synth::FaceIdentity face = synth::random_identity(row.identity_seed);
    const auto g = model::face_geometry(synth::face_landmarks(face, synth::HeadPose{}, synth::rest_mouth(), 256));
    c.geometry = at::tensor(std::vector<float>(g.begin(), g.end()));
    clips.push_back(std::move(c));
  }
  if (clips.empty()) throw Error::input(manifest.string(), "no clips");
  return clips;
}

}  // namespace

bool train_motion(const TrainOptions& o) {
  const Recipe& r = o.recipe;
  const StageOptions& so = r.motion;
  if (r.model.family != "motion-warp")
    throw Error::input(r.source.string(), "the motion stage needs a model config with family: motion-warp");
  const fs::path result = o.out / "motion.safetensors", ckpt = o.out / "motion.ckpt.safetensors";
  fs::create_directories(o.out);
  if (fs::exists(result)) {
    std::fprintf(stderr, "motion: already complete (%s)\n", result.c_str());
    return true;
  }
  const auto t_load = std::chrono::steady_clock::now();
  std::vector<MotionClip> clips = load_clips(o.dataset, r.max_clips);
  // The normalisation: per-channel mean and std of the training motion, written into the config.
  model::ModelConfig config = r.model;
  {
    std::vector<at::Tensor> all;
    for (const auto& c : clips) all.push_back(c.motion);
    const at::Tensor m = at::cat(all, 0);
    const at::Tensor mean = m.mean(0), std = m.std(0).clamp_min(1e-3);
    config.motion.mean.clear();
    config.motion.std.clear();
    for (int64_t i = 0; i < model::kMotionChannels; ++i) {
      config.motion.mean.push_back(mean[i].item<double>());
      config.motion.std.push_back(std[i].item<double>());
    }
  }
  std::fprintf(stderr, "motion: %zu clips loaded in %.0f s\n", clips.size(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count());

  auto model = model::MotionWarpModel::random(config, r.seed);
  model->to(o.device, at::kFloat);
  NamedParams params = model->named_parameters();
  for (auto& [name, t] : params) t->requires_grad_(true);
  AdamW optimizer(params, AdamWOptions{so.lr, 0.9, 0.999, 1e-8, so.weight_decay, 1.0});
  Ema ema(params, so.ema_decay);
  int64_t step = 0;
  if (o.resume && fs::exists(ckpt)) {
    CheckpointState s = load_checkpoint(ckpt, *model);
    if (s.stage != "motion") throw Error::input(ckpt.string(), "is a checkpoint of stage " + s.stage);
    step = s.step;
    optimizer.load_state(s.optimizer, step);
    ema.load_state(s.ema, step);
    std::fprintf(stderr, "motion: resumed at step %lld\n", static_cast<long long>(step));
  }
  const int64_t frames = so.frames, groups = so.batch;
  const int64_t window = model->audio_window();
  const model::ModelConfig& cfg = model->config();
  const double fps = static_cast<double>(cfg.generation.fps);
  const int64_t train_timesteps = cfg.scheduler.num_train_timesteps;
  const auto opt = at::TensorOptions().device(o.device).dtype(at::kFloat);
  auto save_ckpt = [&] {
    save_checkpoint(ckpt, *model, CheckpointState{"motion", step, optimizer.state(), ema.state(), {}});
  };
  double loss_sum = 0;
  int64_t loss_count = 0, this_run = 0;
  auto last_log = std::chrono::steady_clock::now();
  while (step < so.steps) {
    if (interrupt_requested() || (o.max_steps_this_run > 0 && this_run >= o.max_steps_this_run)) {
      save_ckpt();
      std::fprintf(stderr, "motion: stopped at step %lld; checkpoint %s (run again to resume)\n",
                   static_cast<long long>(step), ckpt.c_str());
      throw_if_interrupted();
      return false;
    }
    at::Generator g = at::make_generator<at::CPUGeneratorImpl>(r.seed * 1000003ULL + 41 + static_cast<uint64_t>(step) * 7919ULL);
    std::vector<at::Tensor> x0, windows, geometry, timesteps, keep_audio, keep_face;
    for (int64_t k = 0; k < groups; ++k) {
      const MotionClip* c = nullptr;
      for (int tries = 0; tries < 64 && !c; ++tries) {
        const MotionClip& cand = clips[static_cast<size_t>(at::randint(static_cast<int64_t>(clips.size()), {1}, g).item<int64_t>())];
        if (cand.motion.size(0) >= frames) c = &cand;
      }
      if (!c) throw Error::input(o.dataset.string(), "no clip is as long as the recipe's frames per group");
      const int64_t start = at::randint(c->motion.size(0) - frames + 1, {1}, g).item<int64_t>();
      // Only the speech these frames' windows see (plus a margin), augmented: a whole clip's
      // mel per group would cost most of the step.
      const int64_t margin = cfg.audio.context_frames + 2;
      const int64_t first = std::max<int64_t>(0, start - margin);
      const auto per_frame = static_cast<int64_t>(std::llround(16000.0 / fps));
      const auto begin = static_cast<size_t>(std::min<int64_t>(first * per_frame, static_cast<int64_t>(c->speech.size())));
      const auto end = static_cast<size_t>(
          std::min<int64_t>((start + frames + margin) * per_frame, static_cast<int64_t>(c->speech.size())));
      const std::vector<float> snippet(c->speech.begin() + static_cast<std::ptrdiff_t>(begin),
                                       c->speech.begin() + static_cast<std::ptrdiff_t>(end));
      const at::Tensor mel = audio::log_mel(augment_speech(snippet, g), cfg.audio.mel);
      const double silence = mel.min().item<double>();
      windows.push_back(audio::frame_windows_at(mel, start - first, frames, fps, window, cfg.audio.mel, silence));
      x0.push_back(c->motion.slice(0, start, start + frames));
      geometry.push_back(c->geometry.unsqueeze(0).expand({frames, -1}));
      timesteps.push_back(at::full({frames}, at::randint(train_timesteps, {1}, g).item<int64_t>(), at::kLong));
      // Classifier-free guidance: some groups without any condition, some without the audio.
      const double u = at::rand({1}, g).item<double>();
      keep_face.push_back(at::full({frames}, u < so.drop_all ? 0.0f : 1.0f));
      keep_audio.push_back(at::full({frames}, u < so.drop_all + so.drop_audio ? 0.0f : 1.0f));
    }
    const at::Tensor clean = model->normalise(at::cat(x0, 0)).to(opt);
    const at::Tensor noise = at::randn(clean.sizes(), g).to(opt);
    const sched::NoisedBatch noised = sched::noise_for_training(cfg.scheduler, clean, noise, at::cat(timesteps, 0).to(o.device));
    const at::Tensor face = at::cat(geometry, 0).to(opt) * at::cat(keep_face, 0).to(opt).unsqueeze(1);
    const at::Tensor tokens =
        model->audio_encoder.forward(at::cat(windows, 0).to(opt)) * at::cat(keep_audio, 0).to(opt).view({-1, 1, 1});
    const at::Tensor pred = model->denoiser.forward(noised.noisy, noised.model_timestep, face, tokens, frames);
    const at::Tensor loss = (pred - noised.target).square().mean();
    optimizer.zero_grad();
    loss.backward();
    optimizer.step(learning_rate(so, step));
    ema.update(params);
    ++step;
    ++this_run;
    loss_sum += loss.item<double>();
    ++loss_count;
    if (o.on_step) o.on_step(step, loss.item<double>());
    if (step % r.log_every == 0 || step == so.steps) {
      const auto now = std::chrono::steady_clock::now();
      std::fprintf(stderr, "motion: step %lld/%lld loss %.4f lr %.2e %.2f s/step\n", static_cast<long long>(step),
                   static_cast<long long>(so.steps), loss_sum / static_cast<double>(loss_count),
                   learning_rate(so, step - 1),
                   std::chrono::duration<double>(now - last_log).count() / static_cast<double>(loss_count));
      last_log = now;
      loss_sum = 0;
      loss_count = 0;
    }
    if (step % r.checkpoint_every == 0 && step < so.steps) save_ckpt();
  }
  // The shipped weights are the EMA's, in half precision.
  for (auto& [name, t] : params) t->requires_grad_(false);
  ema.copy_to(params);
  model->save(result, at::kHalf);
  std::fprintf(stderr, "motion: done -> %s\n", result.c_str());
  return true;
}

}  // namespace thg::train
