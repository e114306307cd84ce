#pragma once
// Model evaluation on a held-out thg-synth split: generate every clip from its portrait and speech,
// compare with the renderer's ground truth, always next to the baseline "repeat the portrait".
// The figures in weights/PIXEL-LATENT.md come from this.
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "model/family.h"
#include "engine/generate.h"
#include "synth/dataset.h"

namespace thg::pipeline {

struct EvaluateOptions {
  std::filesystem::path dataset;  // test.jsonl of a thg-synth dataset
  std::filesystem::path out;      // videos/ and the reports go here
  int64_t max_clips = 0;          // 0: all
  GenerateOptions generation;     // sampler, steps, seed, ... (portrait/audio/output set per clip)
  std::function<void(int64_t done, int64_t total)> on_clip;
};

struct Scores {
  double psnr = 0, ssim = 0, lipsync = 0, temporal = 0;
};

struct ClipEvaluation {
  std::string id, language;
  int64_t frames = 0;
  Scores model, baseline;
};

struct EvaluationReport {
  std::vector<ClipEvaluation> clips;
  Scores model, baseline;                        // means over clips
  std::map<std::string, Scores> model_by_language;
  double generate_seconds = 0;                   // generation time, all clips
  int64_t frames = 0;
};

// A held-out clip's ground truth at an evaluation size: frames, mouth boxes (scaled), portrait.
struct ClipTruth {
  at::Tensor frames;    // uint8 [N, S, S, 3]
  at::Tensor boxes;     // int64 [N, 4]
  at::Tensor portrait;  // uint8 [S, S, 3]
};
ClipTruth load_clip_truth(const synth::DatasetClip& clip, int64_t size);

// Scores `frames` against the truth's first frames.size(0) frames (a generated clip may be cut
// short with GenerateOptions::max_frames).
Scores score_frames(const at::Tensor& frames, const ClipTruth& truth);
// The "repeat the portrait" baseline for `frames` frames.
at::Tensor baseline_frames(const ClipTruth& truth, int64_t frames);

EvaluationReport evaluate(const model::ModelFamily& model, const EvaluateOptions& options);

// generate(model, g) writing g.output as usual, with the exact frames it encoded (uint8
// [N, S, S, 3], before H.264) in `frames`: scores are taken on these, never on a re-decoded video.
GenerateResult generate_and_keep_frames(const model::ModelFamily& model, const GenerateOptions& g, at::Tensor& frames);

// evaluation.json (every clip and the means) and evaluation.md (tables) in `out`.
void write_evaluation_report(const EvaluationReport& report, const std::filesystem::path& out,
                             const std::map<std::string, std::string>& about);

}  // namespace thg::pipeline
