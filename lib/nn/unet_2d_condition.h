#pragma once
// UNet2DConditionModel with diffusers' structure and parameter names (down blocks with
// cross-attention, mid block, up blocks with skip connections).
#include <string>
#include <vector>

#include "nn/blocks.h"

namespace thg::nn {

// Field names are diffusers' config.json names.
struct UNetConfig {
  int64_t in_channels = 4;
  int64_t out_channels = 4;
  std::vector<int64_t> block_out_channels{320, 640, 1280, 1280};
  std::vector<std::string> down_block_types{"CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                            "DownBlock2D"};
  std::vector<std::string> up_block_types{"UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                                          "CrossAttnUpBlock2D"};
  int64_t layers_per_block = 2;
  int64_t norm_num_groups = 32;
  double norm_eps = 1e-5;
  int64_t cross_attention_dim = 768;
  // diffusers' legacy naming: for SD-style configs this is the number of heads per block.
  std::vector<int64_t> attention_head_dim{8};
  int64_t transformer_layers_per_block = 1;
  bool use_linear_projection = false;
  bool flip_sin_to_cos = true;
  double freq_shift = 0;
  // THG extensions (not diffusers fields; defaults leave a plain diffusers UNet).
  int64_t audio_cross_attention_dim = 0;        // > 0: audio cross-attention in every transformer block
  std::vector<int64_t> temporal_attention_levels;  // levels (0 = full resolution) with temporal attention
  int64_t temporal_max_frames = 32;

  void validate() const;  // throws Error::input describing the inconsistency
};

class UNetBlock : public Module {
 public:
  ModuleList<ResnetBlock2D> resnets;
  ModuleList<Transformer2DModel> attentions;
  ModuleList<Downsample2D> downsamplers;
  ModuleList<Upsample2D> upsamplers;
  void register_children();
};

class UNet2DConditionModel : public Module {
 public:
  explicit UNet2DConditionModel(const UNetConfig& config);
  // sample [B, in, H, W], timesteps [B] (float), context [B, M, cross_attention_dim] -> [B, out, H, W]
  at::Tensor forward(const at::Tensor& sample, const at::Tensor& timesteps, const at::Tensor& context) const;
  // With THG's extra conditioning (audio tokens, frames per group for temporal attention).
  at::Tensor forward(const at::Tensor& sample, const at::Tensor& timesteps, const Conditioning& cond) const;

  UNetConfig config;
  Conv2d conv_in;
  TimestepEmbedding time_embedding;
  ModuleList<UNetBlock> down_blocks;
  UNetBlock mid_block;
  ModuleList<UNetBlock> up_blocks;
  GroupNorm conv_norm_out;
  Conv2d conv_out;
};

}  // namespace thg::nn
