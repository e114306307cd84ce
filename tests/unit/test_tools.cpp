// The tools side run as users run it: the thg-synth and thg-train binaries (exit codes, one-line
// errors, SIGINT, kill -9 then resume), dataset resume after an interruption in the library, and
// an evaluation oracle (the ground truth scores as the best prediction; the bundled model beats
// the repeat-the-portrait baseline on a clip it never saw).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/cancel.h"
#include "core/error.h"
#include "eval/metrics.h"
#include "fake_speech.h"
#include "io/probe.h"
#include "model/family.h"
#include "model/motion.h"
#include "model/talking_head.h"
#include "bench/evaluate.h"
#include "synth/dataset.h"
#include "test_util.h"
#include "train/trainer.h"

namespace thg {
namespace {

namespace fs = std::filesystem;

size_t complete_clips(const fs::path& dataset) {
  size_t n = 0;
  std::error_code ec;
  if (!fs::exists(dataset / "clips")) return 0;
  for (const auto& e : fs::directory_iterator(dataset / "clips", ec)) n += fs::exists(e.path() / "mouth.csv") ? 1 : 0;
  return n;
}

// The files (relative paths, hidden ones included) that exist in only one of two folders or whose
// bytes differ: empty when the two trees are identical.
std::vector<std::string> differing_files(const fs::path& a, const fs::path& b) {
  std::map<std::string, std::string> in_a;
  for (const auto& e : fs::recursive_directory_iterator(a))
    if (e.is_regular_file()) in_a[fs::relative(e.path(), a).string()] = test::read_file(e.path());
  std::vector<std::string> differing;
  for (const auto& e : fs::recursive_directory_iterator(b)) {
    if (!e.is_regular_file()) continue;
    const std::string name = fs::relative(e.path(), b).string();
    auto it = in_a.find(name);
    if (it == in_a.end() || it->second != test::read_file(e.path())) differing.push_back(name);
    if (it != in_a.end()) in_a.erase(it);
  }
  for (const auto& [name, bytes] : in_a) differing.push_back(name);
  return differing;
}

// --- Dataset resume, in the library ---

TEST(Dataset, AnInterruptedDatasetIsCompletedByTheNextRunAsIfNeverInterrupted) {
  test::FakeSpeech speech;
  test::ScratchDir dir;
  synth::DatasetOptions o;
  o.train_clips = 4;
  o.test_clips = 1;
  o.size = 64;
  o.threads = 1;
  o.output = dir / "straight";
  synth::make_dataset(o, speech);

  o.output = dir / "parts";
  o.on_clip = [](int64_t done, int64_t) {
    if (done == 2) request_interrupt();  // stop while the third clip is being written
  };
  try {
    synth::make_dataset(o, speech);
    ADD_FAILURE() << "the interrupted run completed";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Cancelled) << e.what();
  }
  clear_interrupt();
  EXPECT_EQ(complete_clips(o.output), 2u);
  EXPECT_FALSE(fs::exists(o.output / "train.jsonl")) << "a manifest must not list a dataset that is not complete";
  o.on_clip = nullptr;
  const synth::DatasetSummary s = synth::make_dataset(o, speech);
  EXPECT_EQ(s.clips, 5);
  EXPECT_EQ(s.skipped, 2);
  EXPECT_EQ(differing_files(dir / "parts", dir / "straight"), std::vector<std::string>{});
}

// --- thg-synth ---

// The bytes of every file of the clips that are complete (have their mouth.csv) in `dataset`.
std::map<std::string, std::string> clip_files_by_name(const fs::path& dataset) {
  std::map<std::string, std::string> files;
  for (const auto& clip : fs::directory_iterator(dataset / "clips"))
    if (fs::exists(clip.path() / "mouth.csv"))
      for (const auto& f : fs::directory_iterator(clip.path()))
        files[fs::relative(f.path(), dataset).string()] = test::read_file(f.path());
  return files;
}

// A resumed espeak-ng dataset: every clip listed and complete (video frames = mouth rows), nothing
// else in the clip folders (no temporaries a killed run left), and the clips that were complete
// before the resume untouched. (It is not byte-identical to an uninterrupted run: espeak-ng's
// output depends on the utterances it made before in the same process; the library-level test
// above shows the resume logic itself is exact.)
void expect_complete_dataset(const fs::path& dataset, size_t clips, const std::map<std::string, std::string>& kept) {
  const auto listed = synth::read_dataset_manifest(dataset / "train.jsonl");
  EXPECT_EQ(listed.size(), clips);
  for (const synth::DatasetClip& clip : listed) {
    const auto frames = static_cast<int64_t>(synth::read_mouth_track(clip.mouth).size());
    EXPECT_EQ(io::probe_media(clip.video).video_frames, frames) << clip.id;
    std::vector<std::string> names;
    for (const auto& f : fs::directory_iterator(clip.mouth.parent_path())) names.push_back(f.path().filename().string());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"motion.csv", "mouth.csv", "portrait.png", "speech.wav", "video.mp4"})) << clip.id;
  }
  for (const auto& [name, bytes] : kept) EXPECT_TRUE(test::read_file(dataset / name) == bytes) << name << " was rewritten";
}

class SynthCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string(THG_SYNTH_BINARY).empty()) GTEST_SKIP() << "thg-synth is not built (no espeak-ng)";
  }
  test::ProcessResult synth(const std::vector<std::string>& args, const test::ChildFaults& faults = {}) {
    return test::run_program(THG_SYNTH_BINARY, args, faults);
  }
  std::vector<std::string> small(const fs::path& out, int clips) {
    return {"--out", out.string(), "--train-clips", std::to_string(clips), "--test-clips", "0", "--size", "64",
            "--threads", "1", "--languages", "en"};
  }
  test::ScratchDir dir_;
};

TEST_F(SynthCli, BadOptionsExitTwoWithOneLine) {
  auto r = synth({"--out", (dir_ / "d").string(), "--size", "33"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "thg-synth: --size must be even, 32..1024\n");
  r = synth({"--out", (dir_ / "d").string(), "--languages", "xx"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("xx"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = synth({"--size", "64"});  // --out is required
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;
}

TEST_F(SynthCli, SigintStopsWithExit130AndTheNextRunCompletesTheDataset) {
  const fs::path out = dir_ / "d";
  test::ChildFaults f;
  f.interrupt_when = [&] { return complete_clips(out) >= 1; };
  auto r = synth(small(out, 4), f);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_FALSE(fs::exists(out / "train.jsonl"));
  const auto kept = clip_files_by_name(out);
  r = synth(small(out, 4));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("4 clips ("), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("(0 already there)"), std::string::npos) << "the interrupted run's clips were redone: " << r.out;
  expect_complete_dataset(out, 4, kept);
}

TEST_F(SynthCli, KillDashNineMidClipThenResumeGivesCompleteClips) {
  const fs::path out = dir_ / "d";
  // Killed while the second clip's video is being written: its folder has files but no mouth.csv.
  auto writing_second_clip = [&] {
    std::error_code ec;
    if (complete_clips(out) < 1) return false;
    for (const auto& e : fs::directory_iterator(out / "clips", ec))
      if (!fs::exists(e.path() / "mouth.csv") && fs::exists(e.path() / "speech.wav")) return true;
    return false;
  };
  ASSERT_EQ(synth(small(out, 3), {.interrupt_when = writing_second_clip, .signal = SIGKILL}).exit_code, 128 + SIGKILL)
      << "thg-synth finished before it could be killed";
  const auto kept = clip_files_by_name(out);
  auto r = synth(small(out, 3));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_complete_dataset(out, 3, kept);
}

// --- thg-train ---

class TrainCli : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_file(dir_ / "r.yaml", "model: " + (test::source_root() / "configs/tiny.yaml").string() +
                                          "\nseed: 3\nmax_clips: 3\ncheckpoint_every: 2\nlog_every: 1\n"
                                          "vae: {steps: 4, batch: 2, lr: 1.0e-3, warmup: 1, crop: 32}\n"
                                          "unet: {steps: 40, batch: 2, frames: 4, lr: 1.0e-3, warmup: 1}\n");
  }
  test::ProcessResult train(const std::vector<std::string>& args, const test::ChildFaults& faults = {}) {
    return test::run_program(THG_TRAIN_BINARY, args, faults);
  }
  std::vector<std::string> args(const std::string& run, std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"--recipe", (dir_ / "r.yaml").string(), "--dataset",
                               (test::tiny_synth_dataset() / "train.jsonl").string(), "--out", (dir_ / run).string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  test::ScratchDir dir_;
};

TEST_F(TrainCli, BadInputsExitTwoWithOneLineNamingTheFile) {
  auto r = train({"--recipe", (dir_ / "none.yaml").string(), "--dataset", "x.jsonl", "--out", (dir_ / "o").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("none.yaml"), std::string::npos) << r.err;
  r = train({"--recipe", (dir_ / "r.yaml").string(), "--dataset", (dir_ / "missing.jsonl").string(), "--out",
             (dir_ / "o").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("missing.jsonl"), std::string::npos) << r.err;
  r = train(args("o", {"--stage", "everything"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--stage must be vae, unet or all"), std::string::npos) << r.err;
}

TEST_F(TrainCli, MaxStepsExits75AndSigintExits130BothResumable) {
  auto r = train(args("run", {"--max-steps", "2"}));
  EXPECT_EQ(r.exit_code, 75) << r.err;
  EXPECT_TRUE(fs::exists(dir_ / "run" / "vae.ckpt.safetensors"));
  EXPECT_FALSE(fs::exists(dir_ / "run" / "vae.safetensors"));
  // SIGINT once the unet stage has checkpointed: a clean stop, exit 130, a checkpoint to resume.
  test::ChildFaults f;
  f.interrupt_when = [&] { return fs::exists(dir_ / "run" / "unet.ckpt.safetensors"); };
  r = train(args("run"), f);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_NE(r.err.find("resume"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "run" / "unet.safetensors"));
  r = train(args("run", {"--export", (dir_ / "model.safetensors").string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("unet: resumed at step"), std::string::npos) << r.err;
  EXPECT_NO_THROW(model::TalkingHeadModel::load(dir_ / "model.safetensors"));
}

TEST_F(TrainCli, KillDashNineThenResumeEqualsAnUninterruptedRun) {
  ASSERT_EQ(train(args("straight")).exit_code, 0);
  // Killed mid-stage, after at least one unet checkpoint (written atomically) exists.
  auto checkpointed = [&] { return fs::exists(dir_ / "killed" / "unet.ckpt.safetensors"); };
  ASSERT_EQ(train(args("killed"), {.interrupt_when = checkpointed, .signal = SIGKILL}).exit_code, 128 + SIGKILL)
      << "thg-train finished before it could be killed";
  auto r = train(args("killed"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(test::read_file(dir_ / "killed" / "unet.safetensors") == test::read_file(dir_ / "straight" / "unet.safetensors"))
      << "the resumed run's result differs from the uninterrupted run's";
}

// --- Evaluation oracle ---

TEST(EvaluateOracle, TheGroundTruthScoresBestAndAShiftedOneLosesLipSync) {
  const synth::DatasetClip clip = synth::read_dataset_manifest(test::tiny_synth_dataset() / "test.jsonl").at(0);
  const pipeline::ClipTruth truth = pipeline::load_clip_truth(clip, 64);
  const pipeline::Scores exact = pipeline::score_frames(truth.frames, truth);
  EXPECT_EQ(exact.psnr, 100.0);  // metrics.h: identical frames score the cap
  EXPECT_NEAR(exact.ssim, 1.0, 1e-6);
  EXPECT_NEAR(exact.lipsync, 1.0, 1e-6);
  EXPECT_NEAR(exact.temporal, 0.0, 1e-9);
  // The same video three frames late (the first frame repeated): the mouth no longer follows.
  const int64_t n = truth.frames.size(0), lag = 3;
  at::Tensor late = at::cat({truth.frames.slice(0, 0, 1).expand({lag, -1, -1, -1}), truth.frames.slice(0, 0, n - lag)});
  const pipeline::Scores shifted = pipeline::score_frames(late, truth);
  std::printf("lip-sync: exact %.3f, %lld frames late %.3f\n", exact.lipsync, static_cast<long long>(lag), shifted.lipsync);
  EXPECT_LT(shifted.lipsync, exact.lipsync - 0.2);
  EXPECT_LT(shifted.psnr, exact.psnr);
}

TEST(EvaluateOracle, TheBundledModelBeatsTheBaselineOnAnUnseenClip) {
  const fs::path weights = test::source_root() / "weights/pixel-latent.safetensors";
  if (!fs::exists(weights)) GTEST_SKIP() << "no bundled weights";
  if (std::string(THG_SYNTH_BINARY).empty()) GTEST_SKIP() << "thg-synth is not built (no espeak-ng)";
  test::ScratchDir dir;
  // A held-out clip of a dataset seed the shipped model was not trained on (it used seed 1).
  auto r = test::run_program(THG_SYNTH_BINARY, {"--out", (dir / "data").string(), "--train-clips", "0", "--test-clips",
                                                "1", "--seed", "97", "--threads", "1", "--languages", "en"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_thg({"--quiet", "evaluate", "--dataset", (dir / "data" / "test.jsonl").string(), "--out",
                     (dir / "eval").string(), "--weights", weights.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = nlohmann::json::parse(std::ifstream(dir / "eval" / "evaluation.json"));
  const double model_psnr = report["model"]["psnr_db"], base_psnr = report["baseline_repeat_portrait"]["psnr_db"];
  const double model_sync = report["model"]["lipsync_pearson"], base_sync = report["baseline_repeat_portrait"]["lipsync_pearson"];
  std::printf("bundled model: %.2f dB, lip-sync %.3f; baseline: %.2f dB, lip-sync %.3f\n", model_psnr, model_sync,
              base_psnr, base_sync);
  EXPECT_GT(model_psnr, base_psnr + 1.0);
  EXPECT_GT(model_sync, 0.5);
  EXPECT_GT(model_sync, base_sync + 0.5);
}

}  // namespace
}  // namespace thg

namespace thg {
namespace {

// The motion-warp stage end to end: a motion-only dataset (no video), a time-boxed run that
// stops with a checkpoint, its resumption, and a result that loads as a motion-warp model whose
// config carries the data's normalisation.
TEST(MotionTrainCli, AMotionOnlyDatasetTrainsResumesAndExports) {
  if (std::string(THG_SYNTH_BINARY).empty()) GTEST_SKIP() << "thg-synth is not built (no espeak-ng)";
  test::ScratchDir dir;
  auto s = test::run_program(THG_SYNTH_BINARY, {"--out", (dir / "data").string(), "--train-clips", "6", "--test-clips",
                                                "0", "--threads", "1", "--languages", "en", "--no-video"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_FALSE(fs::exists(dir / "data/clips/train-000000/video.mp4"));
  EXPECT_TRUE(fs::exists(dir / "data/clips/train-000000/motion.csv"));
  test::write_file(dir / "r.yaml", "model: " + (test::source_root() / "configs/motion.yaml").string() +
                                       "\nseed: 3\ncheckpoint_every: 5\nlog_every: 5\n"
                                       "motion: {steps: 12, batch: 2, frames: 16, lr: 1.0e-3, warmup: 1}\n");
  const std::vector<std::string> args{"--recipe", (dir / "r.yaml").string(), "--dataset",
                                      (dir / "data/train.jsonl").string(), "--out", (dir / "run").string()};
  std::vector<std::string> boxed = args;
  boxed.insert(boxed.end(), {"--max-steps", "7"});
  auto first = test::run_program(THG_TRAIN_BINARY, boxed);
  EXPECT_EQ(first.exit_code, 75) << first.err;
  EXPECT_TRUE(fs::exists(dir / "run/motion.ckpt.safetensors"));
  std::vector<std::string> rest = args;
  rest.insert(rest.end(), {"--export", (dir / "m.safetensors").string()});
  auto second = test::run_program(THG_TRAIN_BINARY, rest);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("resumed at step 7"), std::string::npos) << second.err;
  std::unique_ptr<model::ModelFamily> m = model::load_model_file(dir / "m.safetensors");
  EXPECT_EQ(m->config().family, "motion-warp");
  EXPECT_EQ(m->config().motion.std.size(), static_cast<size_t>(model::kMotionChannels));
}

}  // namespace
}  // namespace thg
