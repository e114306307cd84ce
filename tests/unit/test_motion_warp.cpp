// The motion-warp family through the engine: configs, files, generation on a real photo, refusals.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "bench/evaluate_photos.h"
#include "core/error.h"
#include "eval/metrics.h"
#include "model/face_warp.h"
#include "portrait/face_detector.h"

#include <cmath>
#include <functional>
#include <cstdio>
#include <filesystem>
#include "engine/generate.h"
#include "io/audio.h"
#include "io/frame_sink.h"
#include "model/family.h"
#include "model/motion_warp.h"
#include "model/talking_head.h"
#include "portrait/prepare.h"
#include "test_util.h"

namespace thg {
namespace {

model::ModelConfig tiny_motion_config() {
  std::string yaml = test::read_file(test::source_root() / "configs/motion.yaml");
  yaml += "\n";
  model::ModelConfig c = model::parse_model_config(yaml, "motion.yaml");
  c.image_size = 128;
  c.motion.dim = 32;
  c.motion.layers = 1;
  c.audio.dim = 32;
  c.audio.layers = 1;
  c.generation.steps = 2;
  return c;
}

TEST(MotionWarp, SavesAndLoadsAsItsFamily) {
  test::ScratchDir dir;
  auto m = model::MotionWarpModel::random(tiny_motion_config(), 5);
  m->save(dir / "m.safetensors", at::kFloat);
  std::unique_ptr<model::ModelFamily> loaded = model::load_model_file(dir / "m.safetensors");
  EXPECT_EQ(loaded->config().family, "motion-warp");
  EXPECT_EQ(loaded->frame_shape(128), std::vector<int64_t>{model::kMotionChannels});
  auto a = m->named_parameters(), b = loaded->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(*a[i].second, *b[i].second)) << a[i].first;
  test::expect_input_error([&] { model::as_pixel_latent(*loaded, "thg bench unet"); }, "", "needs a pixel-latent model");
}

TEST(MotionWarp, BadMotionSectionsAreRefused) {
  const std::string yaml = test::read_file(test::source_root() / "configs/motion.yaml");
  EXPECT_EQ(model::parse_model_config(yaml, "m.yaml").family, "motion-warp");
  std::string bad = yaml;
  bad.replace(bad.find("  max_frames: 64"), 16, "  max_frames: 16");
  test::expect_input_error([&] { model::parse_model_config(bad, "m.yaml"); }, "m.yaml", "chunk_frames must be at most");
}

TEST(MotionWarp, GeneratesOnARealPhotoAndLeavesTheBackgroundAlone) {
  auto m = model::MotionWarpModel::random(tiny_motion_config(), 5);
  portrait::PreparedPortrait p = portrait::prepare_portrait(test::data("photos/astronaut.png"), 128,
                                                            portrait::FaceTemplate{}, portrait::PortraitOptions{});
  pipeline::GenerateInputs in;
  in.portrait = p.crop;
  in.landmarks = model::landmarks_tensor(p.crop_landmarks());
  in.speech = io::decode_audio(test::data("media/speech_2s.m4a"));
  pipeline::GenerateOptions o;
  o.max_frames = 10;
  o.progress = false;
  io::MemoryFrameSink sink;
  pipeline::generate(*m, in, o, sink);
  const at::Tensor frames = sink.frames();  // uint8 [10, 128, 128, 3]
  ASSERT_EQ(frames.size(0), 10);
  const at::Tensor photo = (p.crop.permute({1, 2, 0}) * 255).round().to(at::kByte);
  // The crop's corners are background: the renderer only moves the face.
  const at::Tensor corner_diff =
      (frames.slice(1, 0, 8).slice(2, 0, 8).to(at::kInt) - photo.slice(0, 0, 8).slice(1, 0, 8).to(at::kInt)).abs();
  EXPECT_LE(corner_diff.max().item<int>(), 1);
  // Without landmarks (--no-crop) the crop is taken as aligned to the face template: the template's
  // mouth is where this crop's mouth is, so the face still moves and the corners still do not.
  in.landmarks = at::Tensor();
  io::MemoryFrameSink other;
  pipeline::generate(*m, in, o, other);
  const at::Tensor templated = other.frames();
  EXPECT_LE((templated.slice(1, 0, 8).slice(2, 0, 8).to(at::kInt) - photo.slice(0, 0, 8).slice(1, 0, 8).to(at::kInt))
                .abs().max().item<int>(), 1);
}

}  // namespace
}  // namespace thg

