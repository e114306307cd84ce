#include "model/config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"

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
      const std::string key = kv.first.as<std::string>();
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

void read_vae(Section s, nn::AutoencoderConfig& c) {
  s.get("in_channels", c.in_channels);
  s.get("out_channels", c.out_channels);
  s.get("latent_channels", c.latent_channels);
  s.get("block_out_channels", c.block_out_channels);
  s.get("layers_per_block", c.layers_per_block);
  s.get("norm_num_groups", c.norm_num_groups);
  s.get("scaling_factor", c.scaling_factor);
  s.finish();
}

void read_unet(Section s, nn::UNetConfig& c) {
  s.get("in_channels", c.in_channels);
  s.get("out_channels", c.out_channels);
  s.get("block_out_channels", c.block_out_channels);
  s.get("down_block_types", c.down_block_types);
  s.get("up_block_types", c.up_block_types);
  s.get("layers_per_block", c.layers_per_block);
  s.get("norm_num_groups", c.norm_num_groups);
  s.get("norm_eps", c.norm_eps);
  s.get("cross_attention_dim", c.cross_attention_dim);
  s.get("attention_head_dim", c.attention_head_dim);
  s.get("transformer_layers_per_block", c.transformer_layers_per_block);
  s.get("use_linear_projection", c.use_linear_projection);
  s.get("flip_sin_to_cos", c.flip_sin_to_cos);
  s.get("freq_shift", c.freq_shift);
  s.finish();
}

void read_scheduler(Section s, sched::ScheduleConfig& c) {
  s.get("num_train_timesteps", c.num_train_timesteps);
  s.get("beta_start", c.beta_start);
  s.get("beta_end", c.beta_end);
  s.get("beta_schedule", c.beta_schedule);
  s.get("prediction_type", c.prediction_type);
  s.get("timestep_spacing", c.timestep_spacing);
  s.get("steps_offset", c.steps_offset);
  s.get("set_alpha_to_one", c.set_alpha_to_one);
  s.get("clip_sample", c.clip_sample);
  s.get("clip_sample_range", c.clip_sample_range);
  s.finish();
}

void read_audio(Section s, AudioEncoderConfig& c) {
  s.get("sample_rate", c.mel.sample_rate);
  s.get("n_fft", c.mel.n_fft);
  s.get("hop_length", c.mel.hop_length);
  s.get("n_mels", c.mel.n_mels);
  s.get("f_min", c.mel.f_min);
  s.get("f_max", c.mel.f_max);
  s.get("context_frames", c.context_frames);
  s.get("dim", c.dim);
  s.get("layers", c.layers);
  s.get("heads", c.heads);
  s.finish();
}

void read_generation(Section s, GenerationDefaults& c) {
  s.get("sampler", c.sampler);
  s.get("steps", c.steps);
  s.get("chunk_frames", c.chunk_frames);
  s.get("fps", c.fps);
  s.finish();
}

template <class T>
YAML::Node seq(const std::vector<T>& v) {
  YAML::Node n(YAML::NodeType::Sequence);
  for (const auto& x : v) n.push_back(x);
  n.SetStyle(YAML::EmitterStyle::Flow);
  return n;
}

}  // namespace

