// thg: the command-line front end. It parses flags, calls the library, prints progress and errors;
// everything else lives in lib/.
#include <csignal>
#include <cstdio>
#include <exception>
#include <map>

#include "commands.h"
#include "core/cancel.h"
#include "core/error.h"
#include "core/failure_message.h"
#include "core/log.h"
#include "engine/generate.h"

int main(int argc, char** argv) {
  CLI::App app{"THG: talking-head video generation (portrait + speech -> lip-synced MP4)", "thg"};
  app.set_version_flag("--version", std::string("thg ") + THG_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global flags (-v, -q) may also follow the command
  app.footer(
      "Examples:\n"
      "  thg generate --portrait face.png --audio speech.m4a --output out.mp4\n"
      "  thg info weights/pixel-latent.safetensors\n"
      "  thg batch jobs.yaml --output-dir out/ --shard 0/4\n"
      "  thg bench unet --config configs/pixel-latent.yaml\n"
      "Run 'thg <command> --help' for the options of a command.\n"
      "Exit status: 0 success, 2 bad input or usage, 1 other failure, 3 some batch jobs failed, 130 interrupted.");
  thg::app::GlobalOptions global;
  app.add_flag("-v,--verbose", global.verbose, "Print more detail (effective settings, timings)");
  app.add_flag("-q,--quiet", global.quiet, "Print only errors");

  std::map<CLI::App*, thg::app::Handler> handlers;
  auto* info = app.add_subcommand("info", "Show the contents of a safetensors / THG model file");
  handlers[info] = thg::app::add_info_command(*info);
  auto* generate = app.add_subcommand("generate", "Make a talking-head video from a portrait and speech");
  handlers[generate] = thg::app::add_generate_command(*generate, global);
  auto* faces = app.add_subcommand("faces", "List the faces in a photo (boxes, scores), with an annotated preview");
  handlers[faces] = thg::app::add_faces_command(*faces);
  auto* batch = app.add_subcommand("batch", "Many videos from a manifest: resumable, shardable, with a report");
  handlers[batch] = thg::app::add_batch_command(*batch, global);
  auto* evaluate = app.add_subcommand("evaluate", "Score a model on a thg-synth held-out split against ground truth");
  handlers[evaluate] = thg::app::add_evaluate_command(*evaluate, global);
  auto* bench = app.add_subcommand("bench", "Performance benchmarks (unet)");
  handlers[bench] = thg::app::add_bench_command(*bench, global);
  auto* convert = app.add_subcommand("convert", "Import diffusers UNet / VAE checkpoints into THG's format");
  handlers[convert] = thg::app::add_convert_command(*convert);
  auto* serve = app.add_subcommand("serve", "HTTP API and web page: one loaded model, a job queue (docs/api.md)");
  handlers[serve] = thg::app::add_serve_command(*serve);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  thg::log::set_level(global.quiet     ? thg::log::Level::Quiet
                      : global.verbose ? thg::log::Level::Info
                                       : thg::log::Level::Warn);
  thg::install_interrupt_handlers();
  // A file size limit (ulimit -f) must surface as a write error (EFBIG) that THG reports and cleans
  // up after, not as SIGXFSZ killing the process with a partial temporary file left behind.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    for (auto& [sub, handler] : handlers)
      if (sub->parsed()) return handler();
    return 2;
  } catch (const thg::Error& e) {
    std::fprintf(stderr, "thg: error: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    // LibTorch's own errors (with their backtrace) and allocation failures: one line, and for the
    // latter what to lower.
    std::fprintf(stderr, "thg: error: %s\n", thg::failure_message(e, thg::pipeline::generation_memory_advice()).c_str());
    return 1;
  }
}
