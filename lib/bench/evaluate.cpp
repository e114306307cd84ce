#include "bench/evaluate.h"

#include <ATen/ATen.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "core/cancel.h"
#include "core/error.h"
#include "eval/metrics.h"
#include "io/image.h"
#include "io/video_reader.h"
#include "synth/dataset.h"

namespace thg::pipeline {

namespace fs = std::filesystem;

namespace {

void accumulate(Scores& sum, const Scores& s) {
  sum.psnr += s.psnr;
  sum.ssim += s.ssim;
  sum.lipsync += s.lipsync;
  sum.temporal += s.temporal;
}

Scores divided(Scores s, double n) {
  if (n > 0) {
    s.psnr /= n;
    s.ssim /= n;
    s.lipsync /= n;
    s.temporal /= n;
  }
  return s;
}

nlohmann::ordered_json to_json(const Scores& s) {
  return {{"psnr_db", s.psnr}, {"ssim", s.ssim}, {"lipsync_pearson", s.lipsync}, {"temporal_error", s.temporal}};
}


}  // namespace

ClipTruth load_clip_truth(const synth::DatasetClip& clip, int64_t size) {
  ClipTruth t;
  t.frames = io::read_video_frames(clip.video, {static_cast<int>(size), 100000});
  const std::vector<synth::MouthRow> mouth = synth::read_mouth_track(clip.mouth);
  const int64_t n = std::min(t.frames.size(0), static_cast<int64_t>(mouth.size()));
  t.frames = t.frames.slice(0, 0, n);
  // Mouth boxes are in the dataset's pixels (its portrait's size); scale them to `size`.
  const double k = static_cast<double>(size) / static_cast<double>(io::decode_image_rgba(clip.portrait).width);
  t.boxes = at::empty({n, 4}, at::kLong);
  auto b = t.boxes.accessor<int64_t, 2>();
  for (int64_t f = 0; f < n; ++f) {
    const synth::MouthRow& m = mouth[static_cast<size_t>(f)];
    b[f][0] = std::lround(m.x0 * k);
    b[f][1] = std::lround(m.y0 * k);
    b[f][2] = std::lround(m.x1 * k);
    b[f][3] = std::lround(m.y1 * k);
  }
  io::ImageLoadOptions image_options;
  image_options.size = static_cast<int>(size);
  t.portrait = (io::load_image(clip.portrait, image_options).permute({1, 2, 0}) * 255.0).round().clamp(0, 255).to(at::kByte);
  return t;
}

Scores score_frames(const at::Tensor& frames, const ClipTruth& truth) {
  const int64_t n = std::min(frames.size(0), truth.frames.size(0));
  const at::Tensor f = frames.slice(0, 0, n), t = truth.frames.slice(0, 0, n), boxes = truth.boxes.slice(0, 0, n);
  Scores s;
  s.psnr = eval::psnr(f, t);
  s.ssim = eval::ssim(f, t);
  s.lipsync = eval::pearson(eval::mouth_opening(f, boxes), eval::mouth_opening(t, boxes));
  s.temporal = eval::temporal_error(f, t);
  return s;
}

at::Tensor baseline_frames(const ClipTruth& truth, int64_t frames) {
  return truth.portrait.unsqueeze(0).expand({frames, -1, -1, -1}).contiguous();
}

GenerateResult generate_and_keep_frames(const model::ModelFamily& model, const GenerateOptions& g, at::Tensor& frames) {
  std::vector<at::Tensor> chunks;
  GenerateOptions keeping = g;
  keeping.on_rgb_frames = [&chunks, &g](const at::Tensor& f, int64_t first) {
    chunks.push_back(f.clone());
    if (g.on_rgb_frames) g.on_rgb_frames(f, first);
  };
  GenerateResult r = generate(model, keeping);
  frames = at::cat(chunks, 0);
  return r;
}

EvaluationReport evaluate(const model::ModelFamily& model, const EvaluateOptions& o) {
  std::vector<synth::DatasetClip> clips = synth::read_dataset_manifest(o.dataset);
  if (o.max_clips > 0 && static_cast<int64_t>(clips.size()) > o.max_clips) clips.resize(static_cast<size_t>(o.max_clips));
  fs::create_directories(o.out / "videos");
  const int64_t size = o.generation.size > 0 ? o.generation.size : model.config().image_size;
  EvaluationReport report;
  std::map<std::string, std::pair<Scores, int>> by_language;
  Scores model_sum, base_sum;
  for (const synth::DatasetClip& clip : clips) {
    throw_if_interrupted();
    GenerateOptions g = o.generation;
    g.portrait = clip.portrait;
    g.audio = clip.audio;
    g.placement.crop = false;  // thg-synth portraits are the model's face crops already
    g.output = o.out / "videos" / (clip.id + ".mp4");
    g.size = size;
    g.progress = false;
    at::Tensor generated;
    GenerateResult r = generate_and_keep_frames(model, g, generated);
    report.generate_seconds += r.total_seconds;

    const ClipTruth truth = load_clip_truth(clip, size);
    // The same frame count by construction (both round audio length x fps); guard anyway.
    const int64_t n = std::min(generated.size(0), truth.frames.size(0));
    ClipEvaluation e{clip.id, clip.language, n, score_frames(generated.slice(0, 0, n), truth),
                     score_frames(baseline_frames(truth, n), truth)};
    accumulate(model_sum, e.model);
    accumulate(base_sum, e.baseline);
    accumulate(by_language[clip.language].first, e.model);
    by_language[clip.language].second += 1;
    report.frames += n;
    report.clips.push_back(e);
    if (o.on_clip) o.on_clip(static_cast<int64_t>(report.clips.size()), static_cast<int64_t>(clips.size()));
  }
  const double count = static_cast<double>(report.clips.size());
  report.model = divided(model_sum, count);
  report.baseline = divided(base_sum, count);
  for (auto& [language, entry] : by_language) report.model_by_language[language] = divided(entry.first, entry.second);
  return report;
}

void write_evaluation_report(const EvaluationReport& r, const fs::path& out,
                             const std::map<std::string, std::string>& about) {
  nlohmann::ordered_json j;
  for (const auto& [k, v] : about) j["about"][k] = v;
  j["clips"] = r.clips.size();
  j["frames"] = r.frames;
  j["generate_seconds_per_frame"] = r.frames ? r.generate_seconds / static_cast<double>(r.frames) : 0.0;
  j["model"] = to_json(r.model);
  j["baseline_repeat_portrait"] = to_json(r.baseline);
  for (const auto& [language, s] : r.model_by_language) j["model_by_language"][language] = to_json(s);
  for (const ClipEvaluation& c : r.clips)
    j["per_clip"].push_back({{"id", c.id}, {"language", c.language}, {"frames", c.frames},
                             {"model", to_json(c.model)}, {"baseline", to_json(c.baseline)}});
  write_file_atomically(out / "evaluation.json", j.dump(2) + "\n");

  std::ostringstream md;
  char line[256];
  md << "# Evaluation\n\n";
  for (const auto& [k, v] : about) md << "- " << k << ": " << v << "\n";
  md << "- clips: " << r.clips.size() << ", frames: " << r.frames << "\n\n";
  md << "| | PSNR (dB) | SSIM | Lip-sync (Pearson) | Temporal error |\n|---|---|---|---|---|\n";
  std::snprintf(line, sizeof line, "| model | %.2f | %.4f | %.3f | %.2f |\n", r.model.psnr, r.model.ssim, r.model.lipsync,
                r.model.temporal);
  md << line;
  std::snprintf(line, sizeof line, "| baseline: repeat the portrait | %.2f | %.4f | %.3f | %.2f |\n", r.baseline.psnr,
                r.baseline.ssim, r.baseline.lipsync, r.baseline.temporal);
  md << line << "\nBy language (model):\n\n| Language | PSNR (dB) | SSIM | Lip-sync | Temporal error |\n|---|---|---|---|---|\n";
  for (const auto& [language, s] : r.model_by_language) {
    std::snprintf(line, sizeof line, "| %s | %.2f | %.4f | %.3f | %.2f |\n", language.c_str(), s.psnr, s.ssim, s.lipsync,
                  s.temporal);
    md << line;
  }
  write_file_atomically(out / "evaluation.md", md.str());
}

}  // namespace thg::pipeline
