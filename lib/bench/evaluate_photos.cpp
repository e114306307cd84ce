#include "bench/evaluate_photos.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "audio/speech_activity.h"
#include "core/atomic_file.h"
#include "core/cancel.h"
#include "core/error.h"
#include "core/pixels.h"
#include "eval/metrics.h"
#include "eval/svg_plot.h"
#include "io/audio.h"
#include "io/frame_sink.h"
#include "model/face_warp.h"
#include "model/motion.h"
#include "model/motion_warp.h"
#include "portrait/prepare.h"
#include "synth/dataset.h"
#include "synth/motion_track.h"

namespace thg::pipeline {

namespace fs = std::filesystem;

FaceMeasure measure_face(const uint8_t* rgb, int width, int height) {
  io::RgbaImage img;
  img.width = width;
  img.height = height;
  img.pixels.assign(static_cast<size_t>(width) * height * 4, 255);
  for (size_t k = 0; k < static_cast<size_t>(width) * height; ++k)
    for (int c = 0; c < 3; ++c) img.pixels[k * 4 + c] = rgb[k * 3 + c];
  const std::vector<portrait::DetectedFace> faces = portrait::detect_faces(img, "frame");
  FaceMeasure m;
  if (faces.empty()) return m;
  m.found = true;
  const portrait::Landmarks& p = faces.front().landmarks;
  m.opening = model::lip_opening(p);
  m.width = model::face_geometry(p)[1];
  const portrait::Box& b = faces.front().box;
  const int x0 = std::clamp(static_cast<int>(b.x), 0, width - 1), x1 = std::clamp(static_cast<int>(b.x + b.width), x0 + 1, width);
  const int y0 = std::clamp(static_cast<int>(b.y), 0, height - 1);
  const int y1 = std::clamp(static_cast<int>(b.y + 0.6 * b.height), y0 + 1, height);
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x)
      for (int c = 0; c < 3; ++c) m.colour[static_cast<size_t>(c)] += rgb[(static_cast<size_t>(y) * width + x) * 3 + c];
  for (double& v : m.colour) v /= static_cast<double>((x1 - x0) * (y1 - y0));
  return m;
}

namespace {

// Measures every frame as it arrives (nothing is kept: memory stays flat for long speech).
class MeasuringSink : public io::FrameSink {
 public:
  void finish() override {}
  std::vector<FaceMeasure> measures;

 private:
  void on_frames(const at::Tensor& frames, int64_t) override {
    for (int64_t i = 0; i < frames.size(0); ++i) {
      throw_if_interrupted();
      const at::Tensor f = frames[i].contiguous();
      measures.push_back(measure_face(f.data_ptr<uint8_t>(), static_cast<int>(f.size(1)), static_cast<int>(f.size(0))));
    }
  }
};

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size() - 1))];
}

struct Expected {
  std::vector<double> opening, width;
  std::vector<bool> bilabial;
};

