#include "serve/http_server.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <fstream>
#include <mutex>
#include <optional>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/machine.h"
#include "serve/http_error.h"
#include "serve/job_queue.h"
#include "serve/job_store.h"
#include "serve/public_message.h"
#include "serve/upload.h"
#include "serve/web_assets.h"

namespace thg::serve {

namespace fs = std::filesystem;
using json = nlohmann::json;

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

namespace {

constexpr const char* kJobPath = R"(/v1/jobs/([0-9a-f]{16}))";

// Messages can quote what a client sent (a field's name or value): bytes that are not UTF-8 are
// replaced, never thrown about.
std::string json_text(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(json_text(body), "application/json");
}

// The host name of a Host header: "localhost:8080" -> "localhost", "[::1]:80" -> "::1".
std::string host_name(const std::string& host) {
  if (!host.empty() && host.front() == '[') return host.substr(1, host.find(']') - 1);
  return host.substr(0, host.find(':'));
}

bool takes_a_body(const httplib::Request& req) {
  return req.method == "POST" && (req.path == "/v1/jobs" || req.path == "/v1/faces");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, json{{"error", message}});
}

// Compares without an early exit, so the time taken does not reveal how much of a token matched.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % std::max<size_t>(b.size(), 1)]);
  return diff == 0;
}

json nullable(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json status_json(const JobView& v) {
  const JobRecord& r = v.record;
  json settings = json::object();
  for (const auto& [k, value] : r.settings) settings[k] = value;
  json j{{"id", r.id},
         {"state", state_name(r.state)},
         {"progress", v.progress},
         {"eta_seconds", v.eta_seconds >= 0 ? json(std::round(v.eta_seconds * 10) / 10) : json(nullptr)},
         {"position", v.position >= 0 ? json(v.position) : json(nullptr)},
         {"created", nullable(r.created)},
         {"started", nullable(r.started)},
         {"finished", nullable(r.finished)},
         {"error", nullable(r.error)},
         {"settings", settings},
         {"audio_seconds", r.audio_seconds},
         {"frames", r.frames},
         {"portrait_name", r.portrait_name},
         {"audio_name", r.audio_name},
         {"video", r.state == JobState::Done ? json("/v1/jobs/" + r.id + "/video") : json(nullptr)}};
  return j;
}

}  // namespace

struct Server::Impl {
  Impl(const model::ModelFamily& m, ModelDescription d, ServerOptions o)
      : model(m), description(std::move(d)), options(std::move(o)), store(options.data_dir),
        queue(m, store, JobQueue::Options{options.queue_size, options.max_audio_seconds}) {}

  const model::ModelFamily& model;
  ModelDescription description;
  ServerOptions options;
  JobStore store;
  JobQueue queue;
  httplib::Server http;
  std::mutex check_mutex;  // one upload decoded and checked at a time: bounded memory and CPU
  bool bound = false;

