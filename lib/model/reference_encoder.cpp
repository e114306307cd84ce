#include "model/reference_encoder.h"

#include <ATen/ATen.h>

#include <cmath>

namespace thg::model {

at::Tensor sincos_2d(int64_t rows, int64_t cols, int64_t dim, const at::TensorOptions& options) {
  const int64_t quarter = dim / 4;
  const auto f32 = options.dtype(at::kFloat);
  at::Tensor omega = at::pow(10000.0, -at::arange(quarter, f32) / static_cast<double>(quarter));
  auto encode = [&](const at::Tensor& pos) {  // pos [N] -> [N, dim/2]
    at::Tensor angles = pos.unsqueeze(1) * omega.unsqueeze(0);
    return at::cat({at::sin(angles), at::cos(angles)}, 1);
  };
  at::Tensor r = at::arange(rows, f32).repeat_interleave(cols);
  at::Tensor c = at::arange(cols, f32).repeat({rows});
  return at::cat({encode(r), encode(c)}, 1).to(options.dtype());
}

ReferenceEncoder::ReferenceEncoder(const ReferenceEncoderConfig& c, int64_t latent_channels)
    : proj(latent_channels, c.dim, c.patch_size, c.patch_size, 0), norm_out(c.dim) {
  register_module("proj", proj);
  register_module("norm_out", norm_out);
}

at::Tensor ReferenceEncoder::forward(const at::Tensor& latents) const {
  at::Tensor h = proj.forward(latents);  // [B, dim, h/p, w/p]
  const int64_t b = h.size(0), d = h.size(1), rows = h.size(2), cols = h.size(3);
  h = h.flatten(2).transpose(1, 2);  // [B, N, dim]
  h = h + sincos_2d(rows, cols, d, h.options()).unsqueeze(0);
  return norm_out.forward(h).view({b, rows * cols, d});
}

}  // namespace thg::model
