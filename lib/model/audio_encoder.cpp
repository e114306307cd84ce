#include "model/audio_encoder.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

namespace thg::model {

AudioEncoderLayer::AudioEncoderLayer(int64_t dim, int64_t heads)
    : norm1(dim), norm2(dim), attn(nn::AttentionOptions{.query_dim = dim, .heads = heads, .dim_head = dim / heads}),
      ff(dim) {
  register_module("norm1", norm1);
  register_module("attn", attn);
  register_module("norm2", norm2);
  register_module("ff", ff);
}

at::Tensor AudioEncoderLayer::forward(const at::Tensor& x) const {
  at::Tensor h = attn.forward(norm1.forward(x)) + x;
  return ff.forward(norm2.forward(h)) + h;
}

AudioEncoder::AudioEncoder(const AudioEncoderConfig& c, int64_t window) : proj_in(c.mel.n_mels, c.dim), norm_out(c.dim) {
  register_module("proj_in", proj_in);
  register_parameter("pos_embed", pos_embed, at::zeros({window, c.dim}));
  for (int64_t i = 0; i < c.layers; ++i) layers.emplace_back(c.dim, c.heads);
  register_module("layers", layers);
  register_module("norm_out", norm_out);
}

at::Tensor AudioEncoder::forward(const at::Tensor& windows) const {
  at::Tensor h = proj_in.forward(windows.transpose(1, 2)) + pos_embed.unsqueeze(0);
  for (size_t i = 0; i < layers.size(); ++i) h = layers[i].forward(h);
  return norm_out.forward(h);
}

void AudioEncoder::init_own_parameters(at::Generator& g) {
  at::NoGradGuard no_grad;
  pos_embed.normal_(0.0, 0.02, g);
}

}  // namespace thg::model
