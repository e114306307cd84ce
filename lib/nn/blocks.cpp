#include "nn/blocks.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

namespace thg::nn {

at::Tensor timestep_features(const at::Tensor& t, int64_t channels, bool flip_sin_to_cos, double freq_shift) {
  const int64_t half = channels / 2;
  at::Tensor exponent = at::arange(half, t.options().dtype(at::kFloat)) * (-std::log(10000.0));
  exponent = exponent / (static_cast<double>(half) - freq_shift);
  at::Tensor emb = t.to(at::kFloat).unsqueeze(1) * at::exp(exponent).unsqueeze(0);
  at::Tensor sin = at::sin(emb), cos = at::cos(emb);
  emb = flip_sin_to_cos ? at::cat({cos, sin}, -1) : at::cat({sin, cos}, -1);
  if (channels % 2 == 1) emb = at::constant_pad_nd(emb, {0, 1});
  return emb;
}

TimestepEmbedding::TimestepEmbedding(int64_t in, int64_t dim) : linear_1(in, dim), linear_2(dim, dim) {
  register_module("linear_1", linear_1);
  register_module("linear_2", linear_2);
}

at::Tensor TimestepEmbedding::forward(const at::Tensor& x) const {
  return linear_2.forward(at::silu(linear_1.forward(x)));
}

ResnetBlock2D::ResnetBlock2D(int64_t in, int64_t out, int64_t temb_channels, int64_t groups, double eps)
    : norm1(groups, in, eps), norm2(groups, out, eps), conv1(in, out, 3, 1, 1), conv2(out, out, 3, 1, 1) {
  register_module("norm1", norm1);
  register_module("conv1", conv1);
  if (temb_channels > 0) {
    time_emb_proj = std::make_unique<Linear>(temb_channels, out);
    register_module("time_emb_proj", *time_emb_proj);
  }
  register_module("norm2", norm2);
  register_module("conv2", conv2);
  if (in != out) {
    conv_shortcut = std::make_unique<Conv2d>(in, out, 1);
    register_module("conv_shortcut", *conv_shortcut);
  }
}

at::Tensor ResnetBlock2D::forward(const at::Tensor& x, const at::Tensor& temb) const {
  at::Tensor h = conv1.forward(norm1.forward_silu(x));
  if (time_emb_proj && temb.defined()) h = h + time_emb_proj->forward(at::silu(temb)).unsqueeze(-1).unsqueeze(-1);
  h = conv2.forward(norm2.forward_silu(h));
  return (conv_shortcut ? conv_shortcut->forward(x) : x) + h;
}

Downsample2D::Downsample2D(int64_t channels, int64_t padding) : conv(channels, channels, 3, 2, padding), pad(padding) {
  register_module("conv", conv);
}

at::Tensor Downsample2D::forward(const at::Tensor& x) const {
  if (pad == 0) return conv.forward(at::constant_pad_nd(x, {0, 1, 0, 1}));
  return conv.forward(x);
}

Upsample2D::Upsample2D(int64_t channels) : conv(channels, channels, 3, 1, 1) { register_module("conv", conv); }

at::Tensor Upsample2D::forward(const at::Tensor& x) const {
  // Nearest upsampling in fp32 for bfloat16 inputs, as diffusers does (no bf16 kernel on older GPUs).
  const auto dtype = x.scalar_type();
  at::Tensor h = dtype == at::kBFloat16 ? x.to(at::kFloat) : x;
  h = at::upsample_nearest2d(h, {x.size(2) * 2, x.size(3) * 2});
  return conv.forward(h.to(dtype));
}

GEGLU::GEGLU(int64_t in, int64_t out) : proj(in, out * 2) { register_module("proj", proj); }

at::Tensor GEGLU::forward(const at::Tensor& x) const {
  auto parts = proj.forward(x).chunk(2, -1);
  return parts[0] * at::gelu(parts[1]);
}

FeedForward::FeedForward(int64_t dim, int64_t mult) : geglu(dim, dim * mult), out(dim * mult, dim) {
  register_module("net.0", geglu);
  register_module("net.2", out);  // net.1 is a parameterless dropout in diffusers
}

at::Tensor FeedForward::forward(const at::Tensor& x) const { return out.forward(geglu.forward(x)); }

TemporalAttention::TemporalAttention(int64_t dim, int64_t heads, int64_t dim_head, int64_t max_frames)
    : norm(dim), attn(AttentionOptions{.query_dim = dim, .heads = heads, .dim_head = dim_head, .zero_init_output = true}) {
  register_module("norm", norm);
  register_module("attn", attn);
  register_parameter("pos_embed", pos_embed, at::zeros({max_frames, dim}));
}

void TemporalAttention::init_own_parameters(at::Generator& g) {
  at::NoGradGuard no_grad;
  pos_embed.normal_(0.0, 0.02, g);
}

at::Tensor TemporalAttention::forward(const at::Tensor& x, int64_t frames) const {
  const int64_t b = x.size(0), l = x.size(1), c = x.size(2);
  TORCH_CHECK(frames >= 1 && b % frames == 0, "temporal attention: batch ", b, " is not a multiple of frames ", frames);
  TORCH_CHECK(frames <= pos_embed.size(0), "temporal attention: ", frames, " frames exceed the model's maximum of ",
              pos_embed.size(0));
  const int64_t groups = b / frames;
  // [G*F, L, C] -> [G*L, F, C]: each spatial position attends over the frames of its group.
  at::Tensor h = x.view({groups, frames, l, c}).permute({0, 2, 1, 3}).reshape({groups * l, frames, c});
  h = attn.forward(norm.forward(h + pos_embed.slice(0, 0, frames).unsqueeze(0)));
  return h.view({groups, l, frames, c}).permute({0, 2, 1, 3}).reshape({b, l, c});
}

BasicTransformerBlock::BasicTransformerBlock(int64_t dim, int64_t heads, int64_t dim_head, int64_t cross_dim,
                                             const TransformerExtensions& ext)
    : norm1(dim),
      norm2(dim),
      norm3(dim),
      attn1(AttentionOptions{.query_dim = dim, .heads = heads, .dim_head = dim_head}),
      attn2(AttentionOptions{.query_dim = dim, .cross_attention_dim = cross_dim, .heads = heads, .dim_head = dim_head}),
      ff(dim) {
  register_module("norm1", norm1);
  register_module("attn1", attn1);
  register_module("norm2", norm2);
  register_module("attn2", attn2);
  if (ext.audio_cross_attention_dim > 0) {
    audio_norm = std::make_unique<LayerNorm>(dim);
    audio_attn = std::make_unique<Attention>(AttentionOptions{.query_dim = dim,
                                                              .cross_attention_dim = ext.audio_cross_attention_dim,
                                                              .heads = heads,
                                                              .dim_head = dim_head,
                                                              .zero_init_output = true});
    register_module("audio_norm", *audio_norm);
    register_module("audio_attn", *audio_attn);
  }
  if (ext.temporal) {
    temporal = std::make_unique<TemporalAttention>(dim, heads, dim_head, ext.temporal_max_frames);
    register_module("temporal", *temporal);
  }
  register_module("norm3", norm3);
  register_module("ff", ff);
}

at::Tensor BasicTransformerBlock::forward(const at::Tensor& x, const Conditioning& cond) const {
  at::Tensor h = attn1.forward(norm1.forward(x)) + x;
  h = attn2.forward(norm2.forward(h), cond.context) + h;
  if (audio_attn) {
    TORCH_CHECK(cond.audio.defined(), "this model needs audio tokens");
    h = audio_attn->forward(audio_norm->forward(h), cond.audio) + h;
  }
  if (temporal) h = temporal->forward(h, cond.frames) + h;
  return ff.forward(norm3.forward(h)) + h;
}

Transformer2DModel::Transformer2DModel(const TransformerOptions& o) : norm(o.groups, o.in_channels, 1e-6) {
  const int64_t inner = o.heads * o.dim_head;
  register_module("norm", norm);
  if (o.use_linear_projection) {
    proj_in_linear = std::make_unique<Linear>(o.in_channels, inner);
    register_module("proj_in", *proj_in_linear);
  } else {
    proj_in_conv = std::make_unique<Conv2d>(o.in_channels, inner, 1);
    register_module("proj_in", *proj_in_conv);
  }
  for (int64_t i = 0; i < o.layers; ++i)
    transformer_blocks.emplace_back(inner, o.heads, o.dim_head, o.cross_attention_dim, o.extensions);
  register_module("transformer_blocks", transformer_blocks);
  if (o.use_linear_projection) {
    proj_out_linear = std::make_unique<Linear>(inner, o.in_channels);
    register_module("proj_out", *proj_out_linear);
  } else {
    proj_out_conv = std::make_unique<Conv2d>(inner, o.in_channels, 1);
    register_module("proj_out", *proj_out_conv);
  }
}

at::Tensor Transformer2DModel::forward(const at::Tensor& x, const Conditioning& cond) const {
  const int64_t b = x.size(0), hgt = x.size(2), wid = x.size(3);
  at::Tensor h = norm.forward(x);
  if (proj_in_conv) h = proj_in_conv->forward(h);
  const int64_t inner = h.size(1);
  if (proj_in_linear) {
    h = h.permute({0, 2, 3, 1}).reshape({b, hgt * wid, -1});
    h = proj_in_linear->forward(h);
  } else {
    h = h.permute({0, 2, 3, 1}).reshape({b, hgt * wid, inner});
  }
  for (size_t i = 0; i < transformer_blocks.size(); ++i) h = transformer_blocks[i].forward(h, cond);
  if (proj_out_linear) {
    h = proj_out_linear->forward(h);
    h = h.reshape({b, hgt, wid, -1}).permute({0, 3, 1, 2});
  } else {
    h = h.reshape({b, hgt, wid, inner}).permute({0, 3, 1, 2});
    h = proj_out_conv->forward(h.contiguous());
  }
  return h + x;
}

}  // namespace thg::nn
