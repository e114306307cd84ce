#include "model/motion_warp.h"

#include "model/blinks.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>

#include <set>

#include "core/error.h"
#include "io/safetensors.h"
#include "model/face_warp.h"
#include "model/weights.h"

namespace thg::model {

namespace {

nn::AttentionOptions attention(int64_t dim, int64_t heads, int64_t context_dim) {
  nn::AttentionOptions o;
  o.query_dim = dim;
  o.cross_attention_dim = context_dim;
  o.heads = heads;
  o.dim_head = dim / heads;
  return o;
}

}  // namespace

std::array<float, kGeometryFeatures> face_geometry(const portrait::Landmarks& p) {
  const portrait::Point l = portrait::landmark_mean(p, 36, 41), r = portrait::landmark_mean(p, 42, 47);
  const portrait::Point mouth = portrait::landmark_mean(p, 48, 67);
  const double iod = std::max(1e-6, std::hypot(r.x - l.x, r.y - l.y));
  const double width = std::hypot(p[54].x - p[48].x, p[54].y - p[48].y);
  const double eyes_to_mouth = std::hypot(mouth.x - (l.x + r.x) / 2, mouth.y - (l.y + r.y) / 2);
  return {static_cast<float>(lip_opening(p)), static_cast<float>(width / iod), static_cast<float>(eyes_to_mouth / iod)};
}

MotionDenoiserLayer::MotionDenoiserLayer(int64_t dim, int64_t heads, int64_t audio_dim)
    : norm1(dim), norm2(dim), norm3(dim), frames_attn(attention(dim, heads, 0)),
      audio_attn(attention(dim, heads, audio_dim)), ff(dim) {
  register_module("norm1", norm1);
  register_module("norm2", norm2);
  register_module("norm3", norm3);
  register_module("frames_attn", frames_attn);
  register_module("audio_attn", audio_attn);
  register_module("ff", ff);
}

at::Tensor MotionDenoiserLayer::forward(const at::Tensor& h_in, const at::Tensor& audio) const {
  const int64_t g = h_in.size(0), f = h_in.size(1), d = h_in.size(2);
  at::Tensor h = h_in + frames_attn.forward(norm1.forward(h_in));
  h = h + audio_attn.forward(norm2.forward(h).reshape({g * f, 1, d}), audio).reshape({g, f, d});
  return h + ff.forward(norm3.forward(h));
}

MotionDenoiser::MotionDenoiser(const MotionConfig& c, int64_t audio_dim)
    : dim(c.dim), proj_in(kMotionChannels + kGeometryFeatures, c.dim), time_embedding(c.dim, c.dim),
      norm_out(c.dim), proj_out(c.dim, kMotionChannels) {
  register_module("proj_in", proj_in);
  register_module("time_embedding", time_embedding);
  register_parameter("pos_embed", pos_embed, at::zeros({c.max_frames, c.dim}));
  for (int64_t i = 0; i < c.layers; ++i) layers.emplace_back(c.dim, c.heads, audio_dim);
  register_module("layers", layers);
  register_module("norm_out", norm_out);
  register_module("proj_out", proj_out);
}

void MotionDenoiser::init_own_parameters(at::Generator& g) {
  at::NoGradGuard no_grad;
  pos_embed.normal_(0.0, 0.02, g);
}

at::Tensor MotionDenoiser::forward(const at::Tensor& x, const at::Tensor& timesteps, const at::Tensor& geometry,
                                   const at::Tensor& audio, int64_t frames) const {
  const int64_t b = x.size(0);
  if (frames < 1 || b % frames != 0 || frames > pos_embed.size(0))
    throw Error::input("", "motion denoiser: " + std::to_string(frames) + " frames per group do not fit (at most " +
                               std::to_string(pos_embed.size(0)) + ")");
  const at::Tensor geo = geometry.size(0) == b ? geometry : geometry.expand({b, -1});
  at::Tensor h = proj_in.forward(at::cat({x, geo.to(x.scalar_type())}, 1)) +
                 time_embedding.forward(nn::timestep_features(timesteps, dim, true, 0).to(x.scalar_type()));
  h = h.view({b / frames, frames, dim}) + pos_embed.slice(0, 0, frames).unsqueeze(0);
  for (size_t i = 0; i < layers.size(); ++i) h = layers[i].forward(h, audio);
  return proj_out.forward(norm_out.forward(h)).reshape({b, kMotionChannels});
}

MotionWarpModel::MotionWarpModel(const ModelConfig& config)
    : config_((config.validate(), config)),
      audio_window_((2 * config_.audio.context_frames + 1) * audio::columns_per_frame(config_.generation.fps, config_.audio.mel)),
      audio_encoder(config_.audio, audio_window_),
      denoiser(config_.motion, config_.audio.dim) {}

std::unique_ptr<MotionWarpModel> MotionWarpModel::load(const std::filesystem::path& weights) {
  io::SafetensorsFile file = io::SafetensorsFile::open(weights);
  auto model = std::make_unique<MotionWarpModel>(model_file_config(file, weights));
  load_parameters(model->audio_encoder, file, "audio_encoder.");
  load_parameters(model->denoiser, file, "denoiser.");
  check_model_file_parts(file, weights, {"audio_encoder", "denoiser"});
  return model;
}

std::unique_ptr<MotionWarpModel> MotionWarpModel::random(const ModelConfig& config, uint64_t seed) {
  auto model = std::make_unique<MotionWarpModel>(config);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  model->audio_encoder.reset_parameters(gen);
  model->denoiser.reset_parameters(gen);
  return model;
}

void MotionWarpModel::save(const std::filesystem::path& path, c10::ScalarType dtype) const {
  save_model_file(*const_cast<MotionWarpModel*>(this), path, dtype);
}

void MotionWarpModel::to(c10::Device device, c10::ScalarType dtype) {
  audio_encoder.to(device, dtype);
  denoiser.to(device, dtype);
}
c10::Device MotionWarpModel::device() const { return denoiser.proj_in.weight.device(); }
c10::ScalarType MotionWarpModel::dtype() const { return denoiser.proj_in.weight.scalar_type(); }

std::vector<int64_t> MotionWarpModel::frame_shape(int64_t) const { return {kMotionChannels}; }

at::Tensor MotionWarpModel::audio_tokens(const at::Tensor& windows) const {
  return audio_encoder.forward(windows.to(device(), dtype()));
}

Reference MotionWarpModel::reference(const PortraitInput& portrait, const std::string&) const {
  // Without measured landmarks (--no-crop) the image is taken as an aligned face crop: the face
  // template says where the eyes and the mouth are.
  at::Tensor landmarks = portrait.landmarks;
  if (!landmarks.defined()) {
    const FaceTemplateConfig& f = config_.face;
    landmarks = landmarks_tensor(
        template_landmarks(f.eye_y, f.eye_distance, f.mouth_y, static_cast<int>(portrait.image.size(2))));
  }
  const std::array<float, kGeometryFeatures> g = face_geometry(landmarks_from_tensor(landmarks));
  Reference r;
  r.latents = at::tensor(std::vector<float>(g.begin(), g.end())).view({1, kGeometryFeatures}).to(device(), dtype());
  r.tokens = r.latents.view({1, 1, kGeometryFeatures});  // this family conditions by concatenation only
  r.portrait = portrait.image;
  r.landmarks = landmarks;
  return r;
}

at::Tensor MotionWarpModel::denoise(const at::Tensor& noisy, const at::Tensor& timesteps, const at::Tensor& reference_latents,
                                    const at::Tensor&, const at::Tensor& audio_tokens, int64_t frames) const {
  return denoiser.forward(noisy, timesteps, reference_latents, audio_tokens, frames);
}

at::Tensor MotionWarpModel::normalise(const at::Tensor& motion) const {
  if (config_.motion.mean.empty()) return motion;
  const auto o = motion.options();
  return (motion - at::tensor(config_.motion.mean).to(o)) / at::tensor(config_.motion.std).to(o);
}

at::Tensor MotionWarpModel::denormalise(const at::Tensor& samples) const {
  if (config_.motion.mean.empty()) return samples;
  const auto o = samples.options();
  return samples * at::tensor(config_.motion.std).to(o) + at::tensor(config_.motion.mean).to(o);
}

std::optional<audio::PauseOptions> MotionWarpModel::pause_options() const {
  if (config_.motion.pause_quiet_db <= 0) return std::nullopt;
  audio::PauseOptions o;
  o.quiet_db = config_.motion.pause_quiet_db;
  return o;
}

at::Tensor MotionWarpModel::rest_in_pauses(const at::Tensor& samples, const at::Tensor& activity) const {
  const MotionFrame rest = rest_motion();
  const auto o = samples.options();
  // Blending is linear, so it can happen in the denoiser's normalised units.
  const at::Tensor rest_samples = normalise(at::tensor(std::vector<float>(rest.begin(), rest.end())).to(o));
  at::Tensor weight = at::ones({kMotionChannels}, o);
  at::Tensor mouth = at::zeros({kMotionChannels}, o);
  for (int c : {kOpen, kWidth, kRound, kPress}) mouth[c] = 1;
  // Per frame and channel: 1 keeps the sample, 0 takes the rest pose (mouth channels only).
  weight = 1 - mouth.view({1, kMotionChannels}) * (1 - activity.to(o).view({-1, 1}));
  return rest_samples + (samples - rest_samples) * weight;
}

at::Tensor MotionWarpModel::finish_samples(const at::Tensor& samples, const FrameContext& frames) const {
  at::Tensor out = frames.activity.defined() ? rest_in_pauses(samples, frames.activity) : samples;
  if (config_.motion.blinks_per_minute <= 0) return out;
  const std::vector<float> closure =
      blink_closure(frames.seed, frames.fps, frames.first, samples.size(0), config_.motion.blinks_per_minute);
  at::Tensor motion = denormalise(out.to(at::kFloat));
  at::Tensor lids = motion.select(1, kBlink);
  lids.copy_(at::maximum(lids, at::tensor(closure).to(lids.device())));
  return normalise(motion).to(samples.scalar_type());
}

at::Tensor MotionWarpModel::decode(const at::Tensor& samples, const Reference& reference) const {
  return render_motion(reference.portrait.to(samples.device()), landmarks_from_tensor(reference.landmarks),
                       denormalise(samples.to(at::kFloat)));
}

std::vector<std::pair<std::string, at::Tensor*>> MotionWarpModel::named_parameters() {
  std::vector<std::pair<std::string, at::Tensor*>> out;
  for (auto& [n, t] : audio_encoder.named_parameters()) out.emplace_back("audio_encoder." + n, t);
  for (auto& [n, t] : denoiser.named_parameters()) out.emplace_back("denoiser." + n, t);
  return out;
}

}  // namespace thg::model
