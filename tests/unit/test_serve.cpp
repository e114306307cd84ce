// thg serve's API (docs/api.md) against a real server on a free loopback port, with the shipped
// model: uploads, progress, the video's bytes, cancelling, the full queue, refused uploads, file
// names that try to be paths, tokens, and a restart with jobs on disk.
#include <gtest/gtest.h>

#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.h"
#include "io/probe.h"
#include "model/family.h"
#include "serve/http_server.h"
#include "test_util.h"

namespace thg {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const model::ModelFamily& shipped_model() {
  static std::unique_ptr<model::ModelFamily> m = model::load_model_file(test::source_root() / "weights/motion.safetensors");
  return *m;
}

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A server on its own thread, on a free port, over `data_dir`.
class RunningServer {
 public:
  explicit RunningServer(serve::ServerOptions o) {
    o.port = 0;
    server_ = std::make_unique<serve::Server>(shipped_model(), serve::ModelDescription{"motion", "", "card"}, o);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->serve(); });
  }
  ~RunningServer() { stop(); }
  void stop() {
    if (!server_) return;
    server_->stop();
    thread_.join();
    server_.reset();
  }
  httplib::Client client(const std::string& token = "") const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(std::chrono::seconds(120));
    if (!token.empty()) c.set_bearer_token_auth(token);
    return c;
  }

 private:
  std::unique_ptr<serve::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

httplib::MultipartFormDataItems job_form(const fs::path& audio, std::vector<std::pair<std::string, std::string>> settings = {},
                                         const std::string& portrait_name = "astronaut.png") {
  httplib::MultipartFormDataItems items{
      {"portrait", file_bytes(test::source_root() / "examples/astronaut.png"), portrait_name, "image/png"},
      {"audio", file_bytes(audio), audio.filename().string(), "application/octet-stream"}};
  settings.emplace_back("max_size", "256");  // a small picture: fast jobs
  for (const auto& [k, v] : settings) items.push_back({k, v, "", ""});
  return items;
}

json body(const httplib::Result& r) {
  EXPECT_TRUE(r) << "no response";
  if (!r) return json();
  return json::parse(r->body);
}

json wait_for_state(httplib::Client& c, const std::string& id, const std::string& state, double seconds = 120) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  json j;
  while (std::chrono::steady_clock::now() < until) {
    j = body(c.Get("/v1/jobs/" + id));
    if (j.value("state", "") == state) return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "job " << id << " never reached " << state << ": " << j.dump();
  return j;
}

serve::ServerOptions options_in(const test::ScratchDir& dir) {
  serve::ServerOptions o;
  o.data_dir = dir / "data";
  return o;
}

TEST(Serve, AJobRunsWithProgressEventsAndGivesAPlayableVideoWithRanges) {
  test::ScratchDir dir;
  RunningServer server(options_in(dir));
  auto c = server.client();
  const json health = body(c.Get("/v1/health"));
  EXPECT_EQ(health["status"], "ok");
  const httplib::Result r = c.Post("/v1/jobs", job_form(test::data("media/speech_2s.m4a"), {{"seed", "7"}}));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  const std::string id = json::parse(r->body)["id"];
  // Server-sent events: status events until a final one.
  std::string stream;
  c.Get("/v1/jobs/" + id + "/events", [&](const char* data, size_t n) {
    stream.append(data, n);
    return true;
  });
  EXPECT_NE(stream.find("event: status"), std::string::npos);
  EXPECT_NE(stream.find("\"state\":\"done\""), std::string::npos) << stream.substr(0, 400);
  const json done = wait_for_state(c, id, "done", 5);
  EXPECT_EQ(done["progress"], 1.0);
  EXPECT_EQ(done["settings"]["seed"], "7");
  // The whole video, then a range of it.
  const httplib::Result video = c.Get("/v1/jobs/" + id + "/video");
  ASSERT_TRUE(video);
  ASSERT_EQ(video->status, 200);
  EXPECT_EQ(video->get_header_value("Content-Type"), "video/mp4");
  const fs::path mp4 = dir / "got.mp4";
  std::ofstream(mp4, std::ios::binary) << video->body;
  const io::MediaInfo info = io::probe_media(mp4);
  EXPECT_EQ(info.video_codec, "h264");
  EXPECT_EQ(info.audio_codec, "aac");
  EXPECT_NEAR(info.video_seconds, 2.0, 0.1);
  const httplib::Result part = c.Get("/v1/jobs/" + id + "/video", {{"Range", "bytes=100-199"}});
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, video->body.substr(100, 100));
  // Deleting a finished job removes its folder.
  EXPECT_EQ(c.Delete("/v1/jobs/" + id)->status, 200);
  EXPECT_FALSE(fs::exists(dir / "data/jobs" / id));
  EXPECT_EQ(c.Get("/v1/jobs/" + id)->status, 404);
}

