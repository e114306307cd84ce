#include "model/weights.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <set>
#include <sstream>

#include "core/error.h"

namespace thg::model {

namespace {
std::string shape_string(c10::IntArrayRef shape) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
  s << "]";
  return s.str();
}

void append_list(std::ostringstream& out, const char* title, const std::vector<std::string>& items) {
  if (items.empty()) return;
  out << "; " << items.size() << " " << title << ": ";
  const size_t shown = std::min<size_t>(items.size(), 5);
  for (size_t i = 0; i < shown; ++i) out << (i ? ", " : "") << items[i];
  if (items.size() > shown) out << ", ...";
}
}  // namespace

void load_parameters(nn::Module& module, const io::SafetensorsFile& file, const std::string& prefix) {
  std::vector<std::string> missing, mismatched, unexpected;
  std::set<std::string> wanted;
  auto params = module.named_parameters();
  for (auto& [name, tensor] : params) {
    const std::string key = prefix + name;
    wanted.insert(key);
    const io::TensorEntry* entry = file.find(key);
    if (entry == nullptr) {
      missing.push_back(key);
      continue;
    }
    if (c10::IntArrayRef(entry->shape) != tensor->sizes()) {
      mismatched.push_back(key + " " + shape_string(entry->shape) + " (expected " + shape_string(tensor->sizes()) +
                           ")");
      continue;
    }
    if (entry->dtype != io::StDType::F32 && entry->dtype != io::StDType::F16 && entry->dtype != io::StDType::BF16 &&
        entry->dtype != io::StDType::F64) {
      mismatched.push_back(key + " has dtype " + io::dtype_name(entry->dtype) + " (expected a float type)");
      continue;
    }
  }
  for (const auto& entry : file.tensors())
    if (entry.name.rfind(prefix, 0) == 0 && !wanted.count(entry.name)) unexpected.push_back(entry.name);
  if (!missing.empty() || !mismatched.empty() || !unexpected.empty()) {
    std::ostringstream why;
    why << "weights do not match the model";
    append_list(why, "missing", missing);
    append_list(why, "mis-shaped", mismatched);
    append_list(why, "unexpected", unexpected);
    throw Error::input(file.path(), why.str());
  }
  at::NoGradGuard no_grad;
  for (auto& [name, tensor] : params) {
    at::Tensor loaded = file.load(prefix + name);
    if (!loaded.isfinite().all().item<bool>())
      throw Error::input(file.path(), "tensor " + prefix + name + " contains NaN or infinite values");
    tensor->copy_(loaded.to(tensor->device(), tensor->scalar_type()));
  }
}

namespace {
constexpr const char* kFormatKey = "thg.format";
constexpr const char* kFormat = "thg-model-1";
constexpr const char* kConfigKey = "thg.config";
}  // namespace

ModelConfig model_file_config(const io::SafetensorsFile& file, const std::filesystem::path& path) {
  const auto format = file.metadata().find(kFormatKey);
  const auto config_text = file.metadata().find(kConfigKey);
  if (format == file.metadata().end() || config_text == file.metadata().end())
    throw Error::input(path.string(), "not a THG model file (no thg.format / thg.config metadata)");
  if (format->second != kFormat)
    throw Error::input(path.string(), "unsupported model format '" + format->second + "' (expected " + kFormat + ")");
  return parse_model_config(config_text->second, path.string() + " (embedded config)");
}

void check_model_file_parts(const io::SafetensorsFile& file, const std::filesystem::path& path,
                            const std::set<std::string>& parts) {
  for (const auto& t : file.tensors())
    if (!parts.count(t.name.substr(0, t.name.find('.'))))
      throw Error::input(path.string(), "unexpected tensor " + t.name + " (not part of this model family)");
}

void save_model_file(ModelFamily& model, const std::filesystem::path& path, c10::ScalarType dtype) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (auto& [name, t] : model.named_parameters()) tensors.emplace_back(name, t->detach().to(at::kCPU, dtype));
  io::write_safetensors(path, tensors, {{kFormatKey, kFormat}, {kConfigKey, to_yaml(model.config())}});
}

}  // namespace thg::model
