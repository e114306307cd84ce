// thg bench: performance measurements. `thg bench unet` times one denoising step.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "model/talking_head.h"
#include "commands.h"
#include "options.h"
#include "io/safetensors.h"
#include "nn/attention.h"
#include "bench/bench_e2e.h"
#include "bench/bench_portrait.h"
#include "bench/bench_samplers.h"
#include "bench/bench_unet.h"
#include "core/error.h"
#include "core/progress.h"
#include "engine/model_loader.h"

namespace thg::app {

namespace {
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<int64_t> parse_int_list(const std::string& text, const std::string& option) {
  std::vector<int64_t> out;
  for (const std::string& s : split_list(text)) {
    try {
      size_t used = 0;
      out.push_back(std::stoll(s, &used));
      if (used != s.size()) throw std::invalid_argument(s);
    } catch (const std::exception&) {
      throw Error::input("", option + " must be a comma-separated list of integers, not '" + text + "'");
    }
  }
  if (out.empty()) throw Error::input("", option + " is empty");
  return out;
}

struct BenchUnetCli {
  pipeline::ModelSource model;
  pipeline::UnetBenchOptions bench;
  std::string attention;  // empty: the model config's
  std::string frames = "4";
  std::string backends;   // empty: --attention / the config's
  std::string out;
  std::string save_weights;
  bool json = false;
};

int run_bench_unet(const BenchUnetCli& o, const GlobalOptions& global) {
  if (!o.attention.empty()) nn::parse_attention_backend(o.attention);
  pipeline::UnetBenchGridOptions grid;
  grid.options = o.bench;
  grid.frames = parse_int_list(o.frames, "--frames");
  for (int64_t f : grid.frames)
    if (f < 1 || f > 1024) throw Error::input("", "--frames must be in 1..1024");
  for (const std::string& b : split_list(o.backends)) grid.backends.push_back(nn::parse_attention_backend(b));
  // The UNet step is the pixel-latent family's: without --weights or --config, its bundled model.
  pipeline::ModelSource source = o.model;
  if (source.weights.empty() && source.config.empty()) {
    const model::DefaultModelPaths paths = model::default_model_paths();
    if (std::filesystem::exists(paths.pixel_latent_weights)) source.weights = paths.pixel_latent_weights;
    else source.config = paths.pixel_latent_config;
  }
  pipeline::LoadedModel loaded = pipeline::load_model(source);
  apply_attention(o.attention, *loaded.model);
  if (!o.save_weights.empty()) loaded.model->save(o.save_weights, at::kFloat);
  const bool single = grid.frames.size() == 1 && grid.backends.size() <= 1;
  std::unique_ptr<Progress> bar;
  if (!single) {
    grid.options.progress = false;  // one bar over the grid instead
    if (!global.quiet)
      grid.on_cell = [&](int64_t done, int64_t total, const std::string& cell) {
        if (!bar) bar = std::make_unique<Progress>("bench unet", total, "cells");
        if (done > 0) bar->advance();
        if (!cell.empty()) bar->set_label("bench unet " + cell);
      };
  }
  pipeline::UnetBenchReport report = pipeline::bench_unet_grid(model::as_pixel_latent(*loaded.model, "thg bench unet"), grid);
  if (bar) bar->finish();
  report.about["model"] = loaded.description;
  if (!o.out.empty()) pipeline::write_unet_bench(report, o.out);
  for (const auto& row : report.rows) {
    const pipeline::UnetBenchResult& r = row.result;
    if (o.json) {
      nlohmann::ordered_json j;
      j["model"] = loaded.description;
      j["device"] = r.device;
      j["dtype"] = o.model.dtype;
      j["attention"] = row.attention;
      j["size"] = r.size;
      j["frames"] = r.frames;
      j["unet_parameters"] = r.parameters;
      j["seconds"] = r.seconds;
      j["median_seconds"] = r.median_seconds;
      j["per_frame_seconds"] = r.per_frame_seconds;
      j["peak_rss_bytes"] = r.peak_rss_bytes;
      if (r.peak_gpu_bytes >= 0) j["peak_gpu_bytes"] = r.peak_gpu_bytes;
      std::cout << j.dump(single ? 2 : -1) << "\n";  // one object, or one line per cell (JSON Lines)
    } else {
      std::printf("%s on %s, attention %s: %lld frames of %lldx%lld per forward, median %.4f s (%.4f s per frame), "
                  "peak RSS %.0f MB\n",
                  loaded.description.c_str(), r.device.c_str(), row.attention.c_str(), static_cast<long long>(r.frames),
                  static_cast<long long>(r.size), static_cast<long long>(r.size), r.median_seconds, r.per_frame_seconds,
                  r.peak_rss_bytes / 1048576.0);
    }
  }
  if (!o.out.empty() && !o.json) std::printf("wrote %s/results.{csv,json,md} and seconds_per_frame_vs_frames.svg\n", o.out.c_str());
  return 0;
}
}  // namespace

struct BenchSamplersCli {
  pipeline::ModelSource model;
  pipeline::SamplerBenchOptions bench;
  std::string attention;
  std::string samplers, steps;
};

int run_bench_samplers(BenchSamplersCli& o, const GlobalOptions& global) {
  o.bench.samplers = split_list(o.samplers);
  o.bench.steps = parse_int_list(o.steps, "--steps");
  pipeline::LoadedModel loaded = pipeline::load_model(o.model);
  apply_attention(o.attention, *loaded.model);
  std::unique_ptr<Progress> bar;
  if (!global.quiet)
    o.bench.on_run = [&](int64_t done, int64_t total, const std::string& cell) {
      if (!bar) bar = std::make_unique<Progress>("bench", total, "runs");
      bar->set_label("bench " + cell);
      bar->advance();
      (void)done;
    };
  pipeline::SamplerBenchReport report = pipeline::bench_samplers(*loaded.model, o.bench);
  if (bar) bar->finish();
  report.about["model"] = loaded.description;
  pipeline::write_sampler_bench(report, o.bench.out);
  std::printf("wrote %s/results.{csv,json,md} and plots (*.svg)\n", o.bench.out.c_str());
  return 0;
}

struct BenchE2eCli {
  pipeline::ModelSource model;
  pipeline::E2eBenchOptions bench;
  std::string attention;
  std::string out;
  bool json = false;
};

int run_bench_e2e(BenchE2eCli& o, const GlobalOptions& global) {
  pipeline::LoadedModel loaded = pipeline::load_model(o.model);
  apply_attention(o.attention, *loaded.model);
  o.bench.progress = !global.quiet;
  pipeline::E2eBenchResult r = pipeline::bench_e2e(*loaded.model, o.bench);
  r.about["model"] = loaded.description;
  r.about["attention"] = nn::attention_backend_name(nn::attention_backend());
  if (!o.out.empty()) pipeline::write_e2e_bench(r, o.out);
  if (o.json) {
    std::cout << pipeline::e2e_bench_json(r).dump(2) << "\n";  // model, device, dtype, attention under "about"
  } else {
    std::printf("%s on %s (%s, attention %s): %lld frames of %lldx%lld, %s %lld steps: median %.3f s, %.2f frames/s "
                "(%.2fx real time at %d fps)\n",
                loaded.description.c_str(), r.about["device"].c_str(), r.about["dtype"].c_str(), r.about["attention"].c_str(),
                static_cast<long long>(r.frames), static_cast<long long>(r.size), static_cast<long long>(r.size),
                r.sampler.c_str(), static_cast<long long>(r.steps), r.median_seconds, r.frames_per_second,
                r.realtime_factor, r.fps);
    if (!o.out.empty()) std::printf("wrote %s/results.{json,md}\n", o.out.c_str());
  }
  return 0;
}

struct BenchPortraitCli {
  pipeline::PortraitBenchOptions bench;
  bool json = false;
};

int run_bench_portrait(const BenchPortraitCli& o) {
  const pipeline::PortraitBenchResult r = pipeline::bench_portrait(o.bench);
  if (o.json) {
    nlohmann::ordered_json j;
    j["photo"] = o.bench.photo.string();
    j["photo_size"] = {r.photo_width, r.photo_height};
    j["faces"] = r.faces;
    j["prepare_ms"] = r.prepare_median_ms;
    j["prepare_seconds"] = r.prepare_seconds;
    j["paste_size"] = {r.paste_width, r.paste_height};
    j["paste_masked_pixels"] = r.paste_masked_pixels;
    j["paste_ms_per_frame"] = r.paste_median_ms;
    j["about"] = r.about;
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("%s (%dx%d, %d face%s): find + landmarks + align + crop + canvas %.1f ms (median of %zu)\n",
                o.bench.photo.c_str(), r.photo_width, r.photo_height, r.faces, r.faces == 1 ? "" : "s",
                r.prepare_median_ms, r.prepare_seconds.size());
    std::printf("paste-back into %dx%d (%zu masked pixels): %.2f ms per frame\n", r.paste_width, r.paste_height,
                r.paste_masked_pixels, r.paste_median_ms);
  }
  return 0;
}

Handler add_bench_command(CLI::App& app, const GlobalOptions& global) {
  app.require_subcommand(1);
  auto* unet = app.add_subcommand("unet", "Time one denoising step (UNet forward over a chunk of frames)");
  auto o = std::make_shared<BenchUnetCli>();
  o->model.init_seed = 0;
  add_model_options(*unet, o->model, o->attention);
  unet->add_option("--frames", o->frames, "Frames per forward; a comma-separated list runs each")->default_val("4");
  unet->add_option("--backends", o->backends, "Attention backends to compare, e.g. sdpa,math,auto (default: --attention)");
  unet->add_option("--out", o->out, "Also write results.{csv,json,md} and a plot (SVG) into this folder");
  unet->add_option("--size", o->bench.size, "Image size (default: the model's)");
  unet->add_option("--warmup", o->bench.warmup, "Untimed forwards first")->default_val(1)->check(CLI::Range(0, 100));
  unet->add_option("--repeats", o->bench.repeats, "Timed forwards (median reported)")->default_val(5)->check(CLI::Range(1, 1000));
  unet->add_option("--save-weights", o->save_weights, "Also save the model as run (fp32), e.g. for a Python baseline");
  unet->add_flag("--json", o->json, "Machine-readable output on stdout (one JSON line per cell for a grid)");
  unet->footer("Examples:\n  thg bench unet --config configs/sd15.yaml --frames 2 --repeats 3\n"
               "  thg bench unet --device cuda --dtype float16 --json\n"
               "  thg bench unet --frames 1,4,8,16 --backends sdpa,math --out bench-unet");
  auto* samplers = app.add_subcommand("samplers", "Speed and quality of samplers x step counts on held-out clips");
  auto s = std::make_shared<BenchSamplersCli>();
  samplers->add_option("--dataset", s->bench.dataset,
                       "Held-out clips with ground truth (a thg-synth test.jsonl; default: the 4 clips that ship in "
                       "benchmarks/data/heldout-synth)");
  samplers->add_option("--out", s->bench.out, "Folder for results.{csv,json,md}, plots and videos")->required();
  samplers->add_option("--samplers", s->samplers, "Comma-separated samplers")->default_val("ddim,dpmpp-2m,euler,unipc");
  samplers->add_option("--steps", s->steps, "Comma-separated step counts")->default_val("2,4,8,16,32,50");
  samplers->add_option("--clips", s->bench.clips, "Held-out clips")->default_val(2)->check(CLI::Range(1, 10000));
  samplers->add_option("--frames", s->bench.max_frames, "Frames per clip (0: whole clips)")->default_val(50);
  samplers->add_option("--repeats", s->bench.repeats, "Timed runs per cell after the warm-up (median)")
      ->default_val(3)->check(CLI::Range(1, 100));
  samplers->add_option("--reference-sampler", s->bench.reference_sampler, "Sampler of the reference run")->default_val("ddim");
  samplers->add_option("--reference-steps", s->bench.reference_steps, "Steps of the reference run")->default_val(200);
  add_generation_options(*samplers, s->bench.generation, false);
  add_model_options(*samplers, s->model, s->attention);
  samplers->footer("Example:\n  thg bench samplers --out bench/cpu --samplers ddim,dpmpp-2m --steps 4,8,16 --clips 2");
  auto* e2e = app.add_subcommand("e2e", "Frames per second of whole generations (decoded inputs to frames, no codec)");
  auto e = std::make_shared<BenchE2eCli>();
  e2e->add_option("--seconds", e->bench.seconds, "Speech length per run (synthetic speech-like audio)")
      ->default_val(8.0)->check(CLI::Range(0.1, 3600.0));
  e2e->add_option("--warmup", e->bench.warmup, "Untimed one-chunk runs first")->default_val(1)->check(CLI::Range(0, 100));
  e2e->add_option("--repeats", e->bench.repeats, "Timed runs (median reported)")->default_val(3)->check(CLI::Range(1, 100));
  e2e->add_option("--out", e->out, "Also write results.{json,md} into this folder");
  e2e->add_flag("--json", e->json, "Machine-readable output on stdout");
  add_generation_options(*e2e, e->bench.generation);
  add_model_options(*e2e, e->model, e->attention);
  e2e->footer("Examples:\n  thg bench e2e --seconds 4 --repeats 2\n"
              "  thg bench e2e --device cuda --dtype float16 --seconds 20 --out bench-e2e");
  auto* por = app.add_subcommand("portrait", "Speed of the portrait stage: face finding per photo, paste-back per frame");
  auto pb = std::make_shared<BenchPortraitCli>();
  por->add_option("--photo", pb->bench.photo, "A portrait photo")->required();
  por->add_option("--repeats", pb->bench.repeats, "Timed runs (median reported)")->default_val(5)->check(CLI::Range(1, 1000));
  por->add_option("--crop-size", pb->bench.crop_size, "The model's crop side")->default_val(128)->check(CLI::Range(32, 2048));
  por->add_flag("--json", pb->json, "Machine-readable output on stdout");
  por->footer("Example:\n  thg bench portrait --photo examples/astronaut.png");
  app.footer("Examples:\n  thg bench unet --config configs/pixel-latent.yaml --json\n"
             "  thg bench e2e --device cuda --dtype float16\n"
             "  thg bench samplers --out bench/ --steps 4,8,16");
  return [o, unet, s, samplers, e, e2e, pb, por, &global]() -> int {
    if (unet->parsed()) return run_bench_unet(*o, global);
    if (samplers->parsed()) return run_bench_samplers(*s, global);
    if (e2e->parsed()) return run_bench_e2e(*e, global);
    if (por->parsed()) return run_bench_portrait(*pb);
    return 2;
  };
}

}  // namespace thg::app
