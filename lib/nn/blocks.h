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

// What a transformer block attends to besides its own tokens.
struct Conditioning {
  at::Tensor context;      // [B, M, cross_attention_dim]: cross-attention (attn2) tokens
  at::Tensor audio;        // [B, Ma, audio_dim]: audio tokens (THG extension), or undefined
  int64_t frames = 1;      // B = groups x frames: temporal attention mixes the frames of a group
};

// THG's extensions of the diffusers block, all optional (absent modules add no parameters, so
// diffusers checkpoints still load and compute exactly the same).
struct TransformerExtensions {
  int64_t audio_cross_attention_dim = 0;  // > 0: audio cross-attention after attn2
  bool temporal = false;                  // temporal self-attention across frames
  int64_t temporal_max_frames = 32;       // size of the learned frame position table
};

// Self-attention over the frames of a group at each spatial position (AnimateDiff-style motion
// module inside the block). Output projection zero-initialised: starts as the identity.
class TemporalAttention : public Module {
 public:
  TemporalAttention(int64_t dim, int64_t heads, int64_t dim_head, int64_t max_frames);
  at::Tensor forward(const at::Tensor& x, int64_t frames) const;  // x [B, L, C], B = G * frames
  LayerNorm norm;
  Attention attn;
  at::Tensor pos_embed;  // [max_frames, dim]

 protected:
  void init_own_parameters(at::Generator& g) override;
};

class BasicTransformerBlock : public Module {
 public:
  BasicTransformerBlock(int64_t dim, int64_t heads, int64_t dim_head, int64_t cross_attention_dim,
                        const TransformerExtensions& extensions = {});
  at::Tensor forward(const at::Tensor& x, const Conditioning& cond) const;
  LayerNorm norm1, norm2, norm3;
  Attention attn1, attn2;
  FeedForward ff;
  std::unique_ptr<LayerNorm> audio_norm;
  std::unique_ptr<Attention> audio_attn;
  std::unique_ptr<TemporalAttention> temporal;
};

struct TransformerOptions {
  int64_t heads = 8;
  int64_t dim_head = 64;
  int64_t in_channels = 320;
  int64_t layers = 1;
  int64_t cross_attention_dim = 768;
  int64_t groups = 32;
  bool use_linear_projection = false;
  TransformerExtensions extensions;
};

class Transformer2DModel : public Module {
 public:
  explicit Transformer2DModel(const TransformerOptions& options);
  at::Tensor forward(const at::Tensor& x, const Conditioning& cond) const;
  GroupNorm norm;
  std::unique_ptr<Linear> proj_in_linear, proj_out_linear;
  std::unique_ptr<Conv2d> proj_in_conv, proj_out_conv;
  ModuleList<BasicTransformerBlock> transformer_blocks;
};

}  // namespace thg::nn