LipScores score(const std::vector<FaceMeasure>& m, const FaceMeasure& rest, const std::vector<double>& env,
                const Expected* expected, std::vector<double>& opening_out) {
  LipScores s;
  const double loud = percentile(env, 0.95);
  std::vector<double> opening, width, speaking, drift;
  int64_t found = 0;
  double last = rest.opening, last_width = rest.width;
  for (size_t f = 0; f < m.size(); ++f) {
    if (m[f].found) {
      ++found;
      last = m[f].opening;
      last_width = m[f].width;
      double d = 0;
      for (size_t c = 0; c < 3; ++c) d = std::max(d, std::abs(m[f].colour[c] - rest.colour[c]));
      drift.push_back(d);
    }
    opening.push_back(last);  // a missed frame keeps the previous measurement (and counts as not found)
    width.push_back(last_width);
    if (f < env.size() && env[f] > 0.1 * loud) speaking.push_back(last);
  }
  // Silence: frames quieter than 2% of the loud level (-34 dB). "silence_error" counts those in a
  // pause (a run of at least 3 such frames, 120 ms), where a person's mouth closes;
  // "quiet_frame_error" counts every one, including the 40 ms dips between syllables, where no
  // mouth closes and only a renderer that follows loudness frame by frame scores well.
  std::vector<double> pause_error, quiet_error;
  const std::vector<bool> quiet = audio::pause_frames(env, 0.02, 1), paused = audio::pause_frames(env, 0.02, 3);
  for (size_t f = 0; f < opening.size() && f < env.size(); ++f) {
    if (quiet[f]) quiet_error.push_back(std::abs(opening[f] - rest.opening));
    if (paused[f]) pause_error.push_back(std::abs(opening[f] - rest.opening));
  }
  const auto mean_or_unknown = [](const std::vector<double>& v) {
    double sum = 0;
    for (double x : v) sum += x;
    return v.empty() ? -1.0 : sum / static_cast<double>(v.size());
  };
  s.silence_error = mean_or_unknown(pause_error);
  s.quiet_frame_error = mean_or_unknown(quiet_error);
  s.found = m.empty() ? 0 : static_cast<double>(found) / static_cast<double>(m.size());
  double mean = 0, var = 0;
  for (double v : speaking) mean += v / static_cast<double>(speaking.size());
  for (double v : speaking) var += (v - mean) * (v - mean) / static_cast<double>(speaking.size());
  s.movement = std::sqrt(var);
  for (double v : drift) s.colour_drift += v / static_cast<double>(drift.size());
  s.envelope_corr = best_lag_pearson(opening, env);
  if (expected) {
    s.opening_corr = best_lag_pearson(opening, expected->opening);
    s.width_corr = best_lag_pearson(width, expected->width);
    int64_t closures = 0, closed = 0;
    for (size_t f = 0; f < opening.size() && f < expected->bilabial.size(); ++f)
      if (expected->bilabial[f]) {
        ++closures;
        closed += opening[f] <= 0.03 ? 1 : 0;
      }
    s.bilabial_closed = closures ? static_cast<double>(closed) / static_cast<double>(closures) : -1;
  }
  opening_out = opening;
  return s;
}

// The baseline: the jaw follows the speech's loudness, rendered by the same renderer.
std::vector<FaceMeasure> baseline_measures(const portrait::PreparedPortrait& prepared, const io::AudioBuffer& speech,
                                            const std::vector<double>& env, int fps) {
  MeasuringSink measuring;
  const std::unique_ptr<portrait::PasteBackSink> paste = prepared.paste_back_into(measuring);
  const auto size = static_cast<int>(prepared.crop.size(2));
  paste->begin(io::SinkFormat{size, size, fps, &speech});
  const double loud = std::max(1e-6, percentile(env, 0.95));
  const portrait::Landmarks landmarks = prepared.crop_landmarks();
  for (size_t first = 0; first < env.size(); first += 32) {
    const size_t n = std::min<size_t>(32, env.size() - first);
    at::Tensor motion = at::zeros({static_cast<int64_t>(n), model::kMotionChannels});
    motion.select(1, model::kWidth).fill_(0.5);
    for (size_t i = 0; i < n; ++i) motion[static_cast<int64_t>(i)][model::kOpen] = std::min(1.0, env[first + i] / loud);
    paste->write(frames_to_rgb8(model::render_motion(prepared.crop, landmarks, motion)), static_cast<int64_t>(first));
  }
  paste->finish();
  return measuring.measures;
}