TEST(Serve, CancellingARunningJobLeavesNoFileAndAFullQueueAnswers429) {
  test::ScratchDir dir;
  serve::ServerOptions o = options_in(dir);
  o.queue_size = 1;
  RunningServer server(o);
  auto c = server.client();
  // A slow job (many steps on 6 s of speech), then one that waits, then one too many.
  const fs::path speech = test::source_root() / "examples/speech.wav";
  const std::string slow = body(c.Post("/v1/jobs", job_form(speech, {{"steps", "200"}})))["id"];
  wait_for_state(c, slow, "running");
  const httplib::Result waiting = c.Post("/v1/jobs", job_form(speech));
  ASSERT_EQ(waiting->status, 202);
  EXPECT_EQ(json::parse(waiting->body)["position"], 0);
  const httplib::Result full = c.Post("/v1/jobs", job_form(speech));
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 429);
  EXPECT_FALSE(full->get_header_value("Retry-After").empty());
  EXPECT_NE(json::parse(full->body)["error"].get<std::string>().find("queue is full"), std::string::npos);
  // Cancel the running job once it has made progress: nothing of it stays on disk.
  for (int i = 0; i < 600 && body(c.Get("/v1/jobs/" + slow))["progress"].get<double>() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(c.Delete("/v1/jobs/" + slow)->status, 200);
  EXPECT_FALSE(fs::exists(dir / "data/jobs" / slow));
  EXPECT_EQ(c.Get("/v1/jobs/" + slow)->status, 404);
  // The waiting job runs next; the queue has room again.
  const std::string next = json::parse(waiting->body)["id"];
  EXPECT_NE(body(c.Get("/v1/jobs/" + next))["state"], "queued");
  ASSERT_EQ(c.Delete("/v1/jobs/" + next)->status, 200);
  EXPECT_TRUE(fs::is_empty(dir / "data/jobs"));
  EXPECT_TRUE(fs::is_empty(dir / "data/incoming"));
}

