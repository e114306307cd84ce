#include "train/checkpoint.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "core/error.h"
#include "io/safetensors.h"

namespace thg::train {

void save_checkpoint(const std::filesystem::path& path, model::ModelFamily& model, const CheckpointState& s) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (auto& [name, t] : model.named_parameters()) tensors.emplace_back("model." + name, t->detach().to(at::kCPU));
  for (const auto& [name, t] : s.optimizer) tensors.emplace_back("adam." + name, t.to(at::kCPU));
  for (const auto& [name, t] : s.ema) tensors.emplace_back(name, t.to(at::kCPU));
  for (const auto& [name, t] : s.objective) tensors.emplace_back("objective." + name, t.detach().to(at::kCPU));
  io::write_safetensors(path, tensors,
                        {{"thg.checkpoint.stage", s.stage},
                         {"thg.checkpoint.step", std::to_string(s.step)},
                         {"thg.config", model::to_yaml(model.config())}});
}

CheckpointState load_checkpoint(const std::filesystem::path& path, model::ModelFamily& model) {
  io::SafetensorsFile file = io::SafetensorsFile::open(path);
  CheckpointState s;
  auto meta = [&](const char* key) {
    auto it = file.metadata().find(key);
    if (it == file.metadata().end()) throw Error::input(path.string(), std::string("not a THG checkpoint (no ") + key + ")");
    return it->second;
  };
  s.stage = meta("thg.checkpoint.stage");
  s.step = std::stoll(meta("thg.checkpoint.step"));
  at::NoGradGuard no_grad;
  for (auto& [name, t] : model.named_parameters()) {
    const io::TensorEntry* e = file.find("model." + name);
    if (!e) throw Error::input(path.string(), "checkpoint lacks model." + name + " (different model config?)");
    at::Tensor v = file.load(*e);
    if (!v.sizes().equals(t->sizes()))
      throw Error::input(path.string(), "checkpoint's model." + name + " has another shape (different model config?)");
    t->copy_(v);
  }
  for (const io::TensorEntry& e : file.tensors()) {
    if (e.name.rfind("adam.", 0) == 0) s.optimizer.emplace_back(e.name.substr(5), file.load(e));
    if (e.name.rfind("ema.", 0) == 0) s.ema.emplace_back(e.name, file.load(e));
    if (e.name.rfind("objective.", 0) == 0) s.objective.emplace_back(e.name.substr(10), file.load(e));
  }
  return s;
}

}  // namespace thg::train