namespace thg {
namespace {

namespace fs = std::filesystem;

// Issue 22's targets for mouth movement and envelope correlation (the shipped model measures 0.084
// and 0.376 here; weights/MOTION.md has the full evaluation).
constexpr double kMinimumMovement = 0.06;
constexpr double kMinimumCorrelation = 0.3;

// The shipped motion model on a real photo with speech, measured as issue 22's evaluation measures
// it: dlib's landmarks on every generated frame, the inner-lip gap over the inter-ocular distance.
TEST(MotionModel, TheShippedModelMovesRealLipsWithTheSpeech) {
  const fs::path weights = test::source_root() / "weights/motion.safetensors";
  if (!fs::exists(weights)) GTEST_SKIP() << weights << " is not there";
  std::unique_ptr<model::ModelFamily> m = model::load_model_file(weights);
  pipeline::GenerateOptions o;
  o.portrait = test::source_root() / "examples/astronaut.png";
  o.audio = test::source_root() / "examples/speech.wav";
  o.progress = false;
  io::MemoryFrameSink sink;
  o.placement.framing = "square";
  o.placement.max_size = 512;
  pipeline::generate(*m, o, sink);
  const at::Tensor frames = sink.frames();  // [N, H, W, 3]
  std::vector<double> opening;
  int found = 0;
  for (int64_t i = 0; i < frames.size(0); ++i) {
    const at::Tensor f = frames[i].contiguous();
    const pipeline::FaceMeasure m =
        pipeline::measure_face(f.data_ptr<uint8_t>(), static_cast<int>(f.size(1)), static_cast<int>(f.size(0)));
    if (!m.found) continue;
    ++found;
    opening.push_back(m.opening);
  }
  ASSERT_EQ(found, frames.size(0)) << "a face in every frame";
  const double best = pipeline::best_lag_pearson(
      opening, pipeline::loudness_per_frame(io::decode_audio(o.audio), 25, static_cast<int64_t>(opening.size())));
  double mean = 0, var = 0;
  for (double v : opening) mean += v / static_cast<double>(opening.size());
  for (double v : opening) var += (v - mean) * (v - mean) / static_cast<double>(opening.size());
  std::printf("motion model on the astronaut: lip gap mean %.3f, std %.3f (inter-ocular), envelope correlation %.3f\n",
              mean, std::sqrt(var), best);
  EXPECT_GE(std::sqrt(var), kMinimumMovement);
  EXPECT_GE(best, kMinimumCorrelation);
}

}  // namespace
}  // namespace thg

#include "fake_speech.h"
#include "synth/dataset.h"

namespace thg {
namespace {

// thg evaluate --photos: the measurements mean what they say. The loudness baseline opens the jaw
// with the loudness by construction, so its measured envelope correlation must be high and its
// lips must move; a p/b/m never closes a smiling photo's mouth under it.
TEST(EvaluatePhotos, MeasuresTheModelAndTheLoudnessBaselineWithDlib) {
  const fs::path weights = test::source_root() / "weights/motion.safetensors";
  if (!fs::exists(weights)) GTEST_SKIP() << weights << " is not there";
  test::ScratchDir dir;
  test::FakeSpeech speech;
  synth::DatasetOptions d;
  d.output = dir / "data";
  d.train_clips = 0;
  d.test_clips = 1;
  d.threads = 1;
  d.languages = {"en"};
  d.render_video = false;
  synth::make_dataset(d, speech);
  std::unique_ptr<model::ModelFamily> m = model::load_model_file(weights);
  pipeline::PhotoEvaluateOptions o;
  o.photos = {test::source_root() / "examples/astronaut.png"};
  o.dataset = dir / "data/test.jsonl";
  o.clips = 1;
  o.out = dir / "eval";
  o.generation.max_frames = 50;
  o.generation.placement.max_size = 384;
  const pipeline::PhotoEvaluationReport r = pipeline::evaluate_photos(*m, o);
  pipeline::write_photo_evaluation(r, o.out, {{"model", "motion"}});
  ASSERT_EQ(r.pairs.size(), 1u);
  const pipeline::PairEvaluation& e = r.pairs.front();
  std::printf("model: movement %.3f envelope %.3f opening %.3f p/b/m %.2f | baseline: movement %.3f envelope %.3f "
              "opening %.3f p/b/m %.2f\n",
              e.model.movement, e.model.envelope_corr, e.model.opening_corr, e.model.bilabial_closed,
              e.baseline.movement, e.baseline.envelope_corr, e.baseline.opening_corr, e.baseline.bilabial_closed);
  EXPECT_EQ(e.baseline.found, 1.0);
  EXPECT_GT(e.baseline.envelope_corr, 0.8);
  EXPECT_GT(e.baseline.movement, 0.02);
  EXPECT_GT(e.rest_opening, 0.1);  // the astronaut smiles with her teeth showing
  EXPECT_LT(e.baseline.bilabial_closed, 0.5);
  EXPECT_EQ(e.model.found, 1.0);
  for (const char* f : {"photo_evaluation.json", "photo_evaluation.md", "photo_evaluation.csv", "opening.svg"})
    EXPECT_TRUE(fs::exists(o.out / f)) << f;
}

}  // namespace
}  // namespace thg

