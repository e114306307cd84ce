// thg convert: diffusers model folders -> one THG parts file.
#include <cstdio>

#include "commands.h"
#include "model/diffusers_import.h"

namespace thg::app {

Handler add_convert_command(CLI::App& app) {
  auto o = std::make_shared<model::DiffusersImport>();
  app.add_option("--unet", o->unet_dir, "diffusers UNet2DConditionModel folder (config.json + safetensors)");
  app.add_option("--vae", o->vae_dir, "diffusers AutoencoderKL folder (config.json + safetensors)");
  app.add_option("-o,--output", o->output, "Output .safetensors")->required();
  app.add_option("--dtype", o->dtype, "Stored dtype: float32, float16 or bfloat16")->default_val("float16");
  app.footer("Examples:\n  thg convert --unet sd15/unet --vae sd15/vae --output sd15-parts.safetensors\n"
             "Unsupported diffusers options are refused by name; every tensor is checked.");
  return [o] {
    auto r = model::import_diffusers(*o);
    std::fprintf(stderr, "thg: wrote %s (%lld tensors, %lld parameters)\n", o->output.c_str(),
                 static_cast<long long>(r.tensors), static_cast<long long>(r.parameters));
    return 0;
  };
}

}  // namespace thg::app
