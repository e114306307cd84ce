// thg batch end to end: mixed good and bad rows, the three manifest formats, sharding, path
// escapes, and kill -9 in the middle of a run followed by a resume.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "io/probe.h"
#include "model/talking_head.h"
#include "test_util.h"

namespace thg {
namespace {

namespace fs = std::filesystem;

class Batch : public ::testing::Test {
 protected:

  // A folder with inputs next to the manifest (relative paths resolve against it).
  void SetUp() override {
    fs::copy(test::data("media/rgb8.png"), dir_ / "face.png");
    fs::copy(test::data("media/audio.m4a"), dir_ / "short.m4a");
    fs::copy(test::data("media/speech_2s.m4a"), dir_ / "speech.m4a");
    test::write_file(dir_ / "broken.png", std::string(300, '\x07'));
  }

  std::vector<std::string> batch_args(const std::string& manifest, const std::string& out,
                                      std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"batch", (dir_ / manifest).string(), "--output-dir", (dir_ / out).string(),
                               "--weights", test::tiny_model_file().string(), "--device", "cpu",
                               "--steps", "1", "--no-crop"};  // test media are not photos of faces
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  nlohmann::json dry_run(const std::string& manifest, std::vector<std::string> extra = {}) {
    extra.insert(extra.end(), {"--dry-run", "--json"});
    auto r = test::run_thg(batch_args(manifest, "out", extra));
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 2) << r.err;
    return nlohmann::json::parse(r.out);
  }

