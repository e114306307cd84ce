#pragma once
// The diffusers building blocks: timestep embedding, ResnetBlock2D, Down/Upsample2D, FeedForward
// (GEGLU), BasicTransformerBlock and Transformer2DModel, with diffusers' parameter names.
#include "nn/attention.h"

namespace thg::nn {

// Sinusoidal timestep features (diffusers `Timesteps`): t [B] -> [B, channels].
at::Tensor timestep_features(const at::Tensor& t, int64_t channels, bool flip_sin_to_cos, double freq_shift);

class TimestepEmbedding : public Module {
 public:
  TimestepEmbedding(int64_t in, int64_t dim);
  at::Tensor forward(const at::Tensor& x) const;  // linear_2(silu(linear_1(x)))
  Linear linear_1, linear_2;
};

class ResnetBlock2D : public Module {
 public:
  // temb_channels 0: no time embedding (autoencoder).
  ResnetBlock2D(int64_t in, int64_t out, int64_t temb_channels, int64_t groups, double eps);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& temb = {}) const;
  GroupNorm norm1, norm2;
  Conv2d conv1, conv2;
  std::unique_ptr<Linear> time_emb_proj;
  std::unique_ptr<Conv2d> conv_shortcut;
};

class Downsample2D : public Module {
 public:
  // padding 1: UNet style; padding 0: autoencoder style (pad right/bottom by one, then conv).
  Downsample2D(int64_t channels, int64_t padding);
  at::Tensor forward(const at::Tensor& x) const;
  Conv2d conv;
  int64_t pad;
};

class Upsample2D : public Module {
 public:
  explicit Upsample2D(int64_t channels);
  at::Tensor forward(const at::Tensor& x) const;  // nearest 2x, then 3x3 conv
  Conv2d conv;
};

class GEGLU : public Module {
 public:
  GEGLU(int64_t in, int64_t out);
  at::Tensor forward(const at::Tensor& x) const;
  Linear proj;
};

class FeedForward : public Module {
 public:
  explicit FeedForward(int64_t dim, int64_t mult = 4);
  at::Tensor forward(const at::Tensor& x) const;
  GEGLU geglu;   // "net.0"
  Linear out;    // "net.2"
};

class BasicTransformerBlock : public Module {
 public:
  BasicTransformerBlock(int64_t dim, int64_t heads, int64_t dim_head, int64_t cross_attention_dim);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context) const;
  LayerNorm norm1, norm2, norm3;
  Attention attn1, attn2;
  FeedForward ff;
};

class Transformer2DModel : public Module {
 public:
  Transformer2DModel(int64_t heads, int64_t dim_head, int64_t in_channels, int64_t layers,
                     int64_t cross_attention_dim, int64_t groups, bool use_linear_projection);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context) const;
  GroupNorm norm;
  std::unique_ptr<Linear> proj_in_linear, proj_out_linear;
  std::unique_ptr<Conv2d> proj_in_conv, proj_out_conv;
  ModuleList<BasicTransformerBlock> transformer_blocks;
};

}  // namespace thg::nn
