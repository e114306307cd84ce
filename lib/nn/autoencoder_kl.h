#pragma once
// AutoencoderKL with diffusers' structure and names: encoder -> diagonal Gaussian -> latents
// (times scaling_factor) -> decoder.
#include <vector>

#include "nn/blocks.h"
#include "nn/unet_2d_condition.h"

namespace thg::nn {

struct AutoencoderConfig {
  int64_t in_channels = 3;
  int64_t out_channels = 3;
  int64_t latent_channels = 4;
  std::vector<int64_t> block_out_channels{128, 256, 512, 512};
  int64_t layers_per_block = 2;
  int64_t norm_num_groups = 32;
  double scaling_factor = 0.18215;
  void validate() const;
  int64_t downscale() const { return int64_t{1} << (block_out_channels.size() - 1); }
};

class VaeMidBlock : public Module {
 public:
  VaeMidBlock(int64_t channels, int64_t groups);
  at::Tensor forward(const at::Tensor& x) const;
  ModuleList<ResnetBlock2D> resnets;
  ModuleList<Attention> attentions;
};

class VaeEncoder : public Module {
 public:
  explicit VaeEncoder(const AutoencoderConfig& c);
  at::Tensor forward(const at::Tensor& x) const;  // -> [B, 2 * latent, h, w] (mean, logvar)
  Conv2d conv_in;
  ModuleList<UNetBlock> down_blocks;
  VaeMidBlock mid_block;
  GroupNorm conv_norm_out;
  Conv2d conv_out;
};

class VaeDecoder : public Module {
 public:
  explicit VaeDecoder(const AutoencoderConfig& c);
  at::Tensor forward(const at::Tensor& z) const;
  Conv2d conv_in;
  VaeMidBlock mid_block;
  ModuleList<UNetBlock> up_blocks;
  GroupNorm conv_norm_out;
  Conv2d conv_out;
};

class AutoencoderKL : public Module {
 public:
  explicit AutoencoderKL(const AutoencoderConfig& config);
  // images in [-1, 1] -> posterior moments [B, 2 * latent, h, w] (unscaled)
  at::Tensor encode_moments(const at::Tensor& images) const;
  // images in [-1, 1] -> scaled latents: the posterior mean, or a sample when a generator is given
  at::Tensor encode(const at::Tensor& images, at::Generator* sample_with = nullptr) const;
  // scaled latents -> images in [-1, 1] (not clamped)
  at::Tensor decode(const at::Tensor& latents) const;

  AutoencoderConfig config;
  VaeEncoder encoder;
  VaeDecoder decoder;
  Conv2d quant_conv, post_quant_conv;
};

}  // namespace thg::nn
