#include "model/config.h"

#include <algorithm>

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "model/family.h"
#include "model/motion.h"
#include "nn/attention.h"
#include "sched/targets.h"

namespace thg::model {

namespace {

// Reads fields of one YAML mapping, rejecting keys nobody asked for.
class Section {
 public:
  Section(const YAML::Node& node, std::string path, const std::string& source)
      : node_(node), path_(std::move(path)), source_(source) {
    if (node_ && !node_.IsMap()) fail("must be a mapping");
  }
  template <class T>
  void get(const char* key, T& value) {
    seen_.insert(key);
    if (!node_ || !node_[key]) return;
    try {
      value = node_[key].template as<T>();
    } catch (const YAML::Exception&) {
      fail(std::string(key) + " has the wrong type");
    }
  }
  Section sub(const char* key) {
    seen_.insert(key);
    return Section(node_ ? node_[key] : YAML::Node(), path_.empty() ? key : path_ + "." + key, source_);
  }
  void finish() {
    if (!node_) return;
    for (const auto& kv : node_) {
      if (!kv.first.IsScalar()) fail("keys must be plain names");
      const std::string key = kv.first.Scalar();
      if (!seen_.count(key)) fail("unknown key '" + key + "'");
    }
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw Error::input(source_, "config " + (path_.empty() ? std::string("") : path_ + ": ") + why);
  }

