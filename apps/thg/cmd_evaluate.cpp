// thg evaluate: the model against the synthetic world's held-out ground truth, next to the
// "repeat the portrait" baseline (PSNR, SSIM, lip-sync correlation, temporal error).
#include <cstdio>

#include "commands.h"
#include "options.h"
#include "core/progress.h"
#include "bench/evaluate.h"
#include "engine/model_loader.h"

namespace thg::app {

namespace {
struct EvaluateCli {
  pipeline::EvaluateOptions evaluate;
  pipeline::ModelSource model;
  std::string attention;
};

int run_evaluate(EvaluateCli& o, const GlobalOptions& global) {
  pipeline::LoadedModel loaded = pipeline::load_model(o.model);
  apply_attention(o.attention, *loaded.model);
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
  app.add_option("--dataset", o->evaluate.dataset, "Held-out split of a thg-synth dataset (test.jsonl)")->required();
  app.add_option("--out", o->evaluate.out, "Folder for the generated videos and evaluation.{json,md}")->required();
  app.add_option("--clips", o->evaluate.max_clips, "Evaluate only the first N clips (0: all)");
  add_generation_options(app, o->evaluate.generation);
  add_model_options(app, o->model, o->attention);
  app.footer("Example:\n  thg evaluate --dataset data/synth/test.jsonl --out eval/default");
  return [o, &global] { return run_evaluate(*o, global); };
}

}  // namespace thg::app
