#include "nn/autoencoder_kl.h"

#include <ATen/ATen.h>

#include "core/error.h"

namespace thg::nn {

namespace {
constexpr double kVaeEps = 1e-6;
}

void AutoencoderConfig::validate() const {
  // Positivity before any division, and bounds that keep a hostile config from describing an
  // absurd allocation or overflowing a shift (found by fuzz/fuzz_model_config).
  if (block_out_channels.empty() || block_out_channels.size() > 8)
    throw Error::input("", "vae: block_out_channels needs 1 to 8 entries");
  if (norm_num_groups < 1 || norm_num_groups > 1024) throw Error::input("", "vae: norm_num_groups must be 1..1024");
  for (int64_t c : block_out_channels)
    if (c > 8192) throw Error::input("", "vae: block_out_channels above 8192 are not supported");
  if (latent_channels > 1024 || layers_per_block > 16 || in_channels > 64 || out_channels > 64)
    throw Error::input("", "vae: latent_channels <= 1024, layers_per_block <= 16, in/out channels <= 64");
  for (int64_t c : block_out_channels)
    if (c <= 0 || c % norm_num_groups != 0)
      throw Error::input("", "vae: block_out_channels must be positive multiples of norm_num_groups");
  if (latent_channels <= 0 || layers_per_block <= 0 || in_channels <= 0 || out_channels <= 0)
    throw Error::input("", "vae: channel counts and layers_per_block must be positive");
  if (!(scaling_factor > 0)) throw Error::input("", "vae: scaling_factor must be positive");
}

VaeMidBlock::VaeMidBlock(int64_t channels, int64_t groups) {
  resnets.emplace_back(channels, channels, 0, groups, kVaeEps);
  // One head over all channels, with biases, GroupNorm and residual: diffusers' VAE attention.
  attentions.emplace_back(AttentionOptions{.query_dim = channels, .heads = 1, .dim_head = channels,
                                           .qkv_bias = true, .norm_groups = groups, .norm_eps = kVaeEps});
  resnets.emplace_back(channels, channels, 0, groups, kVaeEps);
  register_module("attentions", attentions);
  register_module("resnets", resnets);
}

at::Tensor VaeMidBlock::forward(const at::Tensor& x) const {
  at::Tensor h = resnets[0].forward(x);
  h = attentions[0].forward_spatial(h);
  return resnets[1].forward(h);
}

VaeEncoder::VaeEncoder(const AutoencoderConfig& c)
    : conv_in(c.in_channels, c.block_out_channels[0], 3, 1, 1),
      mid_block(c.block_out_channels.back(), c.norm_num_groups),
      conv_norm_out(c.norm_num_groups, c.block_out_channels.back(), kVaeEps),
      conv_out(c.block_out_channels.back(), 2 * c.latent_channels, 3, 1, 1) {
  register_module("conv_in", conv_in);
  int64_t out = c.block_out_channels[0];
  for (size_t i = 0; i < c.block_out_channels.size(); ++i) {
    const int64_t in = out;
    out = c.block_out_channels[i];
    UNetBlock& block = down_blocks.emplace_back();
    for (int64_t j = 0; j < c.layers_per_block; ++j)
      block.resnets.emplace_back(j == 0 ? in : out, out, 0, c.norm_num_groups, kVaeEps);
    if (i + 1 < c.block_out_channels.size()) block.downsamplers.emplace_back(out, 0);
    block.register_children();
  }
  register_module("down_blocks", down_blocks);
  register_module("mid_block", mid_block);
  register_module("conv_norm_out", conv_norm_out);
  register_module("conv_out", conv_out);
}

at::Tensor VaeEncoder::forward(const at::Tensor& x) const {
  at::Tensor h = conv_in.forward(x);
  for (size_t i = 0; i < down_blocks.size(); ++i) {
    const UNetBlock& block = down_blocks[i];
    for (size_t j = 0; j < block.resnets.size(); ++j) h = block.resnets[j].forward(h);
    if (!block.downsamplers.empty()) h = block.downsamplers[0].forward(h);
  }
  h = mid_block.forward(h);
  return conv_out.forward(conv_norm_out.forward_silu(h));
}

VaeDecoder::VaeDecoder(const AutoencoderConfig& c)
    : conv_in(c.latent_channels, c.block_out_channels.back(), 3, 1, 1),
      mid_block(c.block_out_channels.back(), c.norm_num_groups),
      conv_norm_out(c.norm_num_groups, c.block_out_channels[0], kVaeEps),
      conv_out(c.block_out_channels[0], c.out_channels, 3, 1, 1) {
  register_module("conv_in", conv_in);
  register_module("mid_block", mid_block);
  std::vector<int64_t> reversed(c.block_out_channels.rbegin(), c.block_out_channels.rend());
  int64_t prev = reversed[0];
  for (size_t i = 0; i < reversed.size(); ++i) {
    const int64_t out = reversed[i];
    UNetBlock& block = up_blocks.emplace_back();
    for (int64_t j = 0; j <= c.layers_per_block; ++j)
      block.resnets.emplace_back(j == 0 ? prev : out, out, 0, c.norm_num_groups, kVaeEps);
    if (i + 1 < reversed.size()) block.upsamplers.emplace_back(out);
    block.register_children();
    prev = out;
  }
  register_module("up_blocks", up_blocks);
  register_module("conv_norm_out", conv_norm_out);
  register_module("conv_out", conv_out);
}

at::Tensor VaeDecoder::forward(const at::Tensor& z) const {
  at::Tensor h = conv_in.forward(z);
  h = mid_block.forward(h);
  for (size_t i = 0; i < up_blocks.size(); ++i) {
    const UNetBlock& block = up_blocks[i];
    for (size_t j = 0; j < block.resnets.size(); ++j) h = block.resnets[j].forward(h);
    if (!block.upsamplers.empty()) h = block.upsamplers[0].forward(h);
  }
  return conv_out.forward(conv_norm_out.forward_silu(h));
}

AutoencoderKL::AutoencoderKL(const AutoencoderConfig& c)
    : config((c.validate(), c)),
      encoder(c),
      decoder(c),
      quant_conv(2 * c.latent_channels, 2 * c.latent_channels, 1),
      post_quant_conv(c.latent_channels, c.latent_channels, 1) {
  register_module("encoder", encoder);
  register_module("decoder", decoder);
  register_module("quant_conv", quant_conv);
  register_module("post_quant_conv", post_quant_conv);
}

at::Tensor AutoencoderKL::encode_moments(const at::Tensor& images) const {
  return quant_conv.forward(encoder.forward(images));
}

at::Tensor AutoencoderKL::encode(const at::Tensor& images, at::Generator* sample_with) const {
  auto moments = encode_moments(images).chunk(2, 1);
  at::Tensor latents = moments[0];
  if (sample_with != nullptr) {
    at::Tensor std = at::exp(0.5 * moments[1].clamp(-30.0, 20.0));
    latents = latents + std * at::randn(latents.sizes(), *sample_with, latents.options());
  }
  return latents * config.scaling_factor;
}

at::Tensor AutoencoderKL::decode(const at::Tensor& latents) const {
  return decoder.forward(post_quant_conv.forward(latents / config.scaling_factor));
}

}  // namespace thg::nn