// The mean over pairs of each score, over the pairs where it is known (a clip without a pause
// has no silence error; recorded speech has no viseme scores).
LipScores mean_scores(const std::vector<const LipScores*>& all) {
  const auto mean = [&](double LipScores::*field, double unknown) {
    double sum = 0;
    int64_t n = 0;
    for (const LipScores* s : all)
      if (s->*field > unknown) {
        sum += s->*field;
        ++n;
      }
    return n ? sum / static_cast<double>(n) : unknown;
  };
  LipScores m;
  m.found = mean(&LipScores::found, -1);
  m.movement = mean(&LipScores::movement, -1);
  m.silence_error = mean(&LipScores::silence_error, -1);
  m.quiet_frame_error = mean(&LipScores::quiet_frame_error, -1);
  m.envelope_corr = mean(&LipScores::envelope_corr, -2);
  m.opening_corr = mean(&LipScores::opening_corr, -2);
  m.width_corr = mean(&LipScores::width_corr, -2);
  m.bilabial_closed = mean(&LipScores::bilabial_closed, -1);
  m.colour_drift = mean(&LipScores::colour_drift, -1);
  return m;
}

}  // namespace

std::vector<double> loudness_per_frame(const io::AudioBuffer& speech, int fps, int64_t frames) {
  const io::AudioBuffer a = io::resample(speech, 16000, 1);
  return audio::frame_loudness(a.samples, a.sample_rate, fps, frames);
}

double best_lag_pearson(const std::vector<double>& x, const std::vector<double>& y) {
  double best = -1;
  for (int lag = -2; lag <= 2; ++lag) {
    std::vector<double> a, b;
    for (size_t f = 0; f < x.size(); ++f) {
      const auto g = static_cast<int64_t>(f) + lag;
      if (g < 0 || g >= static_cast<int64_t>(y.size())) continue;
      a.push_back(x[f]);
      b.push_back(y[static_cast<size_t>(g)]);
    }
    best = std::max(best, eval::pearson(a, b));
  }
  return best;
}

PhotoEvaluationReport evaluate_photos(const model::ModelFamily& model, const PhotoEvaluateOptions& o) {
  if (o.photos.empty()) throw Error::input("", "--photos: no photos given");
  struct Speech {
    fs::path path;
    std::string name;
    std::optional<Expected> expected;
  };
  std::vector<Speech> speeches;
  if (!o.dataset.empty()) {
    std::vector<synth::DatasetClip> rows = synth::read_dataset_manifest(o.dataset);
    if (o.clips > 0 && static_cast<int64_t>(rows.size()) > o.clips) rows.resize(static_cast<size_t>(o.clips));
    for (const synth::DatasetClip& row : rows) {
      const fs::path csv = row.audio.parent_path() / "motion.csv";
      if (!fs::exists(csv)) throw Error::input(csv.string(), "missing: the dataset has no motion tracks (make it with this version of thg-synth)");
      Expected e;
      for (const model::MotionFrame& f : synth::read_motion_csv(csv)) {
        e.opening.push_back((1.0 - f[model::kPress]) * f[model::kOpen]);
        e.width.push_back(f[model::kWidth] - 0.7 * f[model::kRound]);
        e.bilabial.push_back(f[model::kPress] > 0.5);
      }
      speeches.push_back({row.audio, row.id, e});
    }
  }
  for (const fs::path& p : o.speech) speeches.push_back({p, p.filename().string(), std::nullopt});
  if (speeches.empty()) throw Error::input("", "nothing to say: give --dataset clips or --speech files");

  PhotoEvaluationReport report;
  const int64_t total = static_cast<int64_t>(o.photos.size() * speeches.size());
  int64_t done = 0;
  const model::FaceTemplateConfig& f = model.config().face;
  for (const fs::path& photo : o.photos) {
    GenerateOptions g = o.generation;
    g.portrait = photo;
    g.progress = false;
    const int crop = static_cast<int>(g.size > 0 ? g.size : model.config().image_size);
    const portrait::PreparedPortrait prepared = portrait::prepare_portrait(
        photo, crop, portrait::FaceTemplate{f.eye_y, f.eye_distance, f.mouth_y}, g.placement);
    const FaceMeasure rest = measure_face(prepared.canvas_pixels.data(), prepared.canvas.width, prepared.canvas.height);
    if (!rest.found) throw Error::input(photo.string(), "dlib finds no face in the photo at the video's size");
    for (const Speech& s : speeches) {
      throw_if_interrupted();
      g.audio = s.path;
      MeasuringSink measuring;
      const GenerateResult r = generate(model, g, measuring);
      io::AudioBuffer speech = io::decode_audio(s.path);
      const std::vector<double> env = loudness_per_frame(speech, r.fps, r.frames);
      PairEvaluation e;
      e.photo = photo.filename().string();
      e.speech = s.name;
      e.frames = r.frames;
      e.rest_opening = rest.opening;
      e.envelope = env;
      const Expected* expected = s.expected ? &*s.expected : nullptr;
      e.model = score(measuring.measures, rest, env, expected, e.model_opening);
      e.baseline = score(baseline_measures(prepared, speech, env, r.fps), rest, env, expected, e.baseline_opening);
      report.pairs.push_back(std::move(e));
      if (o.on_pair) o.on_pair(++done, total);
    }
  }
  std::vector<const LipScores*> model_syn, base_syn, model_rec, base_rec;
  for (const PairEvaluation& e : report.pairs) {
    const bool syn = e.model.opening_corr > -2;
    (syn ? model_syn : model_rec).push_back(&e.model);
    (syn ? base_syn : base_rec).push_back(&e.baseline);
  }
  report.model_synthetic = mean_scores(model_syn);
  report.baseline_synthetic = mean_scores(base_syn);
  report.model_recorded = mean_scores(model_rec);
  report.baseline_recorded = mean_scores(base_rec);
  return report;
}

