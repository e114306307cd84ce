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
                               "--steps", "1"};
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
  EXPECT_NE(r.err.find("jobs[2] (line 6): steps must be a number"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("unknown sampler 'magic'"), std::string::npos) << r.err;
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
  auto merged = nlohmann::json::parse(std::ifstream(dir_ / "out" / "report.json"));
  EXPECT_EQ(merged["done"], 1);
  EXPECT_EQ(merged["failed"], 1);
  EXPECT_EQ(merged["pending"], 1);  // y belongs to shard 1, which has not run
  EXPECT_EQ(test::run_thg(batch_args("jobs.csv", "out", {"--shard", "1/2"})).exit_code, 0);
  test::run_thg(batch_args("jobs.csv", "out", {"--merge-reports"}));
  merged = nlohmann::json::parse(std::ifstream(dir_ / "out" / "report.json"));
  EXPECT_EQ(merged["done"], 2);
  EXPECT_EQ(merged["pending"], 0);
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

TEST_F(Batch, KillDashNineThenResume) {
  std::string jsonl;
  for (int i = 0; i < 4; ++i)
    jsonl += "{\"portrait\": \"face.png\", \"audio\": \"speech.m4a\", \"output\": \"v" + std::to_string(i) +
             ".mp4\", \"steps\": 3}\n";
  test::write_file(dir_ / "jobs.jsonl", jsonl);
  const int pid = test::start_thg(batch_args("jobs.jsonl", "out"));
  // Kill as soon as the first output is published: the second job is then in the middle of work.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(dir_ / "out" / "v0.mp4") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the batch finished before it could be killed";

  // Whatever is published is complete; nothing else but hidden temporaries may exist.
  std::map<std::string, std::string> before;
  for (const auto& e : fs::directory_iterator(dir_ / "out")) {
    const std::string name = e.path().filename().string();
    if (name[0] == '.' || !e.is_regular_file()) continue;
    ASSERT_EQ(io::probe_media(e.path()).video_frames, 50) << name << " is published but not complete";
    before[name] = test::read_file(e.path());
  }
  ASSERT_GE(before.size(), 1u);
  ASSERT_LT(before.size(), 4u);

  auto r = test::run_thg(batch_args("jobs.jsonl", "out"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto report = nlohmann::json::parse(std::ifstream(dir_ / "out" / "report.json"));
  for (const auto& j : report["jobs"]) {
    const std::string out = j["output"];
    EXPECT_EQ(j["status"], before.count(out) ? "skipped" : "done") << out;
    EXPECT_EQ(io::probe_media(dir_ / "out" / out).video_frames, 50) << out;
    if (before.count(out)) {
      EXPECT_EQ(test::read_file(dir_ / "out" / out), before[out]) << out << " was rewritten";
    }
  }
  for (const auto& e : fs::directory_iterator(dir_ / "out"))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << "stale temporary left";
}

}  // namespace
}  // namespace thg
