// thg info FILE: what a weights file holds.
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "io/safetensors.h"
#include "model/talking_head.h"

namespace thg::app {

namespace {
struct InfoOptions {
  std::string file;
  bool json = false;
  bool tensors = false;
};

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int run_info(const InfoOptions& o) {
  io::SafetensorsFile file = io::SafetensorsFile::open(o.file);
  // Parts: the first component of each name ("unet", "vae", ...), with parameter counts and dtypes.
  struct Part {
    int64_t params = 0;
    int64_t tensors = 0;
    std::map<std::string, int64_t> dtypes;
  };
  std::map<std::string, Part> parts;
  int64_t total = 0;
  for (const auto& t : file.tensors()) {
    const std::string part = t.name.substr(0, t.name.find('.'));
    parts[part].params += t.numel();
    parts[part].tensors += 1;
    parts[part].dtypes[io::dtype_name(t.dtype)] += 1;
    total += t.numel();
  }
  auto config = file.metadata().find("thg.config");
  if (o.json) {
    nlohmann::ordered_json j;
    j["file"] = o.file;
    j["parameters"] = total;
    j["tensor_count"] = file.tensors().size();
    for (const auto& [name, p] : parts) j["parts"][name] = {{"parameters", p.params}, {"tensors", p.tensors}, {"dtypes", p.dtypes}};
    j["metadata"] = file.metadata();
    if (o.tensors)
      for (const auto& t : file.tensors())
        j["tensors"].push_back({{"name", t.name}, {"dtype", io::dtype_name(t.dtype)}, {"shape", t.shape}});
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("%s\n  %zu tensors, %lld parameters\n", o.file.c_str(), file.tensors().size(),
              static_cast<long long>(total));
  std::printf("  parts:\n");
  for (const auto& [name, p] : parts) {
    std::string dtypes;
    for (const auto& [d, n] : p.dtypes) dtypes += (dtypes.empty() ? "" : ", ") + d;
    std::printf("    %-16s %12lld parameters  %5lld tensors  %s\n", name.c_str(), static_cast<long long>(p.params),
                static_cast<long long>(p.tensors), dtypes.c_str());
  }
  for (const auto& [k, v] : file.metadata())
    if (k != "thg.config") std::printf("  metadata %s: %s\n", k.c_str(), v.c_str());
  if (config != file.metadata().end()) std::printf("  model config:\n%s", config->second.c_str());
  if (o.tensors)
    for (const auto& t : file.tensors())
      std::printf("  %-72s %-5s %s\n", t.name.c_str(), io::dtype_name(t.dtype), shape_text(t.shape).c_str());
  return 0;
}
}  // namespace

Handler add_info_command(CLI::App& app) {
  auto o = std::make_shared<InfoOptions>();
  app.add_option("file", o->file, "A .safetensors file (THG model or any other)")->required();
  app.add_flag("--json", o->json, "Machine-readable output on stdout");
  app.add_flag("--tensors", o->tensors, "List every tensor with dtype and shape");
  app.footer("Examples:\n  thg info weights/pixel-latent.safetensors\n  thg info model.safetensors --json --tensors");
  return [o] { return run_info(*o); };
}

}  // namespace thg::app
