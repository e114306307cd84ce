#include "bench/evaluate_photos.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

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
  std::vector<double> opening, width, speaking, silent_error, drift;
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
    if (f < env.size() && env[f] < 0.02 * loud) silent_error.push_back(std::abs(last - rest.opening));
  }
  s.found = m.empty() ? 0 : static_cast<double>(found) / static_cast<double>(m.size());
  double mean = 0, var = 0;
  for (double v : speaking) mean += v / static_cast<double>(speaking.size());
  for (double v : speaking) var += (v - mean) * (v - mean) / static_cast<double>(speaking.size());
  s.movement = std::sqrt(var);
  for (double v : silent_error) s.silence_error += v / static_cast<double>(silent_error.size());
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

void add_mean(LipScores& to, const LipScores& s, double n) {
  to.found += s.found / n;
  to.movement += s.movement / n;
  to.silence_error += s.silence_error / n;
  to.envelope_corr += s.envelope_corr / n;
  to.colour_drift += s.colour_drift / n;
  if (s.opening_corr > -2) to.opening_corr = (to.opening_corr <= -2 ? 0 : to.opening_corr) + s.opening_corr / n;
  if (s.width_corr > -2) to.width_corr = (to.width_corr <= -2 ? 0 : to.width_corr) + s.width_corr / n;
  if (s.bilabial_closed >= 0) to.bilabial_closed = (to.bilabial_closed < 0 ? 0 : to.bilabial_closed) + s.bilabial_closed / n;
}

}  // namespace

std::vector<double> loudness_per_frame(const io::AudioBuffer& speech, int fps, int64_t frames) {
  const io::AudioBuffer a = io::resample(speech, 16000, 1);
  const double per = 16000.0 / fps;
  std::vector<double> env;
  for (int64_t f = 0; f < frames; ++f) {
    const auto b = static_cast<size_t>(f * per), e = std::min(a.samples.size(), static_cast<size_t>((f + 1) * per));
    double sum = 0;
    for (size_t s = b; s < e; ++s) sum += static_cast<double>(a.samples[s]) * a.samples[s];
    env.push_back(e > b ? std::sqrt(sum / static_cast<double>(e - b)) : 0.0);
  }
  return env;
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
  int64_t done = 0, synthetic = 0, recorded = 0;
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
      (expected ? synthetic : recorded) += 1;
      report.pairs.push_back(std::move(e));
      if (o.on_pair) o.on_pair(++done, total);
    }
  }
  for (const PairEvaluation& e : report.pairs) {
    const bool syn = e.model.opening_corr > -2;
    add_mean(syn ? report.model_synthetic : report.model_recorded, e.model, static_cast<double>(syn ? synthetic : recorded));
    add_mean(syn ? report.baseline_synthetic : report.baseline_recorded, e.baseline,
             static_cast<double>(syn ? synthetic : recorded));
  }
  return report;
}

namespace {
nlohmann::json scores_json(const LipScores& s) {
  nlohmann::json j{{"face_found", s.found},           {"mouth_movement", s.movement},
                   {"silence_error", s.silence_error}, {"envelope_correlation", s.envelope_corr},
                   {"colour_drift", s.colour_drift}};
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
  return "| " + name + " | " + cell(s.found) + " | " + cell(s.movement) + " | " + cell(s.silence_error) + " | " +
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
      "photo,speech,frames,rest_opening,renderer,face_found,mouth_movement,silence_error,envelope_correlation,"
      "opening_correlation,width_correlation,bilabial_closed,colour_drift\n";
  for (const PairEvaluation& e : r.pairs) {
    j["pairs"].push_back({{"photo", e.photo}, {"speech", e.speech}, {"frames", e.frames}, {"rest_opening", e.rest_opening},
                          {"model", scores_json(e.model)}, {"baseline", scores_json(e.baseline)}});
    for (const auto& [name, s] : {std::pair<std::string, const LipScores&>{"model", e.model}, {"baseline", e.baseline}})
      csv += e.photo + "," + e.speech + "," + std::to_string(e.frames) + "," + cell(e.rest_opening) + "," + name + "," +
             cell(s.found) + "," + cell(s.movement) + "," + cell(s.silence_error) + "," + cell(s.envelope_corr) + "," +
             (s.opening_corr > -2 ? cell(s.opening_corr) : "") + "," + (s.width_corr > -2 ? cell(s.width_corr) : "") +
             "," + (s.bilabial_closed >= 0 ? cell(s.bilabial_closed) : "") + "," + cell(s.colour_drift) + "\n";
  }
  std::string md = "# Evaluation on real photos\n\n";
  for (const auto& [k, v] : about) md += "- " + k + ": " + v + "\n";
  md += "\nMeasured with dlib's landmarks on the generated frames; gaps in inter-ocular distances. Baseline: the jaw "
        "follows the loudness (same renderer).\n\n"
        "| | face found | mouth movement | silence error | envelope corr. | opening corr. | width corr. | "
        "p/b/m closed | colour drift |\n|---|---|---|---|---|---|---|---|---|\n";
  md += md_row("model, synthetic speech", r.model_synthetic) + md_row("baseline, synthetic speech", r.baseline_synthetic) +
        md_row("model, recorded speech", r.model_recorded) + md_row("baseline, recorded speech", r.baseline_recorded);
  md += "\n## Pairs\n\n| photo | speech | renderer | face found | movement | silence error | envelope | opening | width "
        "| p/b/m | drift |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
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
