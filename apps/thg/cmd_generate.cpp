// thg generate: portrait + speech -> MP4.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/log.h"
#include "nn/attention.h"
#include "pipeline/generate.h"
#include "pipeline/model_loader.h"
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
  if (!o.attention.empty()) nn::set_attention_backend(nn::parse_attention_backend(o.attention));
  pipeline::check_generate_paths(o.generate);
  pipeline::LoadedModel loaded = pipeline::load_model(o.model);
  // The model's configured backend unless --attention was given.
  if (o.attention.empty())
    nn::set_attention_backend(nn::parse_attention_backend(loaded.model->config().generation.attention));
  pipeline::GenerateOptions options = o.generate;
  options.progress = !global.quiet && !o.json;
  if (global.verbose) log::info("model: " + loaded.description);
  pipeline::GenerateResult r = pipeline::generate(*loaded.model, options);
  if (o.json) {
    nlohmann::ordered_json j;
    j["output"] = r.output.string();
    j["frames"] = r.frames;
    j["fps"] = r.fps;
    j["size"] = r.size;
    j["audio_seconds"] = r.audio_seconds;
    j["sampler"] = r.sampler;
    j["steps"] = r.steps;
    j["model_evaluations_per_frame"] = r.model_evaluations;
    j["seed"] = r.seed;
    j["model"] = loaded.description;
    j["random_weights"] = loaded.random_weights;
    j["seconds"] = r.total_seconds;
    j["stage_seconds"] = r.stage_seconds;
    std::cout << j.dump(2) << "\n";
  } else if (!global.quiet) {
    std::fprintf(stderr, "thg: wrote %s (%lld frames, %.2f s at %d fps, %lldx%lld) in %.1f s\n",
                 r.output.c_str(), static_cast<long long>(r.frames), r.audio_seconds, r.fps,
                 static_cast<long long>(r.size), static_cast<long long>(r.size), r.total_seconds);
  }
  return 0;
}
}  // namespace

Handler add_generate_command(CLI::App& app, const GlobalOptions& global) {
  auto o = std::make_shared<GenerateCli>();
  auto& g = o->generate;
  app.add_option("-p,--portrait", g.portrait, "Portrait image (PNG, JPEG, WebP, BMP, ...)")->required();
  app.add_option("-a,--audio", g.audio, "Speech (any format FFmpeg reads, or a video's audio)")->required();
  app.add_option("-o,--output", g.output, "Output .mp4 (written under a temporary name, renamed when complete)")
      ->required();
  std::string sampler_help = "Sampler (default: the model's). Available:";
  for (const auto& s : sched::samplers()) sampler_help += std::string("\n  ") + s.name + ": " + s.summary;
  app.add_option("--sampler", g.sampler, sampler_help);
  app.add_option("--steps", g.steps, "Denoising steps (default: the model's)")->check(CLI::Range(1, 1000));
  app.add_option("--schedule", g.schedule, "Sigma spacing: default or karras (euler, heun, dpmpp-*, unipc)")
      ->check(CLI::IsMember({"default", "karras"}));
  app.add_option("--eta", g.eta, "DDIM eta: 0 deterministic, 1 DDPM-like")->check(CLI::Range(0.0, 1.0));
  app.add_option("--guidance-ref", g.guidance_reference,
                 "Reference (portrait) guidance scale; 1 = off (default: the model's)")
      ->check(CLI::Range(0.0, 30.0));
  app.add_option("--guidance-audio", g.guidance_audio, "Audio guidance scale; 1 = off (default: the model's)")
      ->check(CLI::Range(0.0, 30.0));
  app.add_option("--guidance-rescale", g.guidance_rescale, "Guidance rescale 0..1 (default: the model's)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", g.seed, "Random seed: the same seed gives the same video")->default_val(0);
  app.add_option("--fps", g.fps, "Frames per second (default 25)")->check(CLI::Range(1, 120));
  app.add_option("--size", g.size, "Output width and height in pixels (default: the model's)");
  app.add_option("--crf", g.crf, "H.264 quality, 0 (lossless) to 51 (worst)")->default_val(18)->check(CLI::Range(0, 51));
  app.add_option("--chunk-frames", g.chunk_frames, "Frames denoised together (memory vs speed)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--max-audio-seconds", g.max_audio_seconds, "Refuse longer audio")->default_val(3600.0);
  app.add_option("--weights", o->model.weights, "Model weights (default: the bundled weights/default.safetensors)");
  app.add_option("--config", o->model.config,
                 "Model config YAML to run with a seeded random initialisation (development; ignored with --weights)");
  app.add_option("--device", o->model.device, "auto, cpu, cuda or cuda:N")->default_val("auto");
  app.add_option("--dtype", o->model.dtype, "float32, float16 (CUDA) or bfloat16")->default_val("float32");
  app.add_option("--attention", o->attention, "Attention backend: auto, math, sdpa, fused (default: the model config's)");
  app.add_flag("--json", o->json, "Print a JSON summary on stdout");
  app.footer(
      "Examples:\n"
      "  thg generate --portrait face.png --audio speech.wav --output out.mp4\n"
      "  thg generate -p face.jpg -a talk.m4a -o out.mp4 --steps 20 --seed 7 --size 256\n"
      "  thg generate -p face.png -a talk.wav -o out.mp4 --sampler dpmpp-2m --schedule karras --steps 15 \\\n"
      "      --guidance-ref 2 --guidance-audio 4\n"
      "  thg generate -p face.png -a interview.mp4 -o out.mp4 --device cuda --dtype float16 --json");
  return [o, &global] { return run_generate(*o, global); };
}

}  // namespace thg::app
