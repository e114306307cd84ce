// Options shared by the commands that generate (generate, batch).
#include "options.h"

#include "sched/scheduler.h"

namespace thg::app {

void add_generation_options(CLI::App& app, pipeline::GenerateOptions& g, bool sampler_and_steps) {
  if (sampler_and_steps) {
    std::string sampler_help = "Sampler (default: the model's). Available:";
    for (const auto& s : sched::samplers()) sampler_help += std::string("\n  ") + s.name + ": " + s.summary;
    app.add_option("--sampler", g.sampler, sampler_help);
    app.add_option("--steps", g.steps, "Denoising steps (default: the model's)")->check(CLI::Range(1, 1000));
  }
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
  app.add_option("--decode", g.decode,
                 "Latents to pixels: direct (the decoder's output) or reference_delta (the portrait plus the decoded "
                 "change from it; default: the model's)")
      ->check(CLI::IsMember({"direct", "reference_delta"}));
  app.add_option("--seed", g.seed, "Random seed: the same seed gives the same video")->default_val(0);
  app.add_option("--fps", g.fps, "Frames per second (default 25)")->check(CLI::Range(1, 120));
  app.add_option("--size", g.size, "The model's working size in pixels: the face crop's side, or the whole image's with --no-crop (default: the model's)");
  app.add_option("--crf", g.crf, "H.264 quality, 0 (lossless) to 51 (worst)")->default_val(18)->check(CLI::Range(0, 51));
  app.add_option("--chunk-overlap", g.chunk_overlap, "Frames shared by consecutive chunks, cross-faded (default: the model's)");
  app.add_option("--chunk-frames", g.chunk_frames, "Frames denoised together (memory vs speed)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--max-audio-seconds", g.max_audio_seconds, "Refuse longer audio")->default_val(3600.0);
  app.add_option("--max-frames", g.max_frames, "Only the first N frames and their audio (previews; 0: all)")
      ->check(CLI::Range(int64_t{0}, int64_t{100000000}));
}

void add_placement_options(CLI::App& app, portrait::PortraitOptions& p) {
  app.add_flag("!--no-crop", p.crop,
               "Use the whole image as the model's input (for images that are already face crops, or not faces); "
               "by default the face is found, animated and pasted back into the photo");
  app.add_option("--face", p.face, "Which face to animate: 0 is the most confident (see `thg faces PHOTO`)")
      ->check(CLI::Range(0, 1000));
  app.add_option("--crop-scale", p.crop_scale, "Margin around the face in the model's crop (> 1: more around it)")
      ->default_val(1.0)->check(CLI::Range(0.5, 4.0));
  app.add_option("--max-size", p.max_size, "The video's long side at most, in pixels")
      ->default_val(1280)->check(CLI::Range(64, 8192));
  app.add_option("--framing", p.framing,
                 "What the video shows: photo (the whole photo), square or portrait (9:16) head and shoulders")
      ->default_val("photo")->check(CLI::IsMember({"photo", "square", "portrait"}));
}

void add_model_options(CLI::App& app, pipeline::ModelSource& model, std::string& attention) {
  app.add_option("--weights", model.weights, "Model weights (default: the bundled weights/default.safetensors)");
  app.add_option("--config", model.config,
                 "Model config YAML to run with a seeded random initialisation (development; ignored with --weights)");
  app.add_option("--device", model.device, "auto, cpu, cuda or cuda:N")->default_val("auto");
  app.add_option("--dtype", model.dtype, "float32, float16 (CUDA) or bfloat16")->default_val("float32");
  app.add_option("--attention", attention, "Attention backend: auto, math, sdpa, fused (default: the model config's)");
}

void apply_attention(const std::string& attention, const model::TalkingHeadModel& model) {
  nn::set_attention_backend(
      nn::parse_attention_backend(attention.empty() ? model.config().generation.attention : attention));
}

}  // namespace thg::app