namespace {
nlohmann::json scores_json(const LipScores& s) {
  nlohmann::json j{{"face_found", s.found},           {"mouth_movement", s.movement},
                   {"envelope_correlation", s.envelope_corr},
                   {"colour_drift", s.colour_drift}};
  if (s.silence_error >= 0) j["silence_error"] = s.silence_error;
  if (s.quiet_frame_error >= 0) j["quiet_frame_error"] = s.quiet_frame_error;
  if (s.opening_corr > -2) j["opening_correlation"] = s.opening_corr;
  if (s.width_corr > -2) j["width_correlation"] = s.width_corr;
  if (s.bilabial_closed >= 0) j["bilabial_closed"] = s.bilabial_closed;
  return j;
}

std::string cell(double v, bool known = true) {
  if (!known) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", v);
  return b;
}

std::string md_row(const std::string& name, const LipScores& s) {
  return "| " + name + " | " + cell(s.found) + " | " + cell(s.movement) + " | " +
         cell(s.silence_error, s.silence_error >= 0) + " | " + cell(s.quiet_frame_error, s.quiet_frame_error >= 0) + " | " +
         cell(s.envelope_corr) + " | " + cell(s.opening_corr, s.opening_corr > -2) + " | " +
         cell(s.width_corr, s.width_corr > -2) + " | " + cell(s.bilabial_closed, s.bilabial_closed >= 0) + " | " +
         cell(s.colour_drift) + " |\n";
}
}  // namespace

