// thg generate: portrait + speech -> MP4.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "options.h"
#include "core/machine.h"
#include "core/log.h"
#include "nn/attention.h"
#include "engine/generate.h"
#include "engine/model_loader.h"
#include "engine/settings.h"
#include "sched/scheduler.h"

namespace thg::app {

namespace {
struct GenerateCli {
  pipeline::GenerateOptions generate;
  pipeline::ModelSource model;
  std::string attention;  // empty: the model config's
  bool json = false;
};

int run_generate(const GenerateCli& o, const GlobalOptions& global) {
  if (!o.attention.empty()) nn::parse_attention_backend(o.attention);  // a typo fails before the model loads
  pipeline::check_generate_paths(o.generate);
  pipeline::LoadedModel loaded = pipeline::load_model(o.model);
  apply_attention(o.attention, *loaded.model);
  pipeline::GenerateOptions options = o.generate;
  options.progress = !global.quiet && !o.json;
  if (global.verbose) {
    log::info("model: " + loaded.description);
    // Every setting of the table, as this run takes it (blank: the model's default).
    for (const pipeline::SettingInfo& row : pipeline::generation_settings()) {
      const std::string value = row.get(options);
      log::info("setting " + std::string(row.name) + " = " + (value.empty() ? "(default)" : value));
    }
  }
  pipeline::GenerateResult r = pipeline::generate(*loaded.model, options);
  if (o.json) {
    nlohmann::ordered_json j;
    j["output"] = r.output.string();
    j["frames"] = r.frames;
    j["fps"] = r.fps;
    j["size"] = r.size;
    j["width"] = r.width;
    j["height"] = r.height;
    if (r.face.index >= 0)
      j["face"] = {{"index", r.face.index},
                   {"faces_found", r.face.found},
                   {"box", {r.face.box.x, r.face.box.y, r.face.box.width, r.face.box.height}},
                   {"score", r.face.score},
                   {"photo_size", {r.face.photo_width, r.face.photo_height}}};
    j["audio_seconds"] = r.audio_seconds;
    j["sampler"] = r.sampler;
    j["steps"] = r.steps;
    j["model_evaluations_per_frame"] = r.model_evaluations;
    j["seed"] = r.seed;
    j["settings"] = nlohmann::ordered_json::object();  // the settings this run was given (table names)
    for (const auto& [name, value] : pipeline::settings_text(options)) j["settings"][name] = value;
    j["model"] = loaded.description;
    j["random_weights"] = loaded.random_weights;
    j["seconds"] = r.total_seconds;
    j["stage_seconds"] = r.stage_seconds;
    // The process's peak resident memory up to the finished video (model load included; process
    // teardown, which briefly maps ~100 MB of LibTorch's at exit, not).
    j["peak_rss_bytes"] = process_peak_rss_bytes();
    std::cout << j.dump(2) << "\n";
  } else if (!global.quiet) {
    std::string face;
    if (r.face.index >= 0)
      face = ", face " + std::to_string(r.face.index) + " of " + std::to_string(r.face.found) + " at " +
             std::to_string(static_cast<int>(r.face.box.x)) + "," + std::to_string(static_cast<int>(r.face.box.y)) + " (" +
             std::to_string(static_cast<int>(r.face.box.width)) + " px wide)";
    std::fprintf(stderr, "thg: wrote %s (%lld frames, %.2f s at %d fps, %dx%d%s) in %.1f s\n", r.output.c_str(),
                 static_cast<long long>(r.frames), r.audio_seconds, r.fps, r.width, r.height, face.c_str(),
                 r.total_seconds);
  }
  return 0;
}
}  // namespace

Handler add_generate_command(CLI::App& app, const GlobalOptions& global) {
  auto o = std::make_shared<GenerateCli>();
  auto& g = o->generate;
  app.add_option("-p,--portrait", g.portrait, "Portrait image (PNG, JPEG, WebP, BMP, ...)")->required();
  app.add_option("-a,--audio", g.audio, "Speech (any format FFmpeg reads, or a video's audio)")->required();
  app.add_option("-o,--output", g.output, "Output .mp4, or a PNG sequence such as 'frames/%05d.png' (written under temporary names, renamed when complete)")
      ->required();
  add_generation_options(app, g);
  add_placement_options(app, g.placement);
  add_model_options(app, o->model, o->attention);
  app.add_flag("--json", o->json, "Print a JSON summary on stdout");
  app.footer(
      "Examples:\n"
      "  thg generate --portrait face.png --audio speech.wav --output out.mp4\n"
      "  thg generate -p face.jpg -a talk.m4a -o out.mp4 --steps 20 --seed 7 --size 256\n"
      "  thg generate -p face.png -a talk.wav -o out.mp4 --sampler dpmpp-2m --schedule karras --steps 15 \\\n"
      "      --guidance-ref 2 --guidance-audio 4\n"
      "  thg generate -p face.png -a interview.mp4 -o out.mp4 --device cuda --dtype float16 --json\n"
      "  thg generate -p group.jpg -a talk.wav -o out.mp4 --face 1 --framing square   # the second face, head and shoulders\n"
      "  thg generate -p crop.png -a talk.wav -o out.mp4 --no-crop                     # already a face crop");
  return [o, &global] { return run_generate(*o, global); };
}

}  // namespace thg::app