  // The caller's identity: "" without tokens; the token's fingerprint with them; nullopt: refused.
  std::optional<std::string> owner(const httplib::Request& req) const {
    if (options.tokens.empty()) return std::string();
    std::string given;
    const std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0) given = auth.substr(7);
    else if (req.has_param("token")) given = req.get_param_value("token");
    if (given.empty()) return std::nullopt;
    bool match = false;
    for (const std::string& t : options.tokens) match |= same_secret(given, t);
    if (!match) return std::nullopt;
    return Fingerprint().add("thg-serve-token:").add(given).hex();
  }

  std::string caller(const httplib::Request& req) const { return owner(req).value_or(""); }
  // A job's whole body: two files at the cap and the text fields.
  size_t max_body_bytes() const { return static_cast<size_t>(options.max_upload_mb) * 2 * 1024 * 1024 + (1 << 20); }
  // Progress streams each hold a connection thread until their job ends: at most half of them.
  std::atomic<int> event_streams{0};

  void routes();
  void submit(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  void faces(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  void events(const httplib::Request& req, httplib::Response& res);
  void video(const httplib::Request& req, httplib::Response& res);
};

void validate(const ServerOptions& options) {
  if (!is_loopback(options.host) && options.tokens.empty())
    throw Error::input("", "--host " + options.host +
                               " is reachable from other machines: give at least one --token (or bind 127.0.0.1)");
  for (const std::string& t : options.tokens)
    if (t.size() < 8) throw Error::input("", "--token must be at least 8 characters");
  if (options.port < 0 || options.port > 65535) throw Error::input("", "--port must be 0..65535");
  if (options.max_upload_mb < 1 || options.max_upload_mb > 4096) throw Error::input("", "--max-upload-mb must be 1..4096");
  if (!(options.max_audio_seconds > 0 && options.max_audio_seconds <= 36000))
    throw Error::input("", "--max-audio-seconds must be in (0, 36000]");
  if (options.queue_size < 1 || options.queue_size > 100000) throw Error::input("", "--queue-size must be 1..100000");
}

Server::Server(const model::ModelFamily& model, ModelDescription description, ServerOptions options) {
  validate(options);
  impl_ = std::make_unique<Impl>(model, std::move(description), std::move(options));
  impl_->routes();
}

Server::~Server() { stop(); }

int Server::bind() {
  Impl& s = *impl_;
  int port = s.options.port;
  if (port == 0) port = s.http.bind_to_any_port(s.options.host);
  else if (!s.http.bind_to_port(s.options.host, port)) port = -1;
  if (port <= 0)
    throw Error::input("", "cannot listen on " + s.options.host + ":" + std::to_string(s.options.port) +
                               " (in use, or not an address of this machine)");
  s.queue.start();
  s.bound = true;
  // Scripts and tests that ask for port 0 learn the port here (it is also logged).
  write_file_atomically(s.store.data_dir() / "port", std::to_string(port) + "\n");
  log::info("serving http://" + s.options.host + ":" + std::to_string(port) + "/ (data in " +
            s.store.data_dir().string() + ")");
  return port;
}

void Server::serve() { impl_->http.listen_after_bind(); }

void Server::stop() {
  if (!impl_) return;
  impl_->http.stop();
  impl_->queue.stop();
}

void Server::Impl::routes() {
  http.new_task_queue = [n = options.threads] { return new httplib::ThreadPool(static_cast<size_t>(n)); };
  // Whole uploads above this are refused from their Content-Length, before any byte is read.
  http.set_payload_max_length(max_body_bytes());
  http.set_read_timeout(std::chrono::seconds(60));
  http.set_keep_alive_timeout(5);
  http.set_default_headers({{"X-Content-Type-Options", "nosniff"}, {"Cache-Control", "no-store"}});

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // Without tokens only this machine may call: a page elsewhere that rebinds its DNS name to
    // 127.0.0.1 still sends its own name as Host.
    if (options.tokens.empty() && !is_loopback(host_name(req.get_header_value("Host")))) {
      send_error(res, 403, "this server answers only requests addressed to the loopback address");
      return httplib::Server::HandlerResponse::Handled;
    }
    // Only the upload routes read a body (streamed, capped); nothing else may make httplib hold one.
    const bool has_body = req.has_header("Transfer-Encoding") ||
                          (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
    if (has_body && !takes_a_body(req)) {
      send_error(res, 413, "this request takes no body");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (has_body && req.has_header("Content-Length") &&
        std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) > max_body_bytes()) {
      send_error(res, 413, "the upload is larger than the server accepts (" + std::to_string(options.max_upload_mb) +
                               " MB per file)");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.path.rfind("/v1/", 0) != 0 || req.path == "/v1/health") return httplib::Server::HandlerResponse::Unhandled;
    if (owner(req)) return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("WWW-Authenticate", "Bearer");
    send_error(res, 401, "a valid token is required (Authorization: Bearer <token>)");
    return httplib::Server::HandlerResponse::Handled;
  });
  // Statuses httplib sets itself (no route, body too large) get the same JSON body as ours.
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) send_error(res, 404, "no such resource");
    else if (res.status == 413) send_error(res, 413, "the upload is larger than the server accepts");
    else send_error(res, res.status, "request refused (HTTP " + std::to_string(res.status) + ")");
  });
  // Never a stack trace or a server path in a response: the details go to the server's log.
  http.set_exception_handler([this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    try {
      try {
        std::rethrow_exception(ep);
      } catch (const HttpError& e) {
        send_error(res, e.status, e.what());
      } catch (const std::exception& e) {
        log::warn(req.method + " " + req.path + ": " + e.what());
        send_error(res, 500, "internal error: " + public_message(e, store.data_dir() / "jobs" / "x"));
      }
    } catch (...) {  // nothing may escape into httplib's worker thread
      res.status = 500;
      res.set_content(R"({"error":"internal error"})", "application/json");
    }
  });

  for (const WebAsset& a : web_assets()) {
    http.Get(a.path, [&a](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'");
      res.set_content(reinterpret_cast<const char*>(a.data), a.size, a.content_type);
    });
  }

  http.Get("/v1/health", [this](const httplib::Request&, httplib::Response& res) {
    const JobQueue::Counts c = queue.counts();
    send_json(res, 200,
              json{{"status", "ok"}, {"version", THG_VERSION}, {"queued", c.queued}, {"running", c.running},
                   {"queue_size", c.capacity},
                   {"rss_mb", std::round(static_cast<double>(process_rss_bytes()) / (1 << 20) * 10) / 10}});
  });
  http.Get("/v1/model", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200,
              json{{"description", description.description}, {"family", model.config().family},
                   {"config", description.config_yaml}, {"card", description.card}});
  });
  http.Post("/v1/faces", [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& r) {
    faces(req, res, r);
  });
  http.Post("/v1/jobs", [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& r) {
    submit(req, res, r);
  });
  http.Get("/v1/jobs", [this](const httplib::Request& req, httplib::Response& res) {
    json jobs = json::array();
    for (const JobView& v : queue.list(caller(req))) jobs.push_back(status_json(v));
    send_json(res, 200, json{{"jobs", jobs}});
  });
  http.Get(kJobPath, [this](const httplib::Request& req, httplib::Response& res) {
    const std::optional<JobView> v = queue.find(req.matches[1], caller(req));
    if (!v) return send_error(res, 404, "no such job");
    send_json(res, 200, status_json(*v));
  });
  http.Get(std::string(kJobPath) + "/events", [this](const httplib::Request& req, httplib::Response& res) { events(req, res); });
  http.Get(std::string(kJobPath) + "/video", [this](const httplib::Request& req, httplib::Response& res) { video(req, res); });
  http.Delete(kJobPath, [this](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    if (!queue.remove(id, caller(req))) return send_error(res, 404, "no such job");
    send_json(res, 200, json{{"id", id}, {"deleted", true}});
  });
}

