#pragma once
// Reading diffusers' config.json for UNet2DConditionModel and AutoencoderKL into THG's configs.
// Options THG does not implement are refused by name, never silently ignored: a model that would
// compute something else must not load.
#include <string>

#include "nn/autoencoder_kl.h"
#include "nn/unet_2d_condition.h"

namespace thg::nn {

// `json_text` is the content of a diffusers config.json; `source` names it in error messages.
UNetConfig unet_config_from_diffusers(const std::string& json_text, const std::string& source);
AutoencoderConfig vae_config_from_diffusers(const std::string& json_text, const std::string& source);

}  // namespace thg::nn
