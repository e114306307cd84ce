#include "train/recipe.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"

namespace thg::train {

namespace {

template <class T>
void read(const YAML::Node& node, const char* key, T& out, const std::string& where) {
  if (!node[key]) return;
  try {
    out = node[key].as<T>();
  } catch (const YAML::Exception&) {
    throw Error::input(where, std::string("bad value for '") + key + "'");
  }
}

StageOptions read_stage(const YAML::Node& n, StageOptions s, const std::string& where) {
  if (!n) return s;
  if (!n.IsMap()) throw Error::input(where, "a stage must be a mapping");
  static const std::set<std::string> known = {"steps", "batch", "frames", "lr", "warmup", "weight_decay",
                                              "mouth_weight", "kl_weight", "crop", "drop_all", "drop_audio", "ema_decay",
                                              "mouth_probe"};
  for (const auto& kv : n)
    if (!known.count(kv.first.as<std::string>()))
      throw Error::input(where, "unknown field '" + kv.first.as<std::string>() + "'");
  read(n, "steps", s.steps, where);
  read(n, "batch", s.batch, where);
  read(n, "frames", s.frames, where);
  read(n, "lr", s.lr, where);
  read(n, "warmup", s.warmup, where);
  read(n, "weight_decay", s.weight_decay, where);
  read(n, "mouth_weight", s.mouth_weight, where);
  read(n, "kl_weight", s.kl_weight, where);
  read(n, "crop", s.crop, where);
  read(n, "drop_all", s.drop_all, where);
  read(n, "drop_audio", s.drop_audio, where);
  read(n, "ema_decay", s.ema_decay, where);
  read(n, "mouth_probe", s.mouth_probe, where);
  if (s.steps < 0 || s.batch < 1 || s.frames < 1 || s.lr <= 0 || s.warmup < 0 || s.drop_all < 0 ||
      s.drop_all + s.drop_audio > 1 || s.ema_decay < 0 || s.ema_decay >= 1 || s.crop < 0 ||
      s.mouth_probe < 0)
    throw Error::input(where, "a value is out of range (steps >= 0, batch/frames >= 1, lr > 0, 0 <= drops, ema < 1, mouth_probe >= 0)");
  return s;
}

}  // namespace

namespace {

Recipe parse_recipe(const std::filesystem::path& path) {
  const std::string where = path.string();
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::BadFile&) {
    throw Error::input(where, "cannot read the recipe");
  } catch (const YAML::Exception& e) {
    throw Error::input(where, std::string("not valid YAML: ") + e.what());
  }
  if (!root.IsMap() || !root["model"]) throw Error::input(where, "a recipe needs 'model:' (a model config path)");
  Recipe r;
  r.source = path;
  const std::filesystem::path model_path = path.parent_path() / root["model"].as<std::string>();
  // Only a regular file of sane size: a FIFO or device (e.g. /dev/stdin) would block the read.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(model_path, ec) || std::filesystem::file_size(model_path, ec) > (1 << 20))
    throw Error::input(model_path.string(), "the model config named by the recipe is not a regular file under 1 MB");
  std::ifstream in(model_path);
  if (!in) throw Error::input(model_path.string(), "cannot read the model config named by the recipe");
  std::stringstream text;
  text << in.rdbuf();
  r.model_config_text = text.str();
  r.model = model::parse_model_config(r.model_config_text, model_path.string());
  read(root, "seed", r.seed, where);
  read(root, "max_clips", r.max_clips, where);
  read(root, "checkpoint_every", r.checkpoint_every, where);
  read(root, "log_every", r.log_every, where);
  std::string init;
  read(root, "init", init, where);
  if (!init.empty()) r.init = path.parent_path() / init;
  r.vae = read_stage(root["vae"], StageOptions{1500, 8, 1, 4e-4, 100, 0.0, 4.0, 1e-6, 0, 0, 0, 0.999}, where + " (vae)");
  r.unet = read_stage(root["unet"], StageOptions{}, where + " (unet)");
  r.motion = read_stage(root["motion"], StageOptions{4000, 16, 32, 5e-4, 200, 0.01, 1.0, 0, 0, 0.05, 0.1, 0.999}, where + " (motion)");
  if (r.checkpoint_every < 1 || r.log_every < 1) throw Error::input(where, "checkpoint_every and log_every must be >= 1");
  return r;
}

}  // namespace

Recipe load_recipe(const std::filesystem::path& path) {
  try {
    return parse_recipe(path);
  } catch (const YAML::Exception& e) {  // a key or value of the wrong kind (a list where a name belongs)
    throw Error::input(path.string(), std::string("malformed recipe: ") + e.what());
  }
}

double learning_rate(const StageOptions& s, int64_t step) {
  if (step < s.warmup) return s.lr * static_cast<double>(step + 1) / static_cast<double>(s.warmup + 1);
  const double progress =
      s.steps > s.warmup ? static_cast<double>(step - s.warmup) / static_cast<double>(s.steps - s.warmup) : 1.0;
  return s.lr * (0.1 + 0.9 * 0.5 * (1.0 + std::cos(3.141592653589793 * std::min(1.0, progress))));
}

}  // namespace thg::train