#include <c10/core/InferenceMode.h>

#include "audio/speech_activity.h"
#include "model/motion.h"

namespace thg {
namespace {

TEST(SpeechActivity, APauseRestsTheMouthButADipBetweenSyllablesDoesNot) {
  // Loud frames (1.0) with a one-frame dip at 3 and a four-frame pause at 8..11, both 40 dB down.
  std::vector<double> loudness(16, 1.0);
  loudness[3] = 0.01;
  for (int f = 8; f < 12; ++f) loudness[static_cast<size_t>(f)] = 0.01;
  const std::vector<float> a = audio::speech_activity(loudness);
  ASSERT_EQ(a.size(), loudness.size());
  EXPECT_EQ(a[3], 1.0f) << "one quiet frame is a dip, not a pause";
  for (int f = 8; f < 12; ++f) EXPECT_EQ(a[static_cast<size_t>(f)], 0.0f) << f;
  EXPECT_EQ(a[7], 0.5f) << "the lips are half-way closed the frame before";
  EXPECT_EQ(a[12], 0.5f);
  EXPECT_EQ(a[0], 1.0f);
  EXPECT_EQ(a[15], 1.0f);
  // 20 dB down is not quiet enough for the default 30 dB; it is for 15 dB.
  for (int f = 8; f < 12; ++f) loudness[static_cast<size_t>(f)] = 0.1;
  EXPECT_EQ(audio::speech_activity(loudness)[9], 1.0f);
  EXPECT_EQ(audio::speech_activity(loudness, audio::PauseOptions{15.0, 3})[9], 0.0f);
  // Digital silence throughout: all pause.
  EXPECT_EQ(audio::speech_activity(std::vector<double>(5, 0.0))[2], 0.0f);
}

TEST(SpeechActivity, FrameLoudnessIsTheRmsOfEachFramesSamples) {
  std::vector<float> x(1600, 0.5f);  // 0.1 s at 16 kHz: frames of 640 samples at 25 fps
  for (size_t i = 640; i < 1280; ++i) x[i] = (i % 2) ? 0.25f : -0.25f;
  const std::vector<double> r = audio::frame_loudness(x, 16000, 25, 3);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_NEAR(r[0], 0.5, 1e-6);
  EXPECT_NEAR(r[1], 0.25, 1e-6);
  EXPECT_NEAR(r[2], 0.5, 1e-6);  // the last frame is partial: 320 samples
}

TEST(MotionWarp, RestInPausesMovesOnlyTheMouthToRest) {
  model::ModelConfig c = tiny_motion_config();
  c.motion.mean = std::vector<double>(model::kMotionChannels, 0.1);
  c.motion.std = std::vector<double>(model::kMotionChannels, 0.5);
  auto m = model::MotionWarpModel::random(c, 3);
  const at::Tensor samples = at::randn({3, model::kMotionChannels});
  const at::Tensor out = m->rest_in_pauses(samples, at::tensor({1.0f, 0.0f, 0.5f}));
  EXPECT_TRUE(at::allclose(out[0], samples[0])) << "speaking: unchanged";
  const at::Tensor paused = m->denormalise(out[1]), before = m->denormalise(samples[1]);
  const model::MotionFrame rest = model::rest_motion();
  for (int ch = 0; ch < model::kMotionChannels; ++ch) {
    const bool mouth = ch == model::kOpen || ch == model::kWidth || ch == model::kRound || ch == model::kPress;
    EXPECT_NEAR(paused[ch].item<float>(), mouth ? rest[static_cast<size_t>(ch)] : before[ch].item<float>(), 1e-5)
        << model::motion_channel_name(ch);
  }
  const at::Tensor half = m->denormalise(out[2]), half_before = m->denormalise(samples[2]);
  EXPECT_NEAR(half[model::kOpen].item<float>(), 0.5f * half_before[model::kOpen].item<float>(), 1e-5);
  c.motion.pause_quiet_db = 0;
  EXPECT_FALSE(model::MotionWarpModel::random(c, 3)->pause_options().has_value()) << "0 turns it off";
}

// The pauses in a real (telephone-band) recording: 6 and 3 frames where the speaker stops between
// phrases. A person's mouth is back at rest there; the target is within 0.02 inter-ocular
// distances of the photo's own gap. The same weights without the pause rest (pause_quiet_db 0)
// keep the mouth open there (0.07 measured), which shows that this check can fail.
double pause_error(const model::ModelFamily& m, const pipeline::GenerateOptions& o) {
  io::MemoryFrameSink sink;
  pipeline::generate(m, o, sink);
  const at::Tensor frames = sink.frames();
  const std::vector<float> activity =
      audio::speech_activity(pipeline::loudness_per_frame(io::decode_audio(o.audio), 25, frames.size(0)));
  const model::FaceTemplateConfig& f = m.config().face;
  const portrait::PreparedPortrait photo = portrait::prepare_portrait(
      o.portrait, static_cast<int>(m.config().image_size), portrait::FaceTemplate{f.eye_y, f.eye_distance, f.mouth_y},
      o.placement);
  const pipeline::FaceMeasure rest = pipeline::measure_face(photo.canvas_pixels.data(), photo.canvas.width, photo.canvas.height);
  EXPECT_TRUE(rest.found);
  double error = 0;
  int paused = 0;
  for (int64_t i = 0; i < frames.size(0); ++i) {
    if (activity[static_cast<size_t>(i)] > 0) continue;
    const at::Tensor frame = frames[i].contiguous();
    const pipeline::FaceMeasure g =
        pipeline::measure_face(frame.data_ptr<uint8_t>(), static_cast<int>(frame.size(1)), static_cast<int>(frame.size(0)));
    EXPECT_TRUE(g.found) << "frame " << i;
    error += std::abs(g.opening - rest.opening);
    ++paused;
  }
  EXPECT_GE(paused, 8) << "the recording pauses around frames 72-77 and 133-135";
  return paused ? error / paused : 1.0;
}

// `m`'s weights under a config changed by `change` (a switch of the family, not of the weights).
std::unique_ptr<model::MotionWarpModel> same_weights(model::MotionWarpModel& m,
                                                     const std::function<void(model::ModelConfig&)>& change) {
  model::ModelConfig c = m.config();
  change(c);
  std::unique_ptr<model::MotionWarpModel> copy = model::MotionWarpModel::random(c, 0);
  c10::InferenceMode no_grad;
  auto from = m.named_parameters(), to = copy->named_parameters();
  EXPECT_EQ(from.size(), to.size());
  for (size_t i = 0; i < from.size() && i < to.size(); ++i) to[i].second->copy_(*from[i].second);
  return copy;
}

TEST(MotionModel, TheMouthRestsInThePausesOfRealSpeech) {
  const fs::path weights = test::source_root() / "weights/motion.safetensors";
  if (!fs::exists(weights)) GTEST_SKIP() << weights << " is not there";
  std::unique_ptr<model::MotionWarpModel> m = model::MotionWarpModel::load(weights);
  const auto ungated = same_weights(*m, [](model::ModelConfig& c) { c.motion.pause_quiet_db = 0; });
  pipeline::GenerateOptions o;
  o.portrait = test::source_root() / "benchmarks/data/photos/astronaut.png";
  o.audio = test::source_root() / "benchmarks/data/speech/asterisk_it_carlo.wav";
  o.progress = false;
  o.placement.max_size = 512;
  const double gated = pause_error(*m, o), open = pause_error(*ungated, o);
  std::printf("mean |gap - photo's gap| in pauses: %.3f with the pause rest, %.3f without\n", gated, open);
  EXPECT_LE(gated, 0.02);
  EXPECT_GT(open, 0.03) << "without the rest the denoiser's mouth stays open in these pauses";
}

}  // namespace
}  // namespace thg

