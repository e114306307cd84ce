#include "nn/blocks.h"

#include <ATen/ATen.h>

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
  at::Tensor h = conv1.forward(at::silu(norm1.forward(x)));
  if (time_emb_proj && temb.defined()) h = h + time_emb_proj->forward(at::silu(temb)).unsqueeze(-1).unsqueeze(-1);
  h = conv2.forward(at::silu(norm2.forward(h)));
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

BasicTransformerBlock::BasicTransformerBlock(int64_t dim, int64_t heads, int64_t dim_head, int64_t cross_dim)
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
  register_module("norm3", norm3);
  register_module("ff", ff);
}

at::Tensor BasicTransformerBlock::forward(const at::Tensor& x, const at::Tensor& context) const {
  at::Tensor h = attn1.forward(norm1.forward(x)) + x;
  h = attn2.forward(norm2.forward(h), context) + h;
  return ff.forward(norm3.forward(h)) + h;
}

Transformer2DModel::Transformer2DModel(int64_t heads, int64_t dim_head, int64_t in_channels, int64_t layers,
                                       int64_t cross_dim, int64_t groups, bool use_linear_projection)
    : norm(groups, in_channels, 1e-6) {
  const int64_t inner = heads * dim_head;
  register_module("norm", norm);
  if (use_linear_projection) {
    proj_in_linear = std::make_unique<Linear>(in_channels, inner);
    register_module("proj_in", *proj_in_linear);
  } else {
    proj_in_conv = std::make_unique<Conv2d>(in_channels, inner, 1);
    register_module("proj_in", *proj_in_conv);
  }
  for (int64_t i = 0; i < layers; ++i) transformer_blocks.emplace_back(inner, heads, dim_head, cross_dim);
  register_module("transformer_blocks", transformer_blocks);
  if (use_linear_projection) {
    proj_out_linear = std::make_unique<Linear>(inner, in_channels);
    register_module("proj_out", *proj_out_linear);
  } else {
    proj_out_conv = std::make_unique<Conv2d>(inner, in_channels, 1);
    register_module("proj_out", *proj_out_conv);
  }
}

at::Tensor Transformer2DModel::forward(const at::Tensor& x, const at::Tensor& context) const {
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
  for (size_t i = 0; i < transformer_blocks.size(); ++i) h = transformer_blocks[i].forward(h, context);
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
