#pragma once
// `thg serve`: one loaded model behind an HTTP API (docs/api.md) and a web page, on cpp-httplib
// (Debian's libcpp-httplib-dev: a well-kept, widely used server with multipart streaming, range
// requests and a thread pool, and nothing else to learn; Boost.Beast would mean writing those).
// httplib stays out of this header, so embedders need only this one.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "model/family.h"

namespace thg::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                     // 0: any free port
  std::vector<std::string> tokens;     // empty: no authentication (loopback only)
  int64_t max_upload_mb = 50;          // per uploaded file
  double max_audio_seconds = 600;
  size_t queue_size = 16;
  std::filesystem::path data_dir = "thg-serve";
  int threads = 32;                    // HTTP connections served at once (progress streams hold one each)
};

// What GET /v1/model says about the loaded model.
struct ModelDescription {
  std::string description;  // which file(s) it came from
  std::string config_yaml;  // its config
  std::string card;         // its model card (markdown), when one sits next to the weights
};

// Throws Error::input naming the flag: a non-loopback host without a token, a short token, sizes
// out of range. Callers run it before the slow model load, so that a typo fails at once.
void validate(const ServerOptions& options);

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback(const std::string& host);

class Server {
 public:
  // Checks the options (validate) and opens the data folder; nothing is bound yet.
  Server(const model::ModelFamily& model, ModelDescription description, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the address (throws Error::input when it cannot), loads the jobs on disk, starts the
  // worker; returns the port (the one chosen for port 0).
  int bind();
  // Serves until stop() is called (from another thread or a signal watcher).
  void serve();
  // Stops accepting requests, stops the worker (a running job stays queued on disk).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace thg::serve
