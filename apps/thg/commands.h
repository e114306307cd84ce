#pragma once
// The `thg` subcommands. Each registers its options on the CLI11 app and returns the handler that
// runs it (returning the process exit status).
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>

namespace thg::app {

struct GlobalOptions {
  bool verbose = false;
  bool quiet = false;
};

using Handler = std::function<int()>;

Handler add_info_command(CLI::App& app);
Handler add_generate_command(CLI::App& app, const GlobalOptions& global);
Handler add_bench_command(CLI::App& app, const GlobalOptions& global);
Handler add_convert_command(CLI::App& app);
Handler add_batch_command(CLI::App& app, const GlobalOptions& global);
Handler add_evaluate_command(CLI::App& app, const GlobalOptions& global);
Handler add_faces_command(CLI::App& app);
Handler add_serve_command(CLI::App& app);

}  // namespace thg::app