TEST(Serve, BadUploadsGetOneLineJsonErrorsAndLeaveNothing) {
  test::ScratchDir dir;
  serve::ServerOptions o = options_in(dir);
  o.max_upload_mb = 1;
  RunningServer server(o);
  auto c = server.client();
  const fs::path speech = test::data("media/speech_2s.m4a");
  const auto expect_error = [&](const httplib::Result& r, int status, const std::string& words) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    const std::string error = json::parse(r->body)["error"];
    EXPECT_NE(error.find(words), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << "one line";
    EXPECT_EQ(error.find(dir.path().string()), std::string::npos) << "no server path: " << error;
  };
  // Not an image, whatever its name says; not audio.
  httplib::MultipartFormDataItems text_as_png = job_form(speech);
  text_as_png[0].content = "this is text, not a PNG";
  expect_error(c.Post("/v1/jobs", text_as_png), 415, "portrait");
  httplib::MultipartFormDataItems image_as_audio = job_form(speech);
  image_as_audio[1].content = image_as_audio[0].content;
  image_as_audio[1].filename = "speech.wav";
  expect_error(c.Post("/v1/jobs", image_as_audio), 415, "audio");
  // A photo without a face.
  httplib::MultipartFormDataItems no_face = job_form(speech);
  no_face[0].content = file_bytes(test::data("media/rgb8.png"));  // a colour pattern
  expect_error(c.Post("/v1/jobs", no_face), 400, "face");
  // Settings are checked by the settings table; unknown fields are refused.
  expect_error(c.Post("/v1/jobs", job_form(speech, {{"steps", "0"}})), 400, "steps");
  expect_error(c.Post("/v1/jobs", job_form(speech, {{"output", "/etc/passwd"}})), 400, "output");
  // Missing parts, a body that is not multipart.
  httplib::MultipartFormDataItems no_audio = job_form(speech);
  no_audio.erase(no_audio.begin() + 1);
  expect_error(c.Post("/v1/jobs", no_audio), 400, "audio: missing");
  expect_error(c.Post("/v1/jobs", "{}", "application/json"), 400, "multipart");
  // Bytes that are not UTF-8, quoted back in the message: replaced, the server lives on.
  expect_error(c.Post("/v1/jobs", job_form(speech, {{"steps", "\xff\xfe"}})), 400, "steps");
  expect_error(c.Post("/v1/faces", httplib::MultipartFormDataItems{{"face", "\xff", "", ""}}), 400, "face");
  // Bodies where none belongs; a Host that is not this machine (DNS rebinding) without tokens.
  expect_error(c.Post("/v1/health", std::string(1000, 'x'), "text/plain"), 413, "no body");
  expect_error(c.Post("/", std::string(1000, 'x'), "text/plain"), 413, "no body");
  expect_error(c.Get("/v1/jobs", {{"Host", "evil.example:8080"}}), 403, "loopback");
  EXPECT_EQ(c.Get("/v1/health")->status, 200) << "still serving";
  // Over the 1 MB cap.
  httplib::MultipartFormDataItems big = job_form(speech);
  big[0].content.append(std::string(1100 * 1024, 'x'));
  expect_error(c.Post("/v1/jobs", big), 413, "limit");
  EXPECT_TRUE(fs::is_empty(dir / "data/jobs"));
  EXPECT_TRUE(fs::is_empty(dir / "data/incoming"));
}

TEST(Serve, AudioOverTheServersLimitIsRefusedAsTooLong) {
  test::ScratchDir dir;
  serve::ServerOptions o = options_in(dir);
  o.max_audio_seconds = 1;
  RunningServer server(o);
  auto c = server.client();
  const httplib::Result r = c.Post("/v1/jobs", job_form(test::data("media/speech_2s.m4a")));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(r->body.find("limit"), std::string::npos) << r->body;
  EXPECT_TRUE(fs::is_empty(dir / "data/jobs"));
}

TEST(Serve, UploadedFileNamesAreNeverPaths) {
  test::ScratchDir dir;
  RunningServer server(options_in(dir));
  auto c = server.client();
  const httplib::Result r =
      c.Post("/v1/jobs", job_form(test::data("media/speech_2s.m4a"), {}, "../../../../tmp/evil\t.png"));
  ASSERT_EQ(r->status, 202) << r->body;
  const json j = json::parse(r->body);
  EXPECT_EQ(j["portrait_name"], "evil.png");
  const fs::path folder = dir / "data/jobs" / j["id"].get<std::string>();
  wait_for_state(c, j["id"], "done");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(folder)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"audio", "job.json", "portrait", "video.mp4"})) << "files are named by role";
  EXPECT_FALSE(fs::exists("/tmp/evil.png"));
  // A header broken by a line feed in the name is refused, not half-read.
  const httplib::Result broken =
      c.Post("/v1/jobs", job_form(test::data("media/speech_2s.m4a"), {}, "evil\r\nContent-Disposition: x"));
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->status, 400) << broken->body;
  // An id that is not one is not a path either.
  EXPECT_EQ(c.Get("/v1/jobs/..%2F..%2Fetc")->status, 404);
}

