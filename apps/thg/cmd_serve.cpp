// thg serve: the model loaded once behind an HTTP API and a web page (lib/serve, docs/api.md).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "commands.h"
#include "core/cancel.h"
#include "core/error.h"
#include "model/config.h"
#include "options.h"
#ifdef THG_WITH_SERVE
#include "serve/http_server.h"
#endif

namespace thg::app {

namespace {
struct ServeCli {
  pipeline::ModelSource model;
  std::string attention;
#ifdef THG_WITH_SERVE
  serve::ServerOptions server;
#endif
};

#ifdef THG_WITH_SERVE
// The model card next to the weights: weights/motion.safetensors -> weights/MOTION.md.
std::string model_card(const std::filesystem::path& weights) {
  if (weights.empty()) return "";
  std::string stem = weights.stem().string();
  for (char& c : stem) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::ifstream in(weights.parent_path() / (stem + ".md"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int run_serve(ServeCli& o) {
  serve::validate(o.server);  // before the model load: a typo fails at once
  pipeline::LoadedModel loaded = pipeline::load_model(o.model);
  apply_attention(o.attention, *loaded.model);
  // Clients see the weights' file name, not where the server keeps it.
  const std::string name = loaded.weights.empty() ? "random initialisation" : loaded.weights.filename().string();
  serve::ModelDescription d{name, model::to_yaml(loaded.model->config()), model_card(loaded.weights)};
  serve::Server server(*loaded.model, std::move(d), o.server);
  const int port = server.bind();
  std::fprintf(stderr, "thg serve: http://%s:%d/ (Ctrl-C stops; unfinished jobs resume on the next start)\n",
               o.server.host.c_str(), port);
  // SIGINT/SIGTERM set a flag (core/cancel.h); this thread turns it into a clean stop. httplib
  // ignores stop() until it is listening, so a signal that came during the model load is repeated
  // until serve() returns.
  std::atomic<bool> served{false};
  std::thread watcher([&server, &served] {
    while (!interrupt_requested() && !served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    while (!served) {
      server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  server.serve();
  served = true;
  watcher.join();
  server.stop();  // serve() may also end on its own (a socket error): stop the worker too
  std::fprintf(stderr, "thg serve: stopped\n");
  return 0;
}
#endif
}  // namespace

Handler add_serve_command(CLI::App& app) {
  auto o = std::make_shared<ServeCli>();
  add_model_options(app, o->model, o->attention);
#ifdef THG_WITH_SERVE
  serve::ServerOptions& s = o->server;
  app.add_option("--host", s.host, "Address to listen on; other than loopback needs --token")->capture_default_str();
  app.add_option("--port", s.port, "Port (0: any free one, written to <data-dir>/port)")->capture_default_str();
  app.add_option("--token", s.tokens, "Bearer token a client must send (repeat for several; each sees only its own jobs)");
  app.add_option("--max-upload-mb", s.max_upload_mb, "Largest uploaded file, in MB")->capture_default_str();
  app.add_option("--max-audio-seconds", s.max_audio_seconds, "Longest audio a job may have")->capture_default_str();
  app.add_option("--queue-size", s.queue_size, "Jobs that may wait; more get 429 with Retry-After")->capture_default_str();
  app.add_option("--data-dir", s.data_dir, "Where jobs live (kept across restarts)")->capture_default_str();
  app.footer("Examples:\n  thg serve                      # http://127.0.0.1:8080/\n"
             "  thg serve --host 0.0.0.0 --token \"$(cat team.token)\" --data-dir /srv/thg\n"
             "API: docs/api.md");
  return [o] { return run_serve(*o); };
#else
  return [] () -> int { throw Error::failure("", "this build has no server (it needs FFmpeg and cpp-httplib)"); };
#endif
}

}  // namespace thg::app