 private:
  YAML::Node node_;
  std::string path_;
  const std::string& source_;
  std::set<std::string> seen_;
};

template <class T>
YAML::Node seq(const std::vector<T>& v) {
  YAML::Node n(YAML::NodeType::Sequence);
  for (const auto& x : v) n.push_back(x);
  n.SetStyle(YAML::EmitterStyle::Flow);
  return n;
}

// Each section's fields are listed once; the same list drives reading and writing, so the two
// cannot drift apart.
template <class Visit>
void vae_fields(Visit& v, nn::AutoencoderConfig& c) {
  v("in_channels", c.in_channels);
  v("out_channels", c.out_channels);
  v("latent_channels", c.latent_channels);
  v("block_out_channels", c.block_out_channels);
  v("layers_per_block", c.layers_per_block);
  v("norm_num_groups", c.norm_num_groups);
  v("scaling_factor", c.scaling_factor);
}

template <class Visit>
void unet_fields(Visit& v, nn::UNetConfig& c) {
  v("in_channels", c.in_channels);
  v("out_channels", c.out_channels);
  v("block_out_channels", c.block_out_channels);
  v("down_block_types", c.down_block_types);
  v("up_block_types", c.up_block_types);
  v("layers_per_block", c.layers_per_block);
  v("norm_num_groups", c.norm_num_groups);
  v("norm_eps", c.norm_eps);
  v("cross_attention_dim", c.cross_attention_dim);
  v("attention_head_dim", c.attention_head_dim);
  v("transformer_layers_per_block", c.transformer_layers_per_block);
  v("use_linear_projection", c.use_linear_projection);
  v("flip_sin_to_cos", c.flip_sin_to_cos);
  v("freq_shift", c.freq_shift);
  v("audio_cross_attention_dim", c.audio_cross_attention_dim);
  v("temporal_attention_levels", c.temporal_attention_levels);
  v("temporal_max_frames", c.temporal_max_frames);
}

template <class Visit>
void reference_fields(Visit& v, ReferenceEncoderConfig& c) {
  v("dim", c.dim);
  v("patch_size", c.patch_size);
}

template <class Visit>
void audio_fields(Visit& v, AudioEncoderConfig& c) {
  v("sample_rate", c.mel.sample_rate);
  v("n_fft", c.mel.n_fft);
  v("hop_length", c.mel.hop_length);
  v("n_mels", c.mel.n_mels);
  v("f_min", c.mel.f_min);
  v("f_max", c.mel.f_max);
  v("context_frames", c.context_frames);
  v("dim", c.dim);
  v("layers", c.layers);
  v("heads", c.heads);
}

template <class Visit>
void scheduler_fields(Visit& v, sched::ScheduleConfig& c) {
  v("num_train_timesteps", c.num_train_timesteps);
  v("beta_start", c.beta_start);
  v("beta_end", c.beta_end);
  v("beta_schedule", c.beta_schedule);
  v("prediction_type", c.prediction_type);
  v("timestep_spacing", c.timestep_spacing);
  v("steps_offset", c.steps_offset);
  v("set_alpha_to_one", c.set_alpha_to_one);
  v("clip_sample", c.clip_sample);
  v("clip_sample_range", c.clip_sample_range);
}

template <class Visit>
void generation_fields(Visit& v, GenerationDefaults& c) {
  v("sampler", c.sampler);
  v("steps", c.steps);
  v("chunk_frames", c.chunk_frames);
  v("chunk_overlap", c.chunk_overlap);
  v("fps", c.fps);
  v("sigma_schedule", c.sigma_schedule);
  v("flow_shift", c.flow_shift);
  v("guidance_reference", c.guidance_reference);
  v("guidance_audio", c.guidance_audio);
  v("guidance_rescale", c.guidance_rescale);
  v("attention", c.attention);
  v("decode", c.decode);
}

template <class Visit>
void face_fields(Visit& v, FaceTemplateConfig& c) {
  v("eye_y", c.eye_y);
  v("eye_distance", c.eye_distance);
  v("mouth_y", c.mouth_y);
}

template <class Visit>
void motion_fields(Visit& v, MotionConfig& c) {
  v("dim", c.dim);
  v("layers", c.layers);
  v("heads", c.heads);
  v("max_frames", c.max_frames);
  v("mean", c.mean);
  v("std", c.std);
  v("pause_quiet_db", c.pause_quiet_db);
  v("blinks_per_minute", c.blinks_per_minute);
}

// Visits every section of a config: `top(key, value)` for top-level scalars and
// `section(key, fields_function, struct)` for the nested ones.
template <class Visitor>
void visit_config(Visitor& v, ModelConfig& c) {
  v("name", c.name);
  v("family", c.family);
  v("image_size", c.image_size);
  v("reference_residual", c.reference_residual);
  v.section("vae", c.vae, [](auto& w, auto& s) { vae_fields(w, s); });
  v.section("unet", c.unet, [](auto& w, auto& s) { unet_fields(w, s); });
  v.section("audio", c.audio, [](auto& w, auto& s) { audio_fields(w, s); });
  v.section("reference", c.reference, [](auto& w, auto& s) { reference_fields(w, s); });
  v.section("scheduler", c.scheduler, [](auto& w, auto& s) { scheduler_fields(w, s); });
  v.section("generation", c.generation, [](auto& w, auto& s) { generation_fields(w, s); });
  v.section("face", c.face, [](auto& w, auto& s) { face_fields(w, s); });
  v.section("motion", c.motion, [](auto& w, auto& s) { motion_fields(w, s); });
}

struct Reader {
  Section& top;
  template <class T>
  void operator()(const char* key, T& value) {
    top.get(key, value);
  }
  template <class S, class Fields>
  void section(const char* key, S& value, Fields fields) {
    Section sub = top.sub(key);
    Reader inner{sub};
    fields(inner, value);
    sub.finish();
  }
};

struct Writer {
  YAML::Node node;
  template <class T>
  void operator()(const char* key, const T& value) {
    node[key] = value;
  }
  template <class T>
  void operator()(const char* key, const std::vector<T>& value) {
    node[key] = seq(value);
  }
  template <class S, class Fields>
  void section(const char* key, S& value, Fields fields) {
    Writer inner{YAML::Node(YAML::NodeType::Map)};
    fields(inner, value);
    node[key] = inner.node;
  }
};

}  // namespace

void ModelConfig::validate() const {
  if (const auto known = model_families(); std::find(known.begin(), known.end(), family) == known.end()) {
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw Error::input("", "config: unknown model family '" + family + "' (known: " + list + ")");
  }
  // A model whose training target its own sampler cannot invert would train, then sample wrongly.
  scheduler.validate();
  sched::check_sampler_inverts(scheduler, generation.sampler);
  if (!(face.eye_y > 0 && face.eye_y < face.mouth_y && face.mouth_y < 1 && face.eye_distance > 0 && face.eye_distance < 1))
    throw Error::input("", "config face: needs 0 < eye_y < mouth_y < 1 and 0 < eye_distance < 1");
  scheduler.validate();
  if (family == "motion-warp") return validate_motion();
  vae.validate();
  unet.validate();
  if (audio.heads < 1 || audio.dim < 1 || audio.dim > 8192 || audio.layers > 64 || audio.context_frames > 64 ||
      audio.mel.n_mels > 512 || audio.mel.n_fft > 8192 || reference.dim < 1 || reference.dim > 8192 ||
      reference.patch_size > 64 || image_size > 4096)
    throw Error::input("", "config: audio heads/dim/layers/context, reference dim/patch or image_size out of range");
  const int64_t granularity = size_granularity();
  if (image_size < 32 || image_size % granularity != 0)
    throw Error::input("", "config: image_size must be >= 32 and a multiple of " + std::to_string(granularity));
  if (unet.in_channels != 2 * vae.latent_channels || unet.out_channels != vae.latent_channels)
    throw Error::input("", "config: unet.in_channels must be 2 x vae.latent_channels (noisy + reference latent) "
                           "and unet.out_channels must equal vae.latent_channels");
  if (unet.audio_cross_attention_dim != audio.dim)
    throw Error::input("", "config: unet.audio_cross_attention_dim must equal audio.dim");
  if (unet.cross_attention_dim != reference.dim)
    throw Error::input("", "config: unet.cross_attention_dim must equal reference.dim (reference tokens)");
  if (reference.dim % 4 != 0 || reference.patch_size < 1 || latent_size(image_size) % reference.patch_size != 0)
    throw Error::input("", "config: reference.dim must be divisible by 4 and the latent size by reference.patch_size");
  if (audio.dim % audio.heads != 0 || audio.layers < 0 || audio.context_frames < 0)
    throw Error::input("", "config: audio.dim must be divisible by audio.heads; layers and context >= 0");
  if (audio.mel.sample_rate != 16000 || audio.mel.n_fft < 16 || audio.mel.hop_length < 1 || audio.mel.n_mels < 1)
    throw Error::input("", "config: audio needs sample_rate 16000 and positive n_fft / hop_length / n_mels");
  nn::parse_attention_backend(generation.attention);  // throws listing the valid names
  if (generation.sigma_schedule != "default" && generation.sigma_schedule != "karras")
    throw Error::input("", "config: generation.sigma_schedule must be default or karras");
  if (generation.steps < 1 || generation.chunk_frames < 1 || generation.fps < 1)
    throw Error::input("", "config: generation.steps, chunk_frames and fps must be positive");
  if (generation.decode != "direct" && generation.decode != "reference_delta")
    throw Error::input("", "config: generation.decode must be direct or reference_delta");
  if (reference_residual && scheduler.prediction_type != "sample")
    throw Error::input("", "config: reference_residual needs scheduler.prediction_type: sample (the UNet predicts the "
                           "clean latent's change from the reference)");
  // An overlap of a whole chunk or more is clamped to chunk_frames - 1 when generating.
  if (generation.chunk_overlap < 0) throw Error::input("", "config: generation.chunk_overlap must be >= 0");
}

void ModelConfig::validate_motion() const {
  const int64_t channels = kMotionChannels;
  if (motion.dim < 8 || motion.dim > 4096 || motion.heads < 1 || motion.dim % motion.heads != 0 || motion.layers < 1 ||
      motion.layers > 64 || motion.max_frames < 1 || motion.max_frames > 4096)
    throw Error::input("", "config motion: dim 8..4096 divisible by heads, layers 1..64, max_frames 1..4096");
  if ((!motion.mean.empty() && static_cast<int64_t>(motion.mean.size()) != channels) ||
      motion.std.size() != motion.mean.size())
    throw Error::input("", "config motion: mean and std need one value per motion channel (" + std::to_string(channels) + ")");
  for (double s : motion.std)
    if (!(s > 0)) throw Error::input("", "config motion: every std must be positive");
  if (!(motion.pause_quiet_db >= 0 && motion.pause_quiet_db <= 120))
    throw Error::input("", "config motion: pause_quiet_db must be 0..120 (0: off)");
  if (!(motion.blinks_per_minute >= 0 && motion.blinks_per_minute <= 120))
    throw Error::input("", "config motion: blinks_per_minute must be 0..120 (0: off)");
  if (audio.heads < 1 || audio.dim < 1 || audio.dim > 8192 || audio.dim % audio.heads != 0 || audio.layers < 0 ||
      audio.layers > 64 || audio.context_frames < 0 || audio.context_frames > 64 || audio.mel.sample_rate != 16000 ||
      audio.mel.n_fft < 16 || audio.mel.n_fft > 8192 || audio.mel.hop_length < 1 || audio.mel.n_mels < 1 ||
      audio.mel.n_mels > 512)
    throw Error::input("", "config audio: heads/dim/layers/context out of range, or not 16 kHz");
  if (image_size < 32 || image_size > 4096 || image_size % 2 != 0)
    throw Error::input("", "config: image_size must be even, 32..4096");
  nn::parse_attention_backend(generation.attention);
  if (generation.sigma_schedule != "default" && generation.sigma_schedule != "karras")
    throw Error::input("", "config: generation.sigma_schedule must be default or karras");
  if (generation.steps < 1 || generation.chunk_frames < 1 || generation.fps < 1 || generation.chunk_overlap < 0)
    throw Error::input("", "config: generation.steps, chunk_frames and fps must be positive, chunk_overlap >= 0");
  if (generation.chunk_frames > motion.max_frames)
    throw Error::input("", "config: generation.chunk_frames must be at most motion.max_frames");
  if (generation.decode != "direct") throw Error::input("", "config: a motion-warp model decodes direct");
}

ModelConfig parse_model_config(const std::string& yaml, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw Error::input(source, "not valid YAML (line " + std::to_string(e.mark.line + 1) + ": " + e.msg + ")");
  }
  ModelConfig c;
  Section top(root, "", source);
  if (!root || !root.IsMap()) top.fail("the document must be a mapping");
  // Any yaml-cpp exception past parsing (odd node kinds the checks above did not foresee) is the
  // document's fault: report it, never let it escape (found by fuzz/fuzz_model_config).
  try {
    Reader reader{top};
    visit_config(reader, c);
    top.finish();
  } catch (const YAML::Exception& e) {
    throw Error::input(source, "invalid config (line " + std::to_string(e.mark.line + 1) + ": " + e.msg + ")");
  }
  try {
    c.validate();
  } catch (const Error& e) {
    throw Error::input(source, e.reason());
  }
  return c;
}

ModelConfig load_model_config(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error::input(path.string(), "cannot open the config file");
  std::stringstream text;
  text << in.rdbuf();
  return parse_model_config(text.str(), path.string());
}

namespace {
// Writes `config` (copied: the visitors take mutable references, as they also serve the reader)
// through `fields`.
template <class Config, class Fields>
std::string emit_yaml(Config config, Fields fields) {
  Writer writer{YAML::Node(YAML::NodeType::Map)};
  fields(writer, config);
  YAML::Emitter out;
  out << writer.node;
  return std::string(out.c_str()) + "\n";
}
}  // namespace

std::string to_yaml(const ModelConfig& config) {
  return emit_yaml(config, [](auto& w, auto& c) { visit_config(w, c); });
}

std::string to_yaml(const nn::UNetConfig& config) {
  return emit_yaml(config, [](auto& w, auto& c) { unet_fields(w, c); });
}

std::string to_yaml(const nn::AutoencoderConfig& config) {
  return emit_yaml(config, [](auto& w, auto& c) { vae_fields(w, c); });
}

}  // namespace thg::model