#include "model/blinks.h"

namespace thg {
namespace {

TEST(Blinks, ASeededScheduleAtAHumanRateThatEveryChunkAgreesOn) {
  const int64_t frames = 25 * 120;  // two minutes
  const std::vector<float> whole = model::blink_closure(7, 25, 0, frames, 17);
  int blinks = 0;
  for (size_t f = 1; f < whole.size(); ++f) blinks += whole[f] >= 0.99f && whole[f - 1] < 0.99f;
  EXPECT_GE(blinks, 24);  // 34 expected; intervals are 0.5x..1.5x the mean
  EXPECT_LE(blinks, 48);
  // The lids close faster than they open, and a blink is a few frames, not a moment or a second.
  int64_t closed = 0;
  for (float v : whole) closed += v > 0.5f;
  EXPECT_GT(closed, blinks * 2);
  EXPECT_LT(closed, blinks * 8);
  // Chunks of 40 frames see the same blinks as the whole clip.
  for (int64_t first = 0; first < frames; first += 40) {
    const std::vector<float> part = model::blink_closure(7, 25, first, 40, 17);
    for (int64_t i = 0; i < 40; ++i) ASSERT_EQ(part[static_cast<size_t>(i)], whole[static_cast<size_t>(first + i)]) << first + i;
  }
  EXPECT_NE(model::blink_closure(8, 25, 0, frames, 17), whole) << "the seed decides";
  const std::vector<float> none = model::blink_closure(7, 25, 0, frames, 0);
  EXPECT_TRUE(std::all_of(none.begin(), none.end(), [](float v) { return v == 0; }));
}

// Eye aperture of the first face dlib finds: the lids' gap over the eye's width, both eyes.
double eye_aperture(const at::Tensor& rgb) {
  const at::Tensor f = rgb.contiguous();
  io::RgbaImage img;
  img.width = static_cast<int>(f.size(1));
  img.height = static_cast<int>(f.size(0));
  img.pixels.assign(static_cast<size_t>(img.width) * img.height * 4, 255);
  const uint8_t* p = f.data_ptr<uint8_t>();
  for (size_t k = 0; k < static_cast<size_t>(img.width) * img.height; ++k)
    for (int c = 0; c < 3; ++c) img.pixels[k * 4 + c] = p[k * 3 + c];
  const auto faces = portrait::detect_faces(img, "frame");
  if (faces.empty()) return -1;
  const portrait::Landmarks& l = faces.front().landmarks;
  const auto d = [&](int a, int b) { return std::hypot(l[a].x - l[b].x, l[a].y - l[b].y); };
  return (d(37, 41) + d(38, 40)) / (2 * d(36, 39)) / 2 + (d(43, 47) + d(44, 46)) / (2 * d(42, 45)) / 2;
}

// The shipped model on a real photo: at the drawn blinks' shut frames dlib sees the lids down;
// without drawn blinks (blinks_per_minute 0, same weights) the eyes stay open there.
TEST(MotionModel, TheEyesBlinkOnARealPhoto) {
  const fs::path weights = test::source_root() / "weights/motion.safetensors";
  if (!fs::exists(weights)) GTEST_SKIP() << weights << " is not there";
  std::unique_ptr<model::MotionWarpModel> m = model::MotionWarpModel::load(weights);
  const auto no_drawn = same_weights(*m, [](model::ModelConfig& c) { c.motion.blinks_per_minute = 0; });
  pipeline::GenerateOptions o;
  o.portrait = test::source_root() / "examples/astronaut.png";
  o.audio = test::source_root() / "examples/speech.wav";
  o.progress = false;
  o.placement.max_size = 512;
  o.seed = 3;
  const std::vector<float> closure = model::blink_closure(o.seed, 25, 0, 150, m->config().motion.blinks_per_minute);
  std::vector<int64_t> shut, open;
  for (int64_t f = 0; f < 150; ++f) (closure[static_cast<size_t>(f)] >= 0.99f ? shut : open).push_back(f);
  ASSERT_GE(shut.size(), 1u) << "seed 3 blinks in these 6 s";
  io::MemoryFrameSink with, without;
  pipeline::generate(*m, o, with);
  pipeline::generate(*no_drawn, o, without);
  double open_eyes = 0;
  for (size_t i = 0; i < open.size(); i += 10) open_eyes += eye_aperture(with.frames()[open[i]]);
  open_eyes /= static_cast<double>((open.size() + 9) / 10);
  for (int64_t f : shut) {
    const double blink = eye_aperture(with.frames()[f]), kept = eye_aperture(without.frames()[f]);
    std::printf("frame %lld: eye aperture %.3f with drawn blinks, %.3f without (open eyes: %.3f)\n",
                static_cast<long long>(f), blink, kept, open_eyes);
    // dlib's landmarks never quite meet on shut eyes (its aperture bottoms out near 0.15-0.2 on
    // photos of closed eyes); measured 0.18 against 0.33 open, and 0.32 without drawn blinks.
    EXPECT_LT(blink, 0.65 * open_eyes) << "frame " << f;
    EXPECT_GT(kept, 0.85 * open_eyes) << "frame " << f;
  }
}

}  // namespace
}  // namespace thg