void write_photo_evaluation(const PhotoEvaluationReport& r, const fs::path& out,
                            const std::map<std::string, std::string>& about) {
  fs::create_directories(out);
  nlohmann::json j;
  j["about"] = about;
  j["synthetic_speech"] = {{"model", scores_json(r.model_synthetic)}, {"baseline", scores_json(r.baseline_synthetic)}};
  j["recorded_speech"] = {{"model", scores_json(r.model_recorded)}, {"baseline", scores_json(r.baseline_recorded)}};
  std::string csv =
      "photo,speech,frames,rest_opening,renderer,face_found,mouth_movement,silence_error,quiet_frame_error,"
      "envelope_correlation,"
      "opening_correlation,width_correlation,bilabial_closed,colour_drift\n";
  for (const PairEvaluation& e : r.pairs) {
    j["pairs"].push_back({{"photo", e.photo}, {"speech", e.speech}, {"frames", e.frames}, {"rest_opening", e.rest_opening},
                          {"model", scores_json(e.model)}, {"baseline", scores_json(e.baseline)},
                          // Per frame, so that a surprising score can be looked at (and re-plotted).
                          {"tracks", {{"envelope", e.envelope}, {"model_opening", e.model_opening},
                                      {"baseline_opening", e.baseline_opening}}}});
    for (const auto& [name, s] : {std::pair<std::string, const LipScores&>{"model", e.model}, {"baseline", e.baseline}})
      csv += e.photo + "," + e.speech + "," + std::to_string(e.frames) + "," + cell(e.rest_opening) + "," + name + "," +
             cell(s.found) + "," + cell(s.movement) + "," + (s.silence_error >= 0 ? cell(s.silence_error) : "") + "," +
             (s.quiet_frame_error >= 0 ? cell(s.quiet_frame_error) : "") + "," + cell(s.envelope_corr) + "," +
             (s.opening_corr > -2 ? cell(s.opening_corr) : "") + "," + (s.width_corr > -2 ? cell(s.width_corr) : "") +
             "," + (s.bilabial_closed >= 0 ? cell(s.bilabial_closed) : "") + "," + cell(s.colour_drift) + "\n";
  }
  std::string md = "# Evaluation on real photos\n\n";
  for (const auto& [k, v] : about) md += "- " + k + ": " + v + "\n";
  md += "\nMeasured with dlib's landmarks on the generated frames; gaps in inter-ocular distances. Baseline: the jaw "
        "follows the loudness (same renderer). Silence error: in pauses of at least 120 ms; quiet-frame error: "
        "in every frame quieter than 2% of the loud level, dips between syllables included.\n\n"
        "| | face found | mouth movement | silence error | quiet-frame error | envelope corr. | opening corr. | "
        "width corr. | p/b/m closed | colour drift |\n|---|---|---|---|---|---|---|---|---|---|\n";
  md += md_row("model, synthetic speech", r.model_synthetic) + md_row("baseline, synthetic speech", r.baseline_synthetic) +
        md_row("model, recorded speech", r.model_recorded) + md_row("baseline, recorded speech", r.baseline_recorded);
  md += "\n## Pairs\n\n| photo | speech | renderer | face found | movement | silence error | quiet-frame error | "
        "envelope | opening | width | p/b/m | drift |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const PairEvaluation& e : r.pairs) {
    md += "| " + e.photo + " | " + e.speech + " |" + md_row("model", e.model).substr(1);
    md += "| " + e.photo + " | " + e.speech + " |" + md_row("baseline", e.baseline).substr(1);
  }
  write_file_atomically(out / "photo_evaluation.json", j.dump(2) + "\n");
  write_file_atomically(out / "photo_evaluation.csv", csv);
  write_file_atomically(out / "photo_evaluation.md", md);
  if (!r.pairs.empty()) {
    const PairEvaluation& e = r.pairs.front();
    eval::LineChart chart{"Inner-lip gap, " + e.photo + " / " + e.speech, "frame", "gap / inter-ocular distance", false, {}};
    eval::Series model{"model", {}}, base{"baseline (loudness)", {}}, env{"loudness (scaled)", {}};
    const double loud = std::max(1e-9, percentile(e.envelope, 0.95));
    for (size_t f = 0; f < e.model_opening.size(); ++f) model.points.push_back({static_cast<double>(f), e.model_opening[f]});
    for (size_t f = 0; f < e.baseline_opening.size(); ++f)
      base.points.push_back({static_cast<double>(f), e.baseline_opening[f]});
    for (size_t f = 0; f < e.envelope.size(); ++f) env.points.push_back({static_cast<double>(f), 0.4 * e.envelope[f] / loud});
    chart.series = {model, base, env};
    write_file_atomically(out / "opening.svg", eval::render_svg(chart));
  }
}

}  // namespace thg::pipeline
