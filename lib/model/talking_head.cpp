#include "model/talking_head.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>
#include <unistd.h>

#include <cstdlib>
#include <set>

#include "core/error.h"
#include "core/memory.h"
#include "io/safetensors.h"
#include "model/weights.h"

namespace thg::model {

namespace {

int64_t window_for(const ModelConfig& c) {
  return (2 * c.audio.context_frames + 1) * audio::columns_per_frame(c.generation.fps, c.audio.mel);
}
}  // namespace

TalkingHeadModel::TalkingHeadModel(const ModelConfig& config)
    : config_((config.validate(), config)),
      audio_window_(window_for(config_)),
      vae(config_.vae),
      unet(config_.unet),
      audio_encoder(config_.audio, audio_window_),
      reference_encoder(config_.reference, config_.vae.latent_channels) {}

std::unique_ptr<TalkingHeadModel> TalkingHeadModel::load(const std::filesystem::path& weights) {
  io::SafetensorsFile file = io::SafetensorsFile::open(weights);
  ModelConfig config = model_file_config(file, weights);
  // Parameters are allocated uninitialised (address space only) and checked before any copy; a
  // model that cannot fit in memory is refused here rather than killed by the OOM killer later.
  auto model = std::make_unique<TalkingHeadModel>(config);
  int64_t bytes = 0;
  for (auto& [name, t] : model->named_parameters()) bytes += t->numel() * static_cast<int64_t>(t->element_size());
  if (auto available = available_memory_bytes(); available && bytes > *available)
    throw Error::input(weights.string(), "the model needs " + std::to_string(bytes >> 20) + " MB of memory, only " +
                                             std::to_string(*available >> 20) + " MB are available");
  load_parameters(model->vae, file, "vae.");
  load_parameters(model->unet, file, "unet.");
  load_parameters(model->audio_encoder, file, "audio_encoder.");
  load_parameters(model->reference_encoder, file, "reference_encoder.");
  check_model_file_parts(file, weights, {"vae", "unet", "audio_encoder", "reference_encoder"});
  return model;
}

std::unique_ptr<TalkingHeadModel> TalkingHeadModel::random(const ModelConfig& config, uint64_t seed) {
  auto model = std::make_unique<TalkingHeadModel>(config);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  model->vae.reset_parameters(gen);
  model->unet.reset_parameters(gen);
  model->audio_encoder.reset_parameters(gen);
  model->reference_encoder.reset_parameters(gen);
  if (config.reference_residual) {
    // Starts as "the portrait, unchanged": the first steps learn what moves, not how to copy.
    at::NoGradGuard no_grad;
    model->unet.conv_out.weight.zero_();
    model->unet.conv_out.bias.zero_();
  }
  return model;
}

void TalkingHeadModel::save(const std::filesystem::path& path, c10::ScalarType dtype) const {
  save_model_file(*const_cast<TalkingHeadModel*>(this), path, dtype);
}

void TalkingHeadModel::to(c10::Device device, c10::ScalarType dtype) {
  vae.to(device, dtype);
  unet.to(device, dtype);
  audio_encoder.to(device, dtype);
  reference_encoder.to(device, dtype);
}

c10::Device TalkingHeadModel::device() const { return unet.conv_in.weight.device(); }
c10::ScalarType TalkingHeadModel::dtype() const { return unet.conv_in.weight.scalar_type(); }

at::Tensor TalkingHeadModel::encode_images(const at::Tensor& images) const {
  return vae.encode(images.to(device(), dtype()) * 2.0 - 1.0);
}

at::Tensor TalkingHeadModel::audio_tokens(const at::Tensor& windows) const {
  return audio_encoder.forward(windows.to(device(), dtype()));
}

at::Tensor TalkingHeadModel::reference_tokens(const at::Tensor& reference_latents) const {
  return reference_encoder.forward(reference_latents.to(device(), dtype()));
}

at::Tensor TalkingHeadModel::denoise(const at::Tensor& noisy, const at::Tensor& timesteps,
                                     const at::Tensor& reference_latents, const at::Tensor& ref_tokens,
                                     const at::Tensor& audio_tokens, int64_t frames) const {
  const int64_t b = noisy.size(0);
  at::Tensor ref = reference_latents.size(0) == b ? reference_latents : reference_latents.expand({b, -1, -1, -1});
  at::Tensor context = ref_tokens.size(0) == b ? ref_tokens : ref_tokens.expand({b, -1, -1});
  at::Tensor out = unet.forward(at::cat({noisy, ref}, 1), timesteps, nn::Conditioning{context, audio_tokens, frames});
  // Where the reference is dropped (zeros, guidance's unconditional branch) this adds nothing.
  return config_.reference_residual ? out + ref : out;
}

at::Tensor TalkingHeadModel::decode_latents(const at::Tensor& latents) const {
  return (vae.decode(latents) + 1.0) * 0.5;
}

std::vector<int64_t> TalkingHeadModel::frame_shape(int64_t size) const {
  const int64_t latent = config_.latent_size(size);
  return {config_.vae.latent_channels, latent, latent};
}

bool TalkingHeadModel::accepts_decode(const std::string& decode) const {
  return decode == "direct" || decode == "reference_delta";
}

Reference TalkingHeadModel::reference(const PortraitInput& portrait, const std::string& decode) const {
  Reference r;
  r.latents = encode_images(portrait.image.unsqueeze(0));
  r.tokens = reference_tokens(r.latents);
  // reference_delta: frames are portrait + decode(x) - decode(reference); the state is the
  // constant part, portrait - decode(reference), computed once.
  if (decode == "reference_delta")
    r.state = portrait.image.unsqueeze(0).to(device(), dtype()) - decode_latents(r.latents);
  return r;
}

at::Tensor TalkingHeadModel::decode(const at::Tensor& samples, const Reference& reference) const {
  at::Tensor pixels = decode_latents(samples);
  return reference.state.defined() ? pixels + reference.state : pixels;
}

TalkingHeadModel& as_pixel_latent(ModelFamily& model, const std::string& what) {
  if (auto* pixel = dynamic_cast<TalkingHeadModel*>(&model)) return *pixel;
  throw Error::input("", what + " needs a pixel-latent model, not family '" + model.config().family + "'");
}

std::vector<std::pair<std::string, at::Tensor*>> TalkingHeadModel::named_parameters() {
  std::vector<std::pair<std::string, at::Tensor*>> out;
  for (auto& [n, t] : vae.named_parameters()) out.emplace_back("vae." + n, t);
  for (auto& [n, t] : unet.named_parameters()) out.emplace_back("unet." + n, t);
  for (auto& [n, t] : audio_encoder.named_parameters()) out.emplace_back("audio_encoder." + n, t);
  for (auto& [n, t] : reference_encoder.named_parameters()) out.emplace_back("reference_encoder." + n, t);
  return out;
}

std::vector<std::pair<std::string, int64_t>> TalkingHeadModel::parameter_counts() {
  return {{"vae", vae.parameter_count()},
          {"unet", unet.parameter_count()},
          {"audio_encoder", audio_encoder.parameter_count()},
          {"reference_encoder", reference_encoder.parameter_count()}};
}

DefaultModelPaths default_model_paths() {
  std::vector<std::filesystem::path> roots;
  if (const char* home = std::getenv("THG_HOME")) roots.emplace_back(home);
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    roots.push_back(exe.parent_path().parent_path() / "share" / "thg");
    roots.push_back(exe.parent_path().parent_path());
  }
#ifdef THG_SOURCE_DIR
  roots.emplace_back(THG_SOURCE_DIR);
#endif
  for (const auto& root : roots)
    if (std::filesystem::exists(root / "configs" / "motion.yaml", ec))
      return {root / "configs" / "motion.yaml", root / "weights" / "motion.safetensors",
              root / "configs" / "pixel-latent.yaml", root / "weights" / "pixel-latent.safetensors",
              root / "benchmarks" / "data" / "heldout-synth" / "test.jsonl"};
  throw Error::failure("configs/motion.yaml", "the bundled default model config was not found (set THG_HOME)");
}

}  // namespace thg::model