void ModelConfig::validate() const {
  vae.validate();
  unet.validate();
  scheduler.validate();
  const int64_t granularity = vae.downscale() * (int64_t{1} << (unet.block_out_channels.size() - 1));
  if (image_size < 32 || image_size % granularity != 0)
    throw Error::input("", "config: image_size must be >= 32 and a multiple of " + std::to_string(granularity));
  if (unet.in_channels != 2 * vae.latent_channels || unet.out_channels != vae.latent_channels)
    throw Error::input("", "config: unet.in_channels must be 2 x vae.latent_channels (noisy + reference latent) "
                           "and unet.out_channels must equal vae.latent_channels");
  if (unet.cross_attention_dim != audio.dim)
    throw Error::input("", "config: unet.cross_attention_dim must equal audio.dim");
  if (audio.dim % audio.heads != 0 || audio.layers < 0 || audio.context_frames < 0)
    throw Error::input("", "config: audio.dim must be divisible by audio.heads; layers and context >= 0");
  if (audio.mel.sample_rate != 16000 || audio.mel.n_fft < 16 || audio.mel.hop_length < 1 || audio.mel.n_mels < 1)
    throw Error::input("", "config: audio needs sample_rate 16000 and positive n_fft / hop_length / n_mels");
  if (generation.steps < 1 || generation.chunk_frames < 1 || generation.fps < 1)
    throw Error::input("", "config: generation.steps, chunk_frames and fps must be positive");
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
  top.get("name", c.name);
  top.get("image_size", c.image_size);
  read_vae(top.sub("vae"), c.vae);
  read_unet(top.sub("unet"), c.unet);
  read_audio(top.sub("audio"), c.audio);
  read_scheduler(top.sub("scheduler"), c.scheduler);
  read_generation(top.sub("generation"), c.generation);
  top.finish();
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

std::string to_yaml(const ModelConfig& c) {
  YAML::Node root;
  root["name"] = c.name;
  root["image_size"] = c.image_size;
  YAML::Node vae;
  vae["in_channels"] = c.vae.in_channels;
  vae["out_channels"] = c.vae.out_channels;
  vae["latent_channels"] = c.vae.latent_channels;
  vae["block_out_channels"] = seq(c.vae.block_out_channels);
  vae["layers_per_block"] = c.vae.layers_per_block;
  vae["norm_num_groups"] = c.vae.norm_num_groups;
  vae["scaling_factor"] = c.vae.scaling_factor;
  root["vae"] = vae;
  YAML::Node unet;
  unet["in_channels"] = c.unet.in_channels;
  unet["out_channels"] = c.unet.out_channels;
  unet["block_out_channels"] = seq(c.unet.block_out_channels);
  unet["down_block_types"] = seq(c.unet.down_block_types);
  unet["up_block_types"] = seq(c.unet.up_block_types);
  unet["layers_per_block"] = c.unet.layers_per_block;
  unet["norm_num_groups"] = c.unet.norm_num_groups;
  unet["norm_eps"] = c.unet.norm_eps;
  unet["cross_attention_dim"] = c.unet.cross_attention_dim;
  unet["attention_head_dim"] = seq(c.unet.attention_head_dim);
  unet["transformer_layers_per_block"] = c.unet.transformer_layers_per_block;
  unet["use_linear_projection"] = c.unet.use_linear_projection;
  unet["flip_sin_to_cos"] = c.unet.flip_sin_to_cos;
  unet["freq_shift"] = c.unet.freq_shift;
  root["unet"] = unet;
  YAML::Node audio;
  audio["sample_rate"] = c.audio.mel.sample_rate;
  audio["n_fft"] = c.audio.mel.n_fft;
  audio["hop_length"] = c.audio.mel.hop_length;
  audio["n_mels"] = c.audio.mel.n_mels;
  audio["f_min"] = c.audio.mel.f_min;
  audio["f_max"] = c.audio.mel.f_max;
  audio["context_frames"] = c.audio.context_frames;
  audio["dim"] = c.audio.dim;
  audio["layers"] = c.audio.layers;
  audio["heads"] = c.audio.heads;
  root["audio"] = audio;
  YAML::Node s;
  s["num_train_timesteps"] = c.scheduler.num_train_timesteps;
  s["beta_start"] = c.scheduler.beta_start;
  s["beta_end"] = c.scheduler.beta_end;
  s["beta_schedule"] = c.scheduler.beta_schedule;
  s["prediction_type"] = c.scheduler.prediction_type;
  s["timestep_spacing"] = c.scheduler.timestep_spacing;
  s["steps_offset"] = c.scheduler.steps_offset;
  s["set_alpha_to_one"] = c.scheduler.set_alpha_to_one;
  s["clip_sample"] = c.scheduler.clip_sample;
  s["clip_sample_range"] = c.scheduler.clip_sample_range;
  root["scheduler"] = s;
  YAML::Node g;
  g["sampler"] = c.generation.sampler;
  g["steps"] = c.generation.steps;
  g["chunk_frames"] = c.generation.chunk_frames;
  g["fps"] = c.generation.fps;
  root["generation"] = g;
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

}  // namespace thg::model