  test::ScratchDir dir_;
};

TEST_F(Batch, BadRowsAreRecordedAndTheOthersRun) {
  test::write_file(dir_ / "jobs.yaml", R"(defaults:
  seed: 3
jobs:
  - {portrait: face.png, audio: short.m4a, output: good1.mp4}
  - {portrait: nowhere.png, audio: short.m4a, output: missing.mp4}
  - {portrait: face.png, audio: short.m4a, output: bad_steps.mp4, steps: many}
  - {portrait: broken.png, audio: short.m4a, output: corrupt.mp4}
  - {portrait: face.png, audio: short.m4a, output: unknown.mp4, sampler: magic}
  - {portrait: face.png, audio: short.m4a, output: nested/good2.mp4, seed: 8}
)");
  auto r = test::run_thg(batch_args("jobs.yaml", "out"));
  EXPECT_EQ(r.exit_code, 3) << r.err;  // documented: some jobs failed
  // Validation problems are listed up front with their row's line.
  EXPECT_NE(r.err.find("jobs[1] (line 5): portrait not found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("jobs[2] (line 6): steps must be an integer from 1 to 1000 (got 'many')"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sampler must be one of ddim"), std::string::npos) << r.err;
  auto report = nlohmann::json::parse(std::ifstream(dir_ / "out" / "report.json"));
  std::vector<std::string> statuses;
  for (const auto& j : report["jobs"]) statuses.push_back(j["status"]);
  EXPECT_EQ(statuses, (std::vector<std::string>{"done", "failed", "failed", "failed", "failed", "done"}));
  EXPECT_NE(report["jobs"][3]["error"].get<std::string>().find("broken.png"), std::string::npos);
  EXPECT_EQ(report["jobs"][5]["seed"], 8);
  EXPECT_EQ(report["jobs"][0]["seed"], 3);
  EXPECT_EQ(io::probe_media(dir_ / "out" / "good1.mp4").video_frames, 13);
  EXPECT_EQ(io::probe_media(dir_ / "out" / "nested" / "good2.mp4").video_frames, 13);
  EXPECT_FALSE(fs::exists(dir_ / "out" / "corrupt.mp4"));
  // The CSV report has the same rows.
  const std::string csv = test::read_file(dir_ / "out" / "report.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 7);
}

TEST_F(Batch, TheThreeFormatsAreEquivalent) {
  test::write_file(dir_ / "jobs.yaml", R"(defaults: {steps: 4}
jobs:
  - {portrait: face.png, audio: short.m4a, output: "a, b.mp4", guidance-audio: 2.5}
  - {portrait: face.png, audio: speech.m4a, output: c/d.mp4, sampler: euler, seed: 11}
)");
  test::write_file(dir_ / "jobs.jsonl",
                   "{\"portrait\": \"face.png\", \"audio\": \"short.m4a\", \"output\": \"a, b.mp4\", \"steps\": 4, "
                   "\"guidance_audio\": 2.5}\n\n"
                   "{\"portrait\": \"face.png\", \"audio\": \"speech.m4a\", \"output\": \"c/d.mp4\", \"steps\": \"4\", "
                   "\"sampler\": \"euler\", \"seed\": 11}\n");
  test::write_file(dir_ / "jobs.csv",
                   "portrait,audio,output,steps,guidance_audio,sampler,seed\r\n"
                   "face.png,short.m4a,\"a, b.mp4\",4,2.5,,\r\n"
                   "face.png,speech.m4a,c/d.mp4,4,,euler,11\r\n");
  auto strip = [](nlohmann::json jobs) {
    for (auto& j : jobs) j.erase("where");  // "jobs[0] (line 3)" vs "line 1" vs "row 2"
    return jobs;
  };
  const auto yaml = strip(dry_run("jobs.yaml")), jsonl = strip(dry_run("jobs.jsonl")), csv = strip(dry_run("jobs.csv"));
  ASSERT_EQ(yaml.size(), 2u);
  EXPECT_EQ(yaml, jsonl);
  EXPECT_EQ(yaml, csv);
  EXPECT_EQ(yaml[0]["output"], "a, b.mp4");
  EXPECT_EQ(yaml[1]["options"], "sampler=euler;steps=4;seed=11;");
}

TEST_F(Batch, ShardsCoverEveryJobExactlyOnce) {
  std::string jsonl;
  for (int i = 0; i < 10; ++i)
    jsonl += "{\"portrait\": \"face.png\", \"audio\": \"short.m4a\", \"output\": \"v" + std::to_string(i) + ".mp4\"}\n";
  test::write_file(dir_ / "jobs.jsonl", jsonl);
  std::multiset<int> seen;
  for (int i = 0; i < 3; ++i)
    for (const auto& j : dry_run("jobs.jsonl", {"--shard", std::to_string(i) + "/3"})) seen.insert(j["index"].get<int>());
  EXPECT_EQ(seen.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(seen.count(i), 1u) << i;

  // The same partition from a Slurm job array (ids 1..3) and a Kubernetes indexed job.
  ::setenv("SLURM_ARRAY_TASK_ID", "2", 1);
  ::setenv("SLURM_ARRAY_TASK_MIN", "1", 1);
  ::setenv("SLURM_ARRAY_TASK_COUNT", "3", 1);
  const auto slurm = dry_run("jobs.jsonl");
  ::unsetenv("SLURM_ARRAY_TASK_ID");
  ::unsetenv("SLURM_ARRAY_TASK_MIN");
  ::unsetenv("SLURM_ARRAY_TASK_COUNT");
  EXPECT_EQ(slurm, dry_run("jobs.jsonl", {"--shard", "1/3"}));
  ::setenv("JOB_COMPLETION_INDEX", "0", 1);
  const auto k8s = dry_run("jobs.jsonl", {"--shards", "3"});
  ::unsetenv("JOB_COMPLETION_INDEX");
  EXPECT_EQ(k8s, dry_run("jobs.jsonl", {"--shard", "0/3"}));

  auto r = test::run_thg(batch_args("jobs.jsonl", "out", {"--shard", "3/3"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--shard must be i/N"), std::string::npos) << r.err;
}

TEST_F(Batch, ShardReportsMerge) {
  test::write_file(dir_ / "jobs.csv",
                   "portrait,audio,output\nface.png,short.m4a,x.mp4\nface.png,short.m4a,y.mp4\nface.png,nope.m4a,z.mp4\n");
  EXPECT_EQ(test::run_thg(batch_args("jobs.csv", "out", {"--shard", "0/2"})).exit_code, 3);  // x and z (failed)
  EXPECT_TRUE(fs::exists(dir_ / "out" / "report.shard-0-of-2.json"));
  auto r = test::run_thg(batch_args("jobs.csv", "out", {"--merge-reports"}));
  EXPECT_EQ(r.exit_code, 3) << "a job failed: " << r.err;  // docs/batch.md: 3 when some failed
  auto merged = nlohmann::json::parse(std::ifstream(dir_ / "out" / "report.json"));
  EXPECT_EQ(merged["done"], 1);
  EXPECT_EQ(merged["failed"], 1);
  EXPECT_EQ(merged["pending"], 1);  // y belongs to shard 1, which has not run
  EXPECT_EQ(test::run_thg(batch_args("jobs.csv", "out", {"--shard", "1/2"})).exit_code, 0);
  EXPECT_EQ(test::run_thg(batch_args("jobs.csv", "out", {"--merge-reports"})).exit_code, 3);
  merged = nlohmann::json::parse(std::ifstream(dir_ / "out" / "report.json"));
  EXPECT_EQ(merged["done"], 2);
  EXPECT_EQ(merged["pending"], 0);
  // With the failed job's input fixed and rerun in its shard, the merged report is clean: exit 0.
  fs::copy(dir_ / "short.m4a", dir_ / "nope.m4a");
  EXPECT_EQ(test::run_thg(batch_args("jobs.csv", "out", {"--shard", "0/2"})).exit_code, 0);
  EXPECT_EQ(test::run_thg(batch_args("jobs.csv", "out", {"--merge-reports"})).exit_code, 0);
}

TEST_F(Batch, OutputsCannotEscapeTheOutputFolder) {
  fs::create_directories(dir_ / "out");
  fs::create_directories(dir_ / "elsewhere");
  fs::create_directory_symlink(dir_ / "elsewhere", dir_ / "out" / "link");
  test::write_file(dir_ / "jobs.yaml", R"(jobs:
  - {portrait: face.png, audio: short.m4a, output: ../up.mp4}
  - {portrait: face.png, audio: short.m4a, output: /tmp/abs.mp4}
  - {portrait: face.png, audio: short.m4a, output: link/through.mp4}
  - {portrait: face.png, audio: short.m4a, output: same.mp4}
  - {portrait: face.png, audio: short.m4a, output: ./same.mp4}
  - {portrait: face.png, audio: short.m4a, output: movie.avi}
)");
  const auto jobs = dry_run("jobs.yaml");
  auto problems = [&](size_t i) { return jobs[i]["problems"].dump(); };
  EXPECT_NE(problems(0).find("may not contain '..'"), std::string::npos);
  EXPECT_NE(problems(1).find("must be relative"), std::string::npos);
  EXPECT_NE(problems(2).find("escapes --output-dir"), std::string::npos);
  EXPECT_EQ(problems(3), "[]");
  EXPECT_NE(problems(4).find("same output as jobs[3]"), std::string::npos);
  EXPECT_NE(problems(5).find(".mp4"), std::string::npos);
  EXPECT_TRUE(fs::is_empty(dir_ / "elsewhere"));
}

// kill -9 at each step whose order matters, then a resume: after the video's rename but before its
// record (the video must be made again: nothing vouches for it), after the record (the job is
// complete), and in the middle of a video (its temporary is removed, the job redone).
TEST_F(Batch, KillDashNineAtEachStepThenResume) {
  std::string jsonl;
  for (int i = 0; i < 3; ++i)
    jsonl += "{\"portrait\": \"face.png\", \"audio\": \"speech.m4a\", \"output\": \"v" + std::to_string(i) + ".mp4\"}\n";
  test::write_file(dir_ / "jobs.jsonl", jsonl);
  const fs::path out = dir_ / "out";
  auto run_until = [&](const char* point) {
    ::setenv("THG_CRASH_AT", point, 1);
    auto r = test::run_thg(batch_args("jobs.jsonl", "out"));
    ::unsetenv("THG_CRASH_AT");
    return r;
  };
  // 1. Killed with v0.mp4 published and no record of it.
  EXPECT_EQ(run_until("batch.video_published").exit_code, 128 + SIGKILL);
  ASSERT_EQ(io::probe_media(out / "v0.mp4").video_frames, 50);
  const auto first_mtime = fs::last_write_time(out / "v0.mp4");
  // 2. The resume cannot trust v0.mp4 (no record): it makes it again, records it, and is killed.
  EXPECT_EQ(run_until("batch.record_written").exit_code, 128 + SIGKILL);
  EXPECT_NE(fs::last_write_time(out / "v0.mp4"), first_mtime) << "an unrecorded video was trusted";
  const std::string v0 = test::read_file(out / "v0.mp4");
  // 3. Killed while v1 is being written (its temporary exists).
  auto writing_v1 = [&] {
    for (const auto& t : test::temporaries_under(out))
      if (fs::path(t).filename().string().rfind(".v1.tmp-", 0) == 0) return true;
    return false;
  };
  ASSERT_EQ(test::run_thg(batch_args("jobs.jsonl", "out"), {.interrupt_when = writing_v1, .signal = SIGKILL}).exit_code,
            128 + SIGKILL)
      << "the batch finished before it could be killed";
  EXPECT_FALSE(fs::exists(out / "v1.mp4")) << "a video was published while its temporary was being written";
  // 4. The final resume: v0 kept as it is, v1 and v2 made, nothing temporary left anywhere.
  auto r = test::run_thg(batch_args("jobs.jsonl", "out"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto report = nlohmann::json::parse(std::ifstream(out / "report.json"));
  std::vector<std::string> statuses;
  for (const auto& j : report["jobs"]) statuses.push_back(j["status"]);
  EXPECT_EQ(statuses, (std::vector<std::string>{"skipped", "done", "done"}));
  EXPECT_TRUE(test::read_file(out / "v0.mp4") == v0) << "a recorded video was rewritten";
  for (const char* name : {"v0.mp4", "v1.mp4", "v2.mp4"}) EXPECT_EQ(io::probe_media(out / name).video_frames, 50) << name;
  EXPECT_EQ(test::temporaries_under(out), std::vector<std::string>{});
}

// A rerun redoes exactly the jobs whose result would differ: a changed seed, or an input file whose
// content changed under the same name; the others are skipped untouched.
TEST_F(Batch, ARerunRedoesJobsWhoseSeedOrInputChanged) {
  fs::copy(dir_ / "short.m4a", dir_ / "c.m4a");
  auto manifest = [&](int seed_b) {
    test::write_file(dir_ / "jobs.jsonl",
                     "{\"portrait\": \"face.png\", \"audio\": \"short.m4a\", \"output\": \"a.mp4\"}\n"
                     "{\"portrait\": \"face.png\", \"audio\": \"short.m4a\", \"output\": \"b.mp4\", \"seed\": " +
                         std::to_string(seed_b) + "}\n"
                         "{\"portrait\": \"face.png\", \"audio\": \"c.m4a\", \"output\": \"c.mp4\"}\n");
  };
  manifest(1);
  ASSERT_EQ(test::run_thg(batch_args("jobs.jsonl", "out")).exit_code, 0);
  std::map<std::string, std::string> before;
  for (const char* name : {"a.mp4", "b.mp4", "c.mp4"}) before[name] = test::read_file(dir_ / "out" / name);

  manifest(2);  // b: another seed
  fs::copy(dir_ / "speech.m4a", dir_ / "c.m4a", fs::copy_options::overwrite_existing);  // c: other audio, same name
  auto r = test::run_thg(batch_args("jobs.jsonl", "out"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto report = nlohmann::json::parse(std::ifstream(dir_ / "out" / "report.json"));
  std::vector<std::string> statuses;
  for (const auto& j : report["jobs"]) statuses.push_back(j["status"]);
  EXPECT_EQ(statuses, (std::vector<std::string>{"skipped", "done", "done"}));
  EXPECT_EQ(report["jobs"][1]["seed"], 2);
  EXPECT_TRUE(test::read_file(dir_ / "out" / "a.mp4") == before["a.mp4"]) << "a.mp4 was rewritten";
  EXPECT_TRUE(test::read_file(dir_ / "out" / "b.mp4") != before["b.mp4"]) << "b.mp4 was not made again";
  EXPECT_EQ(io::probe_media(dir_ / "out" / "c.mp4").video_frames, 50);  // the new, 2 s audio
  // A rerun with nothing changed does nothing.
  r = test::run_thg(batch_args("jobs.jsonl", "out"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  report = nlohmann::json::parse(std::ifstream(dir_ / "out" / "report.json"));
  EXPECT_EQ(report["skipped"], 3);
}

}  // namespace
}  // namespace thg
