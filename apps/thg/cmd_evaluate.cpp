// thg evaluate: the model against the synthetic world's held-out ground truth, next to the
// "repeat the portrait" baseline (PSNR, SSIM, lip-sync correlation, temporal error); with --photos,
// on real photos measured with dlib's landmarks, next to the "jaw follows the loudness" baseline.
#include <cstdio>

#include "commands.h"
#include "options.h"
#include "core/error.h"
#include "core/progress.h"
#include "bench/evaluate.h"
#include "bench/evaluate_photos.h"
#include "engine/model_loader.h"

namespace thg::app {

namespace {
struct EvaluateCli {
  pipeline::EvaluateOptions evaluate;
  std::vector<std::filesystem::path> photos, speech;
  pipeline::ModelSource model;
  std::string attention;
};

int run_photo_evaluation(EvaluateCli& o, pipeline::LoadedModel& loaded, const GlobalOptions& global) {
  pipeline::PhotoEvaluateOptions p;
  p.photos = o.photos;
  p.speech = o.speech;
  p.dataset = o.evaluate.dataset;
  p.clips = o.evaluate.max_clips > 0 ? o.evaluate.max_clips : 3;
  p.generation = o.evaluate.generation;
  std::unique_ptr<Progress> bar;
  if (!global.quiet)
    p.on_pair = [&](int64_t done, int64_t total) {
      if (!bar) bar = std::make_unique<Progress>("evaluate", total, "pairs");
      bar->advance();
      (void)done;
    };
  pipeline::PhotoEvaluationReport r = pipeline::evaluate_photos(*loaded.model, p);
  if (bar) bar->finish();
  pipeline::write_photo_evaluation(r, o.evaluate.out, {{"model", loaded.description}, {"seed", std::to_string(p.generation.seed)}});
  auto line = [](const char* name, const pipeline::LipScores& s) {
    std::printf("%-28s movement %.3f  envelope %.3f  opening %.3f  width %.3f  p/b/m closed %.2f  silence %.3f  drift %.2f  found %.2f\n",
                name, s.movement, s.envelope_corr, s.opening_corr, s.width_corr, s.bilabial_closed, s.silence_error,
                s.colour_drift, s.found);
  };
  line("model, synthetic speech:", r.model_synthetic);
  line("baseline, synthetic speech:", r.baseline_synthetic);
  if (!o.speech.empty()) {
    line("model, recorded speech:", r.model_recorded);
    line("baseline, recorded speech:", r.baseline_recorded);
  }
  std::printf("report: %s\n", (o.evaluate.out / "photo_evaluation.md").c_str());
  return 0;
}

int run_evaluate(EvaluateCli& o, const GlobalOptions& global) {
  pipeline::LoadedModel loaded = pipeline::load_model(o.model);
  apply_attention(o.attention, *loaded.model);
  if (!o.photos.empty()) return run_photo_evaluation(o, loaded, global);
  std::unique_ptr<Progress> bar;
  if (!global.quiet) {
    bar = std::make_unique<Progress>("evaluate", 1, "clips");
    o.evaluate.on_clip = [&](int64_t done, int64_t total) {
      if (done == 1) bar = std::make_unique<Progress>("evaluate", total, "clips");
      bar->advance();
    };
  }
  pipeline::EvaluationReport r = pipeline::evaluate(*loaded.model, o.evaluate);
  if (bar) bar->finish();
  const auto& g = o.evaluate.generation;
  pipeline::write_evaluation_report(
      r, o.evaluate.out,
      {{"model", loaded.description},
       {"dataset", o.evaluate.dataset.string()},
       {"sampler", g.sampler.empty() ? loaded.model->config().generation.sampler : g.sampler},
       {"steps", std::to_string(g.steps > 0 ? g.steps : loaded.model->config().generation.steps)},
       {"seed", std::to_string(g.seed)}});
  std::printf("model:    PSNR %.2f dB  SSIM %.4f  lip-sync %.3f  temporal error %.2f\n", r.model.psnr, r.model.ssim,
              r.model.lipsync, r.model.temporal);
  std::printf("baseline: PSNR %.2f dB  SSIM %.4f  lip-sync %.3f  temporal error %.2f  (repeat the portrait)\n",
              r.baseline.psnr, r.baseline.ssim, r.baseline.lipsync, r.baseline.temporal);
  std::printf("report: %s\n", (o.evaluate.out / "evaluation.md").c_str());
  return 0;
}
}  // namespace

Handler add_evaluate_command(CLI::App& app, const GlobalOptions& global) {
  auto o = std::make_shared<EvaluateCli>();
  app.add_option("--dataset", o->evaluate.dataset,
                 "Held-out split of a thg-synth dataset (test.jsonl); with --photos, its speech and motion tracks");
  app.add_option("--photos", o->photos, "Real portraits: evaluate on them (landmark metrics) instead of the synthetic ground truth")
      ->check(CLI::ExistingFile);
  app.add_option("--speech", o->speech, "With --photos: recordings (e.g. human speech) to animate them with")
      ->check(CLI::ExistingFile);
  app.add_option("--out", o->evaluate.out, "Folder for the generated videos and evaluation.{json,md}")->required();
  app.add_option("--clips", o->evaluate.max_clips, "Evaluate only the first N clips (0: all)");
  add_generation_options(app, o->evaluate.generation);
  add_model_options(app, o->model, o->attention);
  app.footer(
      "Examples:\n  thg evaluate --dataset data/synth/test.jsonl --out eval/default\n"
      "  thg evaluate --photos a.jpg b.png --dataset data/motion-synth/test.jsonl --clips 3 --speech talk.wav \\\n"
      "      --weights weights/motion.safetensors --out eval/photos");
  return [o, &global] {
    if (o->photos.empty() && o->evaluate.dataset.empty()) throw Error::input("", "--dataset or --photos is required");
    return run_evaluate(*o, global);
  };
}

}  // namespace thg::app
