// thg bench: performance measurements. `thg bench unet` times one denoising step.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "options.h"
#include "io/safetensors.h"
#include "nn/attention.h"
#include "pipeline/bench_unet.h"
#include "pipeline/model_loader.h"

namespace thg::app {

namespace {
struct BenchUnetCli {
  pipeline::ModelSource model;
  pipeline::UnetBenchOptions bench;
  std::string attention;  // empty: the model config's
  std::string save_weights;
  bool json = false;
};

int run_bench_unet(const BenchUnetCli& o) {
  if (!o.attention.empty()) nn::parse_attention_backend(o.attention);
  pipeline::LoadedModel loaded = pipeline::load_model(o.model);
  apply_attention(o.attention, *loaded.model);
  if (!o.save_weights.empty()) loaded.model->save(o.save_weights, at::kFloat);
  pipeline::UnetBenchResult r = pipeline::bench_unet(*loaded.model, o.bench);
  if (o.json) {
    nlohmann::ordered_json j;
    j["model"] = loaded.description;
    j["device"] = r.device;
    j["dtype"] = o.model.dtype;
    j["attention"] = nn::attention_backend_name(nn::attention_backend());
    j["size"] = r.size;
    j["frames"] = r.frames;
    j["unet_parameters"] = r.parameters;
    j["seconds"] = r.seconds;
    j["median_seconds"] = r.median_seconds;
    j["per_frame_seconds"] = r.per_frame_seconds;
    j["peak_rss_bytes"] = r.peak_rss_bytes;
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("%s on %s: %lld frames of %lldx%lld per forward, median %.4f s (%.4f s per frame), peak RSS %.0f MB\n",
                loaded.description.c_str(), r.device.c_str(), static_cast<long long>(r.frames),
                static_cast<long long>(r.size), static_cast<long long>(r.size), r.median_seconds, r.per_frame_seconds,
                r.peak_rss_bytes / 1048576.0);
  }
  return 0;
}
}  // namespace

Handler add_bench_command(CLI::App& app) {
  app.require_subcommand(1);
  auto* unet = app.add_subcommand("unet", "Time one denoising step (UNet forward over a chunk of frames)");
  auto o = std::make_shared<BenchUnetCli>();
  o->model.init_seed = 0;
  add_model_options(*unet, o->model, o->attention);
  unet->add_option("--frames", o->bench.frames, "Frames per forward")->default_val(4)->check(CLI::Range(1, 1024));
  unet->add_option("--size", o->bench.size, "Image size (default: the model's)");
  unet->add_option("--warmup", o->bench.warmup, "Untimed forwards first")->default_val(1)->check(CLI::Range(0, 100));
  unet->add_option("--repeats", o->bench.repeats, "Timed forwards (median reported)")->default_val(5)->check(CLI::Range(1, 1000));
  unet->add_option("--save-weights", o->save_weights, "Also save the model as run (fp32), e.g. for a Python baseline");
  unet->add_flag("--json", o->json, "Machine-readable output on stdout");
  unet->footer("Examples:\n  thg bench unet --config configs/sd15.yaml --frames 2 --repeats 3\n"
               "  thg bench unet --device cuda --dtype float16 --json");
  app.footer("Examples:\n  thg bench unet --config configs/default.yaml --json");
  return [o, unet]() -> int {
    if (unet->parsed()) return run_bench_unet(*o);
    return 2;
  };
}

}  // namespace thg::app
