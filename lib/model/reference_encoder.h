#pragma once
// The reference encoder: the portrait's latent -> tokens that every frame cross-attends to (attn2).
// Why tokens and not a ReferenceNet: a ReferenceNet is a second UNet (twice the compute per step);
// patch tokens of the latent cost one strided convolution, and together with the latent
// concatenated to the UNet input (spatially aligned appearance) they give the model what it needs
// to keep the identity when the head moves. 2D sine-cosine positions (no learned table) let any
// --size work.
#include "nn/layers.h"

namespace thg::model {

struct ReferenceEncoderConfig {
  int64_t dim = 128;       // must equal unet.cross_attention_dim; divisible by 4
  int64_t patch_size = 2;  // latent pixels per token side
};

class ReferenceEncoder : public nn::Module {
 public:
  ReferenceEncoder(const ReferenceEncoderConfig& config, int64_t latent_channels);
  // latents [B, C, h, w] (h, w divisible by patch_size) -> tokens [B, (h/p)*(w/p), dim]
  at::Tensor forward(const at::Tensor& latents) const;
  nn::Conv2d proj;
  nn::LayerNorm norm_out;
};

// Fixed 2D sine-cosine position embedding [rows * cols, dim] (MAE / DiT convention: first half
// of the channels encodes the row, second half the column).
at::Tensor sincos_2d(int64_t rows, int64_t cols, int64_t dim, const at::TensorOptions& options);

}  // namespace thg::model
