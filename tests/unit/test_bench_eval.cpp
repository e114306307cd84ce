// thg evaluate and thg bench samplers on a tiny model and dataset: the reports exist, hold every
// cell, and their figures are consistent; bad options fail before any work. Also the SVG plots.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "eval/svg_plot.h"
#include "fake_speech.h"
#include "io/image.h"
#include "io/video_reader.h"
#include "model/talking_head.h"
#include "bench/bench_samplers.h"
#include "bench/bench_unet.h"
#include "bench/evaluate.h"
#include "engine/generate.h"
#include "test_util.h"

namespace thg {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<model::TalkingHeadModel> tiny_model() { return model::TalkingHeadModel::load(test::tiny_model_file()); }

TEST(SvgPlot, OneLinePerSeriesEscapedLabels) {
  eval::LineChart c{"PSNR <vs> steps", "steps", "dB", true, {}};
  c.series.push_back({"ddim", {{2, 20}, {4, 22}, {8, 23}}});
  c.series.push_back({"a&b", {{2, 19}, {4, 24}}});
  const std::string svg = eval::render_svg(c);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  size_t lines = 0;
  for (size_t p = svg.find("<polyline"); p != std::string::npos; p = svg.find("<polyline", p + 1)) ++lines;
  EXPECT_EQ(lines, 2u);
  EXPECT_NE(svg.find("PSNR &lt;vs&gt; steps"), std::string::npos);
  EXPECT_NE(svg.find("a&amp;b"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(Generate, MaxFramesCutsVideoAndAudio) {
  test::ScratchDir dir;
  auto m = tiny_model();
  pipeline::GenerateOptions g;
  g.placement.crop = false;  // test media are not photos of faces
  g.portrait = test::data("media/rgb8.png");
  g.audio = test::data("media/speech_2s.m4a");
  g.output = dir / "cut.mp4";
  g.steps = 1;
  g.max_frames = 7;
  g.progress = false;
  const pipeline::GenerateResult r = pipeline::generate(*m, g);
  EXPECT_EQ(r.frames, 7);
  EXPECT_NEAR(r.audio_seconds, 7.0 / 25.0, 0.01);
  EXPECT_EQ(io::read_video_frames(g.output, {64, 1000}).size(0), 7);
}

double psnr_vs(const at::Tensor& frames, const at::Tensor& image) {
  const double mse = (frames.to(at::kDouble) - image.to(at::kDouble)).pow(2).mean().item<double>();
  return 10.0 * std::log10(255.0 * 255.0 / std::max(mse, 1e-10));
}

// decode: reference_delta. A fresh reference_residual model (random autoencoder) predicts "the
// portrait, unchanged": decoded directly, that is the random decoder's output, nothing like the
// portrait; as portrait + decode(x) - decode(reference) it is the portrait itself (up to H.264).
TEST(Generate, ReferenceDeltaDecodeKeepsThePortraitsPixelsWhereNothingChanged) {
  test::ScratchDir dir;
  model::ModelConfig c = model::load_model_config(test::source_root() / "configs/tiny.yaml");
  c.reference_residual = true;
  c.scheduler.prediction_type = "sample";
  c.scheduler.set_alpha_to_one = true;  // DDIM's last step lands exactly on the prediction
  auto m = model::TalkingHeadModel::random(c, 4);
  const auto clip = synth::read_dataset_manifest(test::tiny_synth_dataset() / "test.jsonl").at(0);
  pipeline::GenerateOptions g;
  g.placement.crop = false;  // test media are not photos of faces
  g.portrait = clip.portrait;
  g.audio = clip.audio;
  g.steps = 3;
  g.max_frames = 5;
  g.progress = false;
  g.crf = 0;
  io::ImageLoadOptions image_options;
  image_options.size = 64;
  const at::Tensor portrait = (io::load_image(clip.portrait, image_options).permute({1, 2, 0}) * 255.0).round();
  double psnr[2];
  for (int k = 0; k < 2; ++k) {
    g.decode = k == 0 ? "direct" : "reference_delta";
    g.output = dir / (g.decode + ".mp4");
    pipeline::generate(*m, g);
    const at::Tensor frames = io::read_video_frames(g.output, {64, 1000});
    ASSERT_EQ(frames.size(0), 5);
    psnr[k] = psnr_vs(frames, portrait);
  }
  EXPECT_LT(psnr[0], 20.0) << "an untrained decoder does not reproduce the portrait";
  EXPECT_GT(psnr[1], 30.0) << "reference_delta must give back the portrait (4:2:0 chroma is the only loss)";
  g.decode = "pixels";
  EXPECT_THROW(pipeline::generate(*m, g), Error);
}

TEST(Evaluate, ScoresModelAndBaselineAndWritesReports) {
  test::ScratchDir dir;
  auto m = tiny_model();
  pipeline::EvaluateOptions o;
  o.dataset = test::tiny_synth_dataset() / "test.jsonl";
  o.out = dir / "eval";
  o.generation.steps = 1;
  const pipeline::EvaluationReport r = pipeline::evaluate(*m, o);
  ASSERT_EQ(r.clips.size(), 1u);
  // The baseline is the portrait itself: no mouth motion at all, so no lip-sync.
  EXPECT_EQ(r.baseline.lipsync, 0.0);
  EXPECT_GT(r.baseline.psnr, 10.0);
  EXPECT_GT(r.frames, 10);
  pipeline::write_evaluation_report(r, o.out, {{"model", "tiny"}});
  std::ifstream in(o.out / "evaluation.json");
  const auto j = nlohmann::json::parse(in);
  EXPECT_DOUBLE_EQ(j["model"]["psnr_db"].get<double>(), r.model.psnr);
  EXPECT_TRUE(fs::exists(o.out / "evaluation.md"));
  EXPECT_TRUE(fs::exists(o.out / "videos" / (r.clips[0].id + ".mp4")));
}

TEST(BenchSamplers, GridReportsEveryCellWithConsistentFigures) {
  test::ScratchDir dir;
  auto m = tiny_model();
  pipeline::SamplerBenchOptions o;
  o.dataset = test::tiny_synth_dataset() / "test.jsonl";
  o.out = dir / "bench";
  o.samplers = {"ddim", "heun"};
  o.steps = {1, 2};
  o.clips = 1;
  o.max_frames = 6;
  o.repeats = 1;
  o.reference_steps = 3;
  int64_t calls = 0;
  o.on_run = [&](int64_t, int64_t, const std::string&) { ++calls; };
  const pipeline::SamplerBenchReport r = pipeline::bench_samplers(*m, o);
  ASSERT_EQ(r.rows.size(), 4u);
  EXPECT_EQ(calls, 1 + 4 * 2);  // reference + (warm-up + 1 repeat) per cell
  for (const auto& row : r.rows) {
    EXPECT_GT(row.seconds_per_frame, 0.0);
    EXPECT_GE(row.total_seconds_per_frame, row.seconds_per_frame);
    EXPECT_GT(row.psnr_vs_reference, 0.0);
    // Heun evaluates the model twice per step except the last.
    EXPECT_EQ(row.evaluations_per_frame, row.sampler == "heun" ? 2 * row.steps - 1 : row.steps) << row.sampler;
  }
  pipeline::write_sampler_bench(r, o.out);
  for (const char* f : {"results.csv", "results.json", "results.md", "psnr_vs_evaluations.svg", "psnr_vs_time.svg",
                        "lipsync_vs_evaluations.svg", "reference_psnr_vs_evaluations.svg"})
    EXPECT_TRUE(fs::exists(o.out / f)) << f;
  std::ifstream csv(o.out / "results.csv");
  int lines = 0;
  for (std::string l; std::getline(csv, l);) ++lines;
  EXPECT_EQ(lines, 5);
}

// On a fresh clone, with no dataset named: the held-out clips that ship in benchmarks/data.
TEST(BenchSamplers, RunsOutOfTheBoxOnTheShippedHeldOutClips) {
  test::ScratchDir dir;
  const auto r = test::run_thg({"--quiet", "bench", "samplers", "--out", (dir / "bench").string(), "--samplers", "ddim",
                                "--steps", "1", "--clips", "1", "--frames", "5", "--repeats", "1", "--reference-steps", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string md = test::read_file(dir / "bench" / "results.md");
  EXPECT_NE(md.find("heldout-synth"), std::string::npos) << md;
  EXPECT_NE(md.find("| ddim |"), std::string::npos) << md;
}

TEST(BenchUnet, GridOverBackendsAndChunkSizesWritesEveryCell) {
  test::ScratchDir dir;
  auto m = tiny_model();
  nn::set_attention_backend(nn::AttentionBackend::Auto);
  pipeline::UnetBenchGridOptions o;
  o.frames = {1, 3};
  o.backends = {nn::AttentionBackend::Math, nn::AttentionBackend::Sdpa};
  o.options.warmup = 0;
  o.options.repeats = 2;
  o.options.progress = false;
  std::vector<std::string> cells;
  o.on_cell = [&](int64_t, int64_t, const std::string& cell) { cells.push_back(cell); };
  const pipeline::UnetBenchReport r = pipeline::bench_unet_grid(*m, o);
  ASSERT_EQ(r.rows.size(), 4u);
  EXPECT_EQ(cells, (std::vector<std::string>{"math x1 frames", "math x3 frames", "sdpa x1 frames", "sdpa x3 frames", ""}));
  EXPECT_EQ(nn::attention_backend(), nn::AttentionBackend::Auto) << "the grid must restore the backend";
  for (const auto& row : r.rows) {
    EXPECT_EQ(row.result.seconds.size(), 2u);
    EXPECT_GT(row.result.median_seconds, 0.0);
    EXPECT_DOUBLE_EQ(row.result.per_frame_seconds, row.result.median_seconds / static_cast<double>(row.result.frames));
    EXPECT_EQ(row.result.peak_gpu_bytes, -1) << "a CPU run has no GPU memory figure";
  }
  EXPECT_EQ(r.rows[1].attention, "math");
  EXPECT_EQ(r.rows[1].result.frames, 3);
  const fs::path out = dir / "bench-unet";
  pipeline::write_unet_bench(r, out);
  std::ifstream csv(out / "results.csv");
  int lines = 0;
  for (std::string l; std::getline(csv, l);) ++lines;
  EXPECT_EQ(lines, 5);
  std::ifstream svg(out / "seconds_per_frame_vs_frames.svg");
  const std::string text((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find(">math<"), std::string::npos);
  EXPECT_NE(text.find(">sdpa<"), std::string::npos);
  const auto j = nlohmann::json::parse(std::ifstream(out / "results.json"));
  EXPECT_EQ(j["rows"].size(), 4u);
  EXPECT_TRUE(fs::exists(out / "results.md"));
  o.frames = {0};
  EXPECT_THROW(pipeline::bench_unet_grid(*m, o), Error);
}

TEST(BenchSamplers, UnknownSamplerOrStepsFailBeforeAnyWork) {
  test::ScratchDir dir;
  auto m = tiny_model();
  pipeline::SamplerBenchOptions o;
  o.dataset = test::tiny_synth_dataset() / "test.jsonl";
  o.out = dir / "bench";
  o.samplers = {"ddim", "nope"};
  EXPECT_THROW(pipeline::bench_samplers(*m, o), Error);
  o.samplers = {"ddim"};
  o.steps = {5000};
  EXPECT_THROW(pipeline::bench_samplers(*m, o), Error);
  EXPECT_FALSE(fs::exists(o.out));
}

}  // namespace
}  // namespace thg