TEST(Serve, TokensAreRequiredAndOneTokensJobsAreInvisibleToAnother) {
  test::ScratchDir dir;
  serve::ServerOptions o = options_in(dir);
  o.tokens = {"alpha-token-1", "beta-token-22"};
  RunningServer server(o);
  auto alpha = server.client("alpha-token-1"), beta = server.client("beta-token-22"), nobody = server.client();
  auto wrong = server.client("alpha-token-2");
  EXPECT_EQ(nobody.Get("/v1/health")->status, 200) << "health needs no token";
  EXPECT_EQ(nobody.Get("/v1/jobs")->status, 401);
  EXPECT_EQ(wrong.Get("/v1/jobs")->status, 401);
  const httplib::Result r = alpha.Post("/v1/jobs", job_form(test::data("media/speech_2s.m4a")));
  ASSERT_EQ(r->status, 202) << r->body;
  const std::string id = json::parse(r->body)["id"];
  EXPECT_EQ(beta.Get("/v1/jobs/" + id)->status, 404);
  EXPECT_EQ(beta.Delete("/v1/jobs/" + id)->status, 404);
  EXPECT_TRUE(body(beta.Get("/v1/jobs"))["jobs"].empty());
  EXPECT_EQ(body(alpha.Get("/v1/jobs"))["jobs"].size(), 1u);
  EXPECT_EQ(alpha.Get("/v1/jobs/" + id + "?token=beta-token-22")->status, 200) << "the header's token wins";
  EXPECT_EQ(nobody.Get("/v1/jobs/" + id + "?token=alpha-token-1")->status, 200) << "?token= for EventSource";
  wait_for_state(alpha, id, "done");
}

TEST(Serve, RefusesToListenBeyondLoopbackWithoutAToken) {
  test::ScratchDir dir;
  serve::ServerOptions o = options_in(dir);
  o.host = "0.0.0.0";
  try {
    serve::Server s(shipped_model(), {}, o);
    FAIL() << "bound 0.0.0.0 without a token";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--token"), std::string::npos) << e.what();
  }
}

TEST(Serve, ARestartKeepsFinishedResultsAndRunsUnfinishedJobsAgain) {
  test::ScratchDir dir;
  std::string done_id, interrupted_id, queued_id;
  {
    RunningServer server(options_in(dir));
    auto c = server.client();
    done_id = body(c.Post("/v1/jobs", job_form(test::data("media/speech_2s.m4a"))))["id"];
    wait_for_state(c, done_id, "done");
    interrupted_id = body(c.Post("/v1/jobs", job_form(test::source_root() / "examples/speech.wav", {{"steps", "200"}})))["id"];
    queued_id = body(c.Post("/v1/jobs", job_form(test::data("media/speech_2s.m4a"))))["id"];
    wait_for_state(c, interrupted_id, "running");
  }  // the server stops with one job running and one queued
  RunningServer server(options_in(dir));
  auto c = server.client();
  const json done = body(c.Get("/v1/jobs/" + done_id));
  EXPECT_EQ(done["state"], "done");
  EXPECT_EQ(c.Get("/v1/jobs/" + done_id + "/video")->status, 200);
  const json again = body(c.Get("/v1/jobs/" + interrupted_id));
  EXPECT_TRUE(again["state"] == "running" || again["state"] == "queued") << again.dump();
  EXPECT_EQ(body(c.Get("/v1/jobs"))["jobs"].size(), 3u);
  ASSERT_EQ(c.Delete("/v1/jobs/" + interrupted_id)->status, 200);  // (200 steps: not worth the wait)
  wait_for_state(c, queued_id, "done");
}

}  // namespace
}  // namespace thg
