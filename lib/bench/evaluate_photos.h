#pragma once
// Evaluation on real photos (issue 22 item 5): no ground-truth video exists for a photo, so the
// generated frames are measured with dlib's 68 landmarks, against the speech and, for synthetic
// speech whose motion is known exactly (a thg-synth dataset's motion.csv), against the visemes.
// Every pair (photo, speech) is also rendered by the baseline "the jaw follows the loudness"
// (same renderer, no learning), which scores well on loudness correlation and badly on visemes.
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/generate.h"
#include "io/audio.h"
#include "model/family.h"

namespace thg::pipeline {

struct PhotoEvaluateOptions {
  std::vector<std::filesystem::path> photos;  // real portraits
  std::filesystem::path dataset;              // test.jsonl of a thg-synth dataset with motion.csv (optional)
  int64_t clips = 3;                          // of the dataset
  std::vector<std::filesystem::path> speech;  // other recordings (human speech): envelope metrics only
  std::filesystem::path out;                  // photo_evaluation.{json,md,csv} + opening.svg
  GenerateOptions generation;                 // sampler, steps, seed, max_frames, ...
  std::function<void(int64_t done, int64_t total)> on_pair;
};

// What the landmarks say about one rendering of one (photo, speech) pair.
struct LipScores {
  double found = 0;           // fraction of frames with a face
  double movement = 0;        // std of the inner-lip gap / inter-ocular distance while speaking
  double silence_error = -1;  // mean |gap - the photo's own gap| in pauses (>= 3 quiet frames); -1: no pause
  double quiet_frame_error = -1;  // the same over every quiet frame, dips between syllables included
  double envelope_corr = 0;   // Pearson with the speech's loudness, best lag within +-2 frames
  double opening_corr = -2;   // with the expected opening track (synthetic speech); -2: unknown
  double width_corr = -2;     // with the expected lip-spread track (width - rounding)
  double bilabial_closed = -1;  // fraction of p/b/m frames with a gap <= 0.03; -1: none / unknown
  double colour_drift = 0;    // mean over frames of the face box's mean-colour change (levels of 255)
};

struct PairEvaluation {
  std::string photo, speech;
  int64_t frames = 0;
  double rest_opening = 0;  // the photo's own inner-lip gap
  LipScores model, baseline;
  std::vector<double> model_opening, baseline_opening, envelope;  // per frame, for plots
};

struct PhotoEvaluationReport {
  std::vector<PairEvaluation> pairs;
  LipScores model_synthetic, baseline_synthetic, model_recorded, baseline_recorded;  // means
};

// One frame measured: dlib's face, its inner-lip gap and mouth width (inter-ocular distances) and
// the mean colour (0..255) of the upper face (eyes to nose, so no mouth).
struct FaceMeasure {
  bool found = false;
  double opening = 0, width = 0;
  std::array<double, 3> colour{};
};
FaceMeasure measure_face(const uint8_t* rgb, int width, int height);
// RMS loudness of `speech` per video frame.
std::vector<double> loudness_per_frame(const io::AudioBuffer& speech, int fps, int64_t frames);
// Pearson correlation of x with y shifted by the best lag within +-2 frames.
double best_lag_pearson(const std::vector<double>& x, const std::vector<double>& y);

PhotoEvaluationReport evaluate_photos(const model::ModelFamily& model, const PhotoEvaluateOptions& options);
void write_photo_evaluation(const PhotoEvaluationReport& report, const std::filesystem::path& out,
                            const std::map<std::string, std::string>& about);

}  // namespace thg::pipeline
