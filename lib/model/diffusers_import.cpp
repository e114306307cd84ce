#include "model/diffusers_import.h"

#include <ATen/ATen.h>

#include <fstream>
#include <map>
#include <sstream>

#include "core/device.h"
#include "core/error.h"
#include "io/safetensors.h"
#include "model/config.h"
#include "model/weights.h"
#include "nn/diffusers_config.h"

namespace thg::model {

namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error::input(path.string(), "cannot open (expected a diffusers model folder with config.json)");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::filesystem::path weights_in(const std::filesystem::path& dir) {
  for (const char* name : {"diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors"})
    if (std::filesystem::exists(dir / name)) return dir / name;
  throw Error::input(dir.string(), "no diffusion_pytorch_model.safetensors in this folder");
}

// Loads `module` strictly from the folder's weights and appends its tensors under `prefix`.
void add_part(nn::Module& module, const io::SafetensorsFile& file, const std::string& prefix, c10::ScalarType dtype,
              std::vector<std::pair<std::string, at::Tensor>>& out, DiffusersImportResult& result) {
  load_parameters(module, file, "");
  for (auto& [name, t] : module.named_parameters()) {
    out.emplace_back(prefix + name, t->to(dtype));
    result.parameters += t->numel();
    ++result.tensors;
  }
}

}  // namespace

DiffusersImportResult import_diffusers(const DiffusersImport& o) {
  if (o.unet_dir.empty() && o.vae_dir.empty()) throw Error::input("", "give --unet and/or --vae model folders");
  const c10::ScalarType dtype = parse_dtype(o.dtype);
  DiffusersImportResult result;
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  std::map<std::string, std::string> metadata{{"thg.format", "thg-parts-1"}};
  if (!o.unet_dir.empty()) {
    const auto config_path = o.unet_dir / "config.json";
    nn::UNetConfig c = nn::unet_config_from_diffusers(read_text(config_path), config_path.string());
    // The weights are validated before the (possibly large) module is allocated.
    io::SafetensorsFile file = io::SafetensorsFile::open(weights_in(o.unet_dir));
    nn::UNet2DConditionModel unet(c);
    add_part(unet, file, "unet.", dtype, tensors, result);
    metadata["thg.unet_config"] = to_yaml(c);
  }
  if (!o.vae_dir.empty()) {
    const auto config_path = o.vae_dir / "config.json";
    nn::AutoencoderConfig c = nn::vae_config_from_diffusers(read_text(config_path), config_path.string());
    io::SafetensorsFile file = io::SafetensorsFile::open(weights_in(o.vae_dir));
    nn::AutoencoderKL vae(c);
    add_part(vae, file, "vae.", dtype, tensors, result);
    metadata["thg.vae_config"] = to_yaml(c);
  }
  io::write_safetensors(o.output, tensors, metadata);
  return result;
}

}  // namespace thg::model
