#include "nn/unet_2d_condition.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "core/error.h"

namespace thg::nn {

namespace {
int64_t heads_for(const UNetConfig& c, size_t block) {
  return c.attention_head_dim.size() == 1 ? c.attention_head_dim[0] : c.attention_head_dim[block];
}
bool is_cross(const std::string& type) { return type.rfind("CrossAttn", 0) == 0; }
}  // namespace

void UNetConfig::validate() const {
  // Positivity before any division and bounds against absurd sizes (found by fuzzing).
  const size_t n = block_out_channels.size();
  if (n == 0 || n > 8) throw Error::input("", "unet: block_out_channels needs 1 to 8 entries");
  if (norm_num_groups < 1 || norm_num_groups > 1024) throw Error::input("", "unet: norm_num_groups must be 1..1024");
  for (int64_t h : attention_head_dim)
    if (h < 1 || h > 1024) throw Error::input("", "unet: attention_head_dim entries must be 1..1024");
  for (int64_t c : block_out_channels)
    if (c > 8192) throw Error::input("", "unet: block_out_channels above 8192 are not supported");
  if (layers_per_block > 16 || transformer_layers_per_block < 1 || transformer_layers_per_block > 16 ||
      in_channels > 1024 || out_channels > 1024 || cross_attention_dim > 8192 || audio_cross_attention_dim > 8192 ||
      temporal_max_frames > 4096)
    throw Error::input("", "unet: a size is out of the supported range");
  if (down_block_types.size() != n || up_block_types.size() != n)
    throw Error::input("", "unet: down_block_types and up_block_types need one entry per block_out_channels");
  if (attention_head_dim.size() != 1 && attention_head_dim.size() != n)
    throw Error::input("", "unet: attention_head_dim needs 1 or " + std::to_string(n) + " entries");
  for (const auto& t : down_block_types)
    if (t != "CrossAttnDownBlock2D" && t != "DownBlock2D") throw Error::input("", "unet: unknown down block type " + t);
  for (const auto& t : up_block_types)
    if (t != "CrossAttnUpBlock2D" && t != "UpBlock2D") throw Error::input("", "unet: unknown up block type " + t);
  for (size_t i = 0; i < n; ++i) {
    if (block_out_channels[i] <= 0 || block_out_channels[i] % norm_num_groups != 0)
      throw Error::input("", "unet: block_out_channels must be positive multiples of norm_num_groups");
    if (block_out_channels[i] % heads_for(*this, i) != 0)
      throw Error::input("", "unet: block_out_channels must be divisible by the number of heads");
  }
  if (in_channels <= 0 || out_channels <= 0 || layers_per_block <= 0 || cross_attention_dim <= 0)
    throw Error::input("", "unet: channel counts and layers_per_block must be positive");
  for (int64_t level : temporal_attention_levels)
    if (level < 0 || level >= static_cast<int64_t>(n))
      throw Error::input("", "unet: temporal_attention_levels entries must be between 0 and " + std::to_string(n - 1));
  if (audio_cross_attention_dim < 0 || temporal_max_frames < 1)
    throw Error::input("", "unet: audio_cross_attention_dim must be >= 0 and temporal_max_frames >= 1");
}

void UNetBlock::register_children() {
  if (!resnets.empty()) register_module("resnets", resnets);
  if (!attentions.empty()) register_module("attentions", attentions);
  if (!downsamplers.empty()) register_module("downsamplers", downsamplers);
  if (!upsamplers.empty()) register_module("upsamplers", upsamplers);
}

UNet2DConditionModel::UNet2DConditionModel(const UNetConfig& c)
    : config((c.validate(), c)),
      conv_in(c.in_channels, c.block_out_channels[0], 3, 1, 1),
      time_embedding(c.block_out_channels[0], c.block_out_channels[0] * 4),
      conv_norm_out(c.norm_num_groups, c.block_out_channels[0], c.norm_eps),
      conv_out(c.block_out_channels[0], c.out_channels, 3, 1, 1) {
  const int64_t temb = c.block_out_channels[0] * 4;
  const size_t n = c.block_out_channels.size();
  const int64_t groups = c.norm_num_groups;
  auto transformer = [&](size_t level, int64_t channels) {
    TransformerOptions o;
    o.heads = heads_for(c, level);
    o.dim_head = channels / o.heads;
    o.in_channels = channels;
    o.layers = c.transformer_layers_per_block;
    o.cross_attention_dim = c.cross_attention_dim;
    o.groups = groups;
    o.use_linear_projection = c.use_linear_projection;
    o.extensions.audio_cross_attention_dim = c.audio_cross_attention_dim;
    o.extensions.temporal = std::find(c.temporal_attention_levels.begin(), c.temporal_attention_levels.end(),
                                      static_cast<int64_t>(level)) != c.temporal_attention_levels.end();
    o.extensions.temporal_max_frames = c.temporal_max_frames;
    return o;
  };

  register_module("conv_in", conv_in);
  register_module("time_embedding", time_embedding);

  int64_t out = c.block_out_channels[0];
  for (size_t i = 0; i < n; ++i) {
    const int64_t in = out;
    out = c.block_out_channels[i];
    UNetBlock& block = down_blocks.emplace_back();
    for (int64_t j = 0; j < c.layers_per_block; ++j) {
      block.resnets.emplace_back(j == 0 ? in : out, out, temb, groups, c.norm_eps);
      if (is_cross(c.down_block_types[i])) block.attentions.emplace_back(transformer(i, out));
    }
    if (i + 1 < n) block.downsamplers.emplace_back(out, 1);
    block.register_children();
  }
  register_module("down_blocks", down_blocks);

  const int64_t last = c.block_out_channels.back();
  mid_block.resnets.emplace_back(last, last, temb, groups, c.norm_eps);
  mid_block.attentions.emplace_back(transformer(n - 1, last));
  mid_block.resnets.emplace_back(last, last, temb, groups, c.norm_eps);
  mid_block.register_children();
  register_module("mid_block", mid_block);

  std::vector<int64_t> reversed(c.block_out_channels.rbegin(), c.block_out_channels.rend());
  int64_t prev_out = reversed[0];
  for (size_t i = 0; i < n; ++i) {
    const int64_t block_out = reversed[i];
    const int64_t block_in = reversed[std::min(i + 1, n - 1)];
    const size_t level = n - 1 - i;
    UNetBlock& block = up_blocks.emplace_back();
    for (int64_t j = 0; j <= c.layers_per_block; ++j) {
      const int64_t skip = j == c.layers_per_block ? block_in : block_out;
      const int64_t res_in = j == 0 ? prev_out : block_out;
      block.resnets.emplace_back(res_in + skip, block_out, temb, groups, c.norm_eps);
      if (is_cross(c.up_block_types[i]))
        block.attentions.emplace_back(transformer(level, block_out));
    }
    if (i + 1 < n) block.upsamplers.emplace_back(block_out);
    block.register_children();
    prev_out = block_out;
  }
  register_module("up_blocks", up_blocks);
  register_module("conv_norm_out", conv_norm_out);
  register_module("conv_out", conv_out);
}

at::Tensor UNet2DConditionModel::forward(const at::Tensor& sample, const at::Tensor& timesteps,
                                         const at::Tensor& context) const {
  return forward(sample, timesteps, Conditioning{context, {}, 1});
}

at::Tensor UNet2DConditionModel::forward(const at::Tensor& sample, const at::Tensor& timesteps,
                                         const Conditioning& context) const {
  at::Tensor t = timesteps.dim() == 0 ? timesteps.expand({sample.size(0)}) : timesteps;
  at::Tensor temb = timestep_features(t, config.block_out_channels[0], config.flip_sin_to_cos, config.freq_shift);
  temb = time_embedding.forward(temb.to(sample.scalar_type()));

  at::Tensor h = conv_in.forward(sample);
  std::vector<at::Tensor> skips{h};
  for (size_t i = 0; i < down_blocks.size(); ++i) {
    const UNetBlock& block = down_blocks[i];
    for (size_t j = 0; j < block.resnets.size(); ++j) {
      h = block.resnets[j].forward(h, temb);
      if (!block.attentions.empty()) h = block.attentions[j].forward(h, context);
      skips.push_back(h);
    }
    if (!block.downsamplers.empty()) {
      h = block.downsamplers[0].forward(h);
      skips.push_back(h);
    }
  }

  h = mid_block.resnets[0].forward(h, temb);
  h = mid_block.attentions[0].forward(h, context);
  h = mid_block.resnets[1].forward(h, temb);

  for (size_t i = 0; i < up_blocks.size(); ++i) {
    const UNetBlock& block = up_blocks[i];
    for (size_t j = 0; j < block.resnets.size(); ++j) {
      h = at::cat({h, skips.back()}, 1);
      skips.pop_back();
      h = block.resnets[j].forward(h, temb);
      if (!block.attentions.empty()) h = block.attentions[j].forward(h, context);
    }
    if (!block.upsamplers.empty()) h = block.upsamplers[0].forward(h);
  }
  return conv_out.forward(conv_norm_out.forward_silu(h));
}

}  // namespace thg::nn
