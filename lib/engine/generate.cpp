#include "engine/generate.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <cmath>
#include <optional>

#include "audio/mel.h"
#include "audio/speech_activity.h"
#include "core/atomic_file.h"
#include "core/cancel.h"
#include "core/error.h"
#include "core/pixels.h"
#include "core/progress.h"
#include "io/audio.h"
#include "io/image.h"
#include "io/frame_sink.h"
#include "engine/frame_noise.h"
#include "model/face_warp.h"
#include "sched/guidance.h"
#include "sched/scheduler.h"

namespace thg::pipeline {

namespace {

using Clock = std::chrono::steady_clock;

class StageTimer {
 public:
  explicit StageTimer(std::map<std::string, double>& sink) : sink_(sink) {}
  void add(const std::string& stage, Clock::time_point since) {
    sink_[stage] += std::chrono::duration<double>(Clock::now() - since).count();
  }

 private:
  std::map<std::string, double>& sink_;
};

// The conditioning of every guidance branch, batched so that one UNet forward serves them all.
// A dropped condition is zeros (the same "null" the training recipe drops to).
struct ConditionBatch {
  at::Tensor latents, tokens, audio;
};

ConditionBatch condition_batch(const at::Tensor& ref_latent, const at::Tensor& ref_tokens, const at::Tensor& audio,
                               int64_t frames, const sched::GuidanceBranches& branches) {
  std::vector<int64_t> per_frame(static_cast<size_t>(ref_latent.dim()), -1);
  per_frame[0] = frames;
  const at::Tensor latents = ref_latent.expand(per_frame);
  const at::Tensor tokens = ref_tokens.expand({frames, -1, -1});
  std::vector<at::Tensor> l, t, a;
  if (branches.uncond) {
    l.push_back(at::zeros_like(latents));
    t.push_back(at::zeros_like(tokens));
    a.push_back(at::zeros_like(audio));
  }
  if (branches.reference) {
    l.push_back(latents);
    t.push_back(tokens);
    a.push_back(at::zeros_like(audio));
  }
  l.push_back(latents);
  t.push_back(tokens);
  a.push_back(audio);
  return {at::cat(l, 0), at::cat(t, 0), at::cat(a, 0)};
}

}  // namespace

namespace {
void require_inputs(const GenerateOptions& o) {
  if (o.portrait.empty()) throw Error::input("", "--portrait is required");
  if (o.audio.empty()) throw Error::input("", "--audio is required");
}

void check_inputs_exist(const GenerateOptions& o) {
  std::error_code ec;
  if (!std::filesystem::exists(o.portrait, ec)) throw Error::input(o.portrait.string(), "file not found");
  if (!std::filesystem::exists(o.audio, ec)) throw Error::input(o.audio.string(), "file not found");
}
}  // namespace

void check_generate_paths(const GenerateOptions& o) {
  require_inputs(o);
  if (o.placement.crop) portrait::validate(o.placement);
  io::check_sink_output(o.output);
  if (same_file(o.output, o.portrait) || same_file(o.output, o.audio))
    throw Error::input(o.output.string(), "output path is the same file as an input");
  check_inputs_exist(o);
}

GenerateResult generate(const model::ModelFamily& model, const GenerateOptions& o) {
  check_generate_paths(o);
  const std::unique_ptr<io::FrameSink> sink = io::make_file_sink(o.output, o.crf);
  GenerateResult result = generate(model, o, *sink);
  result.output = o.output;
  return result;
}

namespace {

// Everything generation decides from the options and the model, validated before any decoding.
struct Plan {
  GenerateResult result;  // fps, size, sampler, steps, seed, model_evaluations filled in
  int64_t chunk = 0, overlap = 0;
  std::string decode;
  std::unique_ptr<sched::Scheduler> scheduler;
  sched::GuidanceScales guidance;
  sched::GuidanceBranches branches;
};

Plan make_plan(const model::ModelFamily& model, const GenerateOptions& o) {
  const model::ModelConfig& cfg = model.config();
  Plan plan;
  GenerateResult& result = plan.result;
  result.output = o.output;
  result.fps = o.fps > 0 ? o.fps : cfg.generation.fps;
  result.size = o.size > 0 ? o.size : cfg.image_size;
  result.sampler = o.sampler.empty() ? cfg.generation.sampler : o.sampler;
  result.steps = o.steps > 0 ? o.steps : cfg.generation.steps;
  result.seed = o.seed;
  const int64_t chunk = o.chunk_frames > 0 ? o.chunk_frames : cfg.generation.chunk_frames;
  plan.chunk = chunk;
  plan.overlap = std::min(o.chunk_overlap >= 0 ? o.chunk_overlap : cfg.generation.chunk_overlap, chunk - 1);
  plan.decode = o.decode.empty() ? cfg.generation.decode : o.decode;
  const std::string& decode = plan.decode;
  if (!model.accepts_decode(decode))
    throw Error::input("", "--decode '" + decode + "' is not a decoding of this model's family (" + cfg.family + ")");
  const int64_t granularity = model.size_granularity();
  if (result.size < 32 || result.size > 2048 || result.size % granularity != 0)
    throw Error::input("", "--size must be between 32 and 2048 and a multiple of " + std::to_string(granularity));
  if (result.fps < 1 || result.fps > 120) throw Error::input("", "--fps must be between 1 and 120");
  if (const int64_t limit = model.max_chunk_frames(); limit > 0 && chunk > limit)
    throw Error::input("", "--chunk-frames must be at most " + std::to_string(limit) +
                               " for this model (its temporal attention's frame limit)");

  // The sampler and guidance are built (and their options validated) before any expensive work.
  const std::string schedule = o.schedule.empty() ? cfg.generation.sigma_schedule : o.schedule;
  if (schedule != "default" && schedule != "karras")
    throw Error::input("", "--schedule must be default or karras, not '" + schedule + "'");
  sched::SamplerOptions sampler_options{cfg.scheduler, o.eta, schedule == "karras", cfg.generation.flow_shift};
  plan.scheduler = sched::make_scheduler(result.sampler, sampler_options);
  plan.scheduler->set_timesteps(result.steps);
  plan.guidance = sched::GuidanceScales{o.guidance_reference.value_or(cfg.generation.guidance_reference),
                                 o.guidance_audio.value_or(cfg.generation.guidance_audio),
                                 o.guidance_rescale.value_or(cfg.generation.guidance_rescale)};
  plan.guidance.validate();
  plan.branches = sched::guidance_branches(plan.guidance);
  result.model_evaluations = static_cast<int64_t>(plan.scheduler->timesteps().size()) * plan.branches.count();
  return plan;
}


// Generation from decoded inputs, after make_plan; `label` names the audio in messages.
GenerateResult run(const model::ModelFamily& model, Plan plan, GenerateInputs inputs, const GenerateOptions& o,
                   io::FrameSink& sink, const std::string& label, Clock::time_point start);

}  // namespace

GenerateResult generate(const model::ModelFamily& model, const GenerateOptions& o, io::FrameSink& sink) {
  const auto start = Clock::now();
  require_inputs(o);
  check_inputs_exist(o);
  Plan plan = make_plan(model, o);

  // 1. Inputs: the speech, and the portrait as the model's crop (of the chosen face, or of the
  // whole image with --no-crop).
  auto t0 = Clock::now();
  GenerateInputs inputs;
  std::optional<portrait::PreparedPortrait> prepared;
  if (o.placement.crop) {
    const model::FaceTemplateConfig& f = model.config().face;
    prepared = portrait::prepare_portrait(o.portrait, static_cast<int>(plan.result.size),
                                          portrait::FaceTemplate{f.eye_y, f.eye_distance, f.mouth_y}, o.placement);
    inputs.portrait = prepared->crop;
    inputs.landmarks = model::landmarks_tensor(prepared->crop_landmarks());
    GenerateResult::Face& face = plan.result.face;
    face.index = prepared->chosen;
    face.found = static_cast<int>(prepared->faces.size());
    face.box = prepared->face().box;
    face.score = prepared->face().score;
    face.photo_width = prepared->photo_width;
    face.photo_height = prepared->photo_height;
    plan.result.stage_seconds["face"] += std::chrono::duration<double>(Clock::now() - t0).count();
    t0 = Clock::now();
  } else {
    io::ImageLoadOptions image_options;
    image_options.size = static_cast<int>(plan.result.size);
    inputs.portrait = io::load_image(o.portrait, image_options);
  }
  inputs.speech = io::decode_audio(o.audio, io::AudioLimits{o.max_audio_seconds});
  plan.result.stage_seconds["decode"] += std::chrono::duration<double>(Clock::now() - t0).count();
  throw_if_cancelled(o.cancel.get());
  if (!prepared) return run(model, std::move(plan), std::move(inputs), o, sink, o.audio.string(), start);
  // Each crop goes back into the photo before the sink sees it.
  const std::unique_ptr<portrait::PasteBackSink> paste = prepared->paste_back_into(sink);
  plan.result.width = prepared->canvas.width;
  plan.result.height = prepared->canvas.height;
  prepared.reset();  // the full-resolution photo's copies are not needed any more
  return run(model, std::move(plan), std::move(inputs), o, *paste, o.audio.string(), start);
}

GenerateResult generate(const model::ModelFamily& model, GenerateInputs inputs, const GenerateOptions& o,
                        io::FrameSink& sink) {
  const auto start = Clock::now();
  Plan plan = make_plan(model, o);
  const int64_t size = plan.result.size;
  const at::Tensor& p = inputs.portrait;
  if (!p.defined() || p.dim() != 3 || p.size(0) != 3 || p.size(1) != size || p.size(2) != size ||
      p.scalar_type() != at::kFloat)
    throw Error::input("portrait", "must be a float32 tensor [3, " + std::to_string(size) + ", " + std::to_string(size) +
                                       "] (the generation size)");
  const at::Tensor& l = inputs.landmarks;
  if (l.defined() && (l.dim() != 2 || l.size(0) != 68 || l.size(1) != 2 || l.scalar_type() != at::kFloat))
    throw Error::input("landmarks", "must be a float32 tensor [68, 2] (the portrait's pixels)");
  const io::AudioBuffer& a = inputs.speech;
  if (a.sample_rate < 1 || a.channels < 1 || a.samples.size() % static_cast<size_t>(a.channels) != 0)
    throw Error::input("speech", "needs a sample rate, a channel count and whole frames of samples");
  if (a.seconds() > o.max_audio_seconds)
    throw Error::input("speech", "is longer than the limit of " + std::to_string(o.max_audio_seconds) + " s");
  return run(model, std::move(plan), std::move(inputs), o, sink, "speech", start);
}

namespace {

GenerateResult run(const model::ModelFamily& model, Plan plan, GenerateInputs inputs, const GenerateOptions& o,
                   io::FrameSink& sink, const std::string& label, Clock::time_point start) {
  const model::ModelConfig& cfg = model.config();
  const nn::ScopedAttentionBackend attention(o.attention);  // this request's, on this thread
  GenerateResult result = std::move(plan.result);
  if (result.width == 0) result.width = result.height = static_cast<int>(result.size);
  StageTimer timer(result.stage_seconds);
  const int64_t chunk = plan.chunk, overlap = plan.overlap;
  const std::string& decode = plan.decode;
  sched::Scheduler* scheduler = plan.scheduler.get();
  const sched::GuidanceScales& guidance = plan.guidance;
  const sched::GuidanceBranches& branches = plan.branches;
  at::Tensor portrait = std::move(inputs.portrait);
  io::AudioBuffer& speech = inputs.speech;
  result.audio_seconds = speech.seconds();
  if (result.audio_seconds < 1.0 / result.fps)
    throw Error::input(label, "audio is " + std::to_string(result.audio_seconds).substr(0, 5) +
                                  " s long, shorter than one video frame");
  result.frames = std::max<int64_t>(1, std::llround(result.audio_seconds * result.fps));
  if (o.max_frames > 0 && result.frames > o.max_frames) {
    result.frames = o.max_frames;
    const auto keep = static_cast<size_t>(std::llround(static_cast<double>(result.frames) / result.fps * speech.sample_rate));
    speech.samples.resize(std::min(speech.samples.size(), keep * static_cast<size_t>(speech.channels)));
    result.audio_seconds = speech.seconds();
  }

  c10::InferenceMode inference;
  // 2. Audio features and tokens per frame.
  auto t0 = Clock::now();
  io::AudioBuffer mono16k = io::resample(speech, cfg.audio.mel.sample_rate, 1);
  at::Tensor mel = audio::log_mel(mono16k.samples, cfg.audio.mel);
  const double silence = mel.min().item<double>();  // windows are made per chunk, from this level
  // Where the speaker pauses, for a family that rests the mouth there: one float per frame.
  at::Tensor activity;
  if (const std::optional<audio::PauseOptions> pauses = model.pause_options())
    activity = at::tensor(audio::speech_activity(
        audio::frame_loudness(mono16k.samples, mono16k.sample_rate, result.fps, result.frames), *pauses));
  timer.add("features", t0);

  // 3. The family's conditioning on the portrait.
  t0 = Clock::now();
  const model::Reference reference = model.reference(model::PortraitInput{portrait, inputs.landmarks}, decode);
  timer.add("reference", t0);
  throw_if_cancelled(o.cancel.get());

  // 4. Chunks of frames: denoise, decode, encode. Memory is bounded by the chunk, not the audio.
  sink.begin(io::SinkFormat{static_cast<int>(result.size), static_cast<int>(result.size), result.fps, &speech});
  const std::vector<int64_t> frame_shape = model.frame_shape(result.size);
  const auto options = at::TensorOptions().device(model.device()).dtype(model.dtype());
  std::unique_ptr<Progress> bar;
  if (o.progress) bar = std::make_unique<Progress>("generate", result.frames, "frames");
  at::Generator step_gen = at::make_generator<at::CPUGeneratorImpl>(o.seed ^ 0x5DEECE66DULL);
  const sched::NoiseFn step_noise = sched::gaussian_noise(step_gen);

  // Consecutive chunks share `overlap` frames. Shared frames start from the same noise (it is
  // seeded per frame) and see the same audio, so both chunks produce nearly the same latents; the
  // remaining difference is cross-faded, which leaves no seam at chunk boundaries. Only the shared
  // tail of the previous chunk is kept between chunks.
  at::Tensor pending;  // latents of the previous chunk's shared tail, not yet written
  int64_t written = 0;
  for (int64_t first = 0; first < result.frames;) {
    const int64_t n = std::min(chunk, result.frames - first);
    const bool last = first + n >= result.frames;
    t0 = Clock::now();
    at::Tensor tokens = model.audio_tokens(
        audio::frame_windows_at(mel, first, n, result.fps, model.audio_window(), cfg.audio.mel, silence));
    std::vector<at::Tensor> noise;
    for (int64_t f = first; f < first + n; ++f) noise.push_back(frame_noise(o.seed, f, frame_shape));
    at::Tensor x = (at::stack(noise) * scheduler->init_noise_sigma()).to(options);
    const ConditionBatch cond = condition_batch(reference.latents, reference.tokens, tokens, n, branches);
    // Multistep samplers keep state (previous outputs): every chunk starts a fresh trajectory.
    scheduler->set_timesteps(result.steps);
    for (size_t i = 0; i < scheduler->timesteps().size(); ++i) {
      throw_if_cancelled(o.cancel.get());
      at::Tensor x_in = scheduler->scale_model_input(x, i);
      x_in = at::cat(std::vector<at::Tensor>(static_cast<size_t>(branches.count()), x_in), 0);
      at::Tensor t = at::full({x_in.size(0)}, scheduler->timesteps()[i], options);
      auto parts = model.denoise(x_in, t, cond.latents, cond.tokens, cond.audio, n).chunk(branches.count(), 0);
      // Branch order in the batch: [uncond], [reference], full.
      size_t k = 0;
      at::Tensor uncond = branches.uncond ? parts[k++] : at::Tensor();
      at::Tensor ref_only = branches.reference ? parts[k++] : at::Tensor();
      x = scheduler->step(sched::combine_guidance(uncond, ref_only, parts[k], guidance), i, x, step_noise);
    }
    if (pending.defined()) {
      const int64_t shared = pending.size(0);
      std::vector<int64_t> column(static_cast<size_t>(x.dim()), 1);
      column[0] = shared;
      at::Tensor w = (at::arange(1, shared + 1, at::kFloat) / static_cast<double>(shared + 1)).view(column);
      w = w.to(options);
      x = at::cat({pending * (1.0 - w) + x.slice(0, 0, shared) * w, x.slice(0, shared)}, 0);
    }
    const int64_t keep = last ? 0 : std::min(overlap, n - 1);
    pending = keep > 0 ? x.slice(0, n - keep).clone() : at::Tensor();
    timer.add("denoise", t0);

    t0 = Clock::now();
    at::Tensor done = x.slice(0, 0, n - keep);
    const model::FrameContext context{written, activity.defined() ? activity.slice(0, written, written + done.size(0)) : at::Tensor(),
                                      o.seed, result.fps};
    done = model.finish_samples(done, context);
    at::Tensor rgb = frames_to_rgb8(model.decode(done, reference));
    timer.add("render", t0);  // the family's decode to RGB (pixel-latent: the VAE decoder)
    const at::Tensor frames = rgb.cpu();
    if (o.on_rgb_frames) o.on_rgb_frames(frames, written);
    t0 = Clock::now();
    sink.write(frames, written);
    timer.add("encode", t0);
    written += rgb.size(0);
    if (bar) bar->advance(rgb.size(0));
    if (o.on_frames) o.on_frames(written, result.frames);
    first += last ? n : n - keep;
  }
  throw_if_cancelled(o.cancel.get());
  t0 = Clock::now();
  sink.finish();
  timer.add("encode", t0);
  if (bar) bar->finish();
  result.total_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace

MemoryAdvice generation_memory_advice() {
  // Activation memory grows with the frames denoised together and with the pixel count; on a GPU,
  // half precision halves it and every guidance branch adds a batch row.
  return {"lower --chunk-frames or --size",
          "lower --chunk-frames or --size, use --dtype float16, or drop a guidance branch "
          "(--guidance-ref 1 / --guidance-audio 1)"};
}

}  // namespace thg::pipeline