void Server::Impl::submit(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  const std::string who = caller(req);
  const fs::path incoming = store.new_incoming();
  try {
    Upload upload = receive_upload(req, reader, incoming, options.max_upload_mb << 20);
    CheckedJob checked;
    {
      std::lock_guard lock(check_mutex);
      checked = check_job_upload(upload, model, options.max_audio_seconds);
    }
    JobRecord r;
    r.id = JobStore::new_id();
    r.owner = who;
    r.settings = checked.settings;
    r.portrait_name = upload.file_names["portrait"];
    r.audio_name = upload.file_names["audio"];
    r.audio_seconds = checked.audio_seconds;
    r.frames = static_cast<int64_t>(std::llround(checked.audio_seconds * (checked.options.fps > 0 ? checked.options.fps
                                                                                                 : model.config().generation.fps)));
    send_json(res, 202, status_json(queue.submit(std::move(r), incoming)));
  } catch (const QueueFull& e) {
    std::error_code ec;
    fs::remove_all(incoming, ec);
    res.set_header("Retry-After", std::to_string(e.retry_after_seconds));
    send_error(res, 429, std::string(e.what()) + ": try again in " + std::to_string(e.retry_after_seconds) + " s");
  } catch (...) {
    std::error_code ec;
    fs::remove_all(incoming, ec);
    throw;
  }
}

void Server::Impl::faces(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  const fs::path incoming = store.new_incoming();
  try {
    const Upload upload = receive_upload(req, reader, incoming, options.max_upload_mb << 20);
    std::string png;
    {
      std::lock_guard lock(check_mutex);
      png = face_preview_png(upload, model);
    }
    std::error_code ec;
    fs::remove_all(incoming, ec);
    res.set_content(png, "image/png");
  } catch (...) {
    std::error_code ec;
    fs::remove_all(incoming, ec);
    throw;
  }
}

void Server::Impl::events(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1], who = caller(req);
  if (!queue.find(id, who)) return send_error(res, 404, "no such job");
  if (event_streams.fetch_add(1) >= options.threads / 2) {
    --event_streams;
    res.set_header("Retry-After", "5");
    return send_error(res, 503, "too many progress streams open; poll GET /v1/jobs/{id} instead");
  }
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider("text/event-stream", [this, id, who, seen = uint64_t{0}](size_t, httplib::DataSink& sink) mutable {
    // Each call sends the next change (waiting up to 15 s; a comment line keeps proxies from timing out).
    const std::optional<JobView> v = queue.wait_for_change(id, who, seen, std::chrono::seconds(15));
    if (!v) {
      const std::string gone = "event: deleted\ndata: {\"id\":\"" + id + "\"}\n\n";
      sink.write(gone.data(), gone.size());
      sink.done();
      return true;
    }
    if (v->version == seen) {
      static const std::string ping = ": waiting\n\n";
      return sink.write(ping.data(), ping.size());
    }
    seen = v->version;
    const std::string event = "event: status\ndata: " + json_text(status_json(*v)) + "\n\n";
    if (!sink.write(event.data(), event.size())) return false;
    if (is_final(v->record.state)) sink.done();
    else std::this_thread::sleep_for(std::chrono::milliseconds(250));  // at most ~4 events a second
    return true;
  }, [this](bool) { --event_streams; });  // however the stream ends
}

void Server::Impl::video(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  const std::optional<JobView> v = queue.find(id, caller(req));
  if (!v) return send_error(res, 404, "no such job");
  if (v->record.state != JobState::Done)
    return send_error(res, 409, std::string("the job is ") + state_name(v->record.state) + ", there is no video yet");
  const fs::path path = store.video(id);
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return send_error(res, 404, "the video is gone");
  if (req.has_param("download"))
    res.set_header("Content-Disposition", "attachment; filename=\"thg-" + id + ".mp4\"");
  // Streamed from the file in pieces; httplib answers Range requests (206) from the same provider.
  auto file = std::make_shared<std::ifstream>(path, std::ios::binary);
  res.set_content_provider(static_cast<size_t>(size), "video/mp4",
                           [file](size_t offset, size_t length, httplib::DataSink& sink) {
                             std::vector<char> buffer(std::min<size_t>(length, 1 << 16));
                             file->clear();
                             file->seekg(static_cast<std::streamoff>(offset));
                             file->read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
                             const auto got = static_cast<size_t>(file->gcount());
                             return got > 0 && sink.write(buffer.data(), got);
                           });
}

}  // namespace thg::serve
