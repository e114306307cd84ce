#include "nn/layers.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "nn/attention.h"
#include "nn/fused_kernels.h"
#include "nn/kernel_choice.h"
#include "nn/shape_recorder.h"

namespace thg::nn {

namespace {
// PyTorch's default for Linear and Conv: weight and bias uniform in +-1/sqrt(fan_in); or zeros for
// layers that must start as a no-op.
void init_affine(at::Tensor& weight, at::Tensor& bias, double fan_in, bool zero, at::Generator& g) {
  at::NoGradGuard no_grad;
  if (zero) {
    weight.zero_();
    if (bias.defined()) bias.zero_();
    return;
  }
  const double bound = 1.0 / std::sqrt(fan_in);
  init_uniform(weight, bound, g);
  if (bias.defined()) init_uniform(bias, bound, g);
}
}  // namespace

Linear::Linear(int64_t in, int64_t out, bool has_bias) {
  register_parameter("weight", weight, at::empty({out, in}));
  if (has_bias) register_parameter("bias", bias, at::empty({out}));
}

at::Tensor Linear::forward(const at::Tensor& x) const { return at::linear(x, weight, bias); }

void Linear::init_own_parameters(at::Generator& g) {
  init_affine(weight, bias, static_cast<double>(weight.size(1)), zero_init, g);
}

Conv2d::Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride_, int64_t padding_, bool has_bias)
    : stride(stride_), padding(padding_) {
  register_parameter("weight", weight, at::empty({out, in, kernel, kernel}));
  if (has_bias) register_parameter("bias", bias, at::empty({out}));
}

at::Tensor Conv2d::forward(const at::Tensor& x) const {
  return at::conv2d(x, weight, bias, {stride, stride}, {padding, padding});
}

void Conv2d::init_own_parameters(at::Generator& g) {
  init_affine(weight, bias, static_cast<double>(weight.size(1) * weight.size(2) * weight.size(3)), zero_init, g);
}

GroupNorm::GroupNorm(int64_t groups_, int64_t channels, double eps_) : groups(groups_), eps(eps_) {
  register_parameter("weight", weight, at::ones({channels}));
  register_parameter("bias", bias, at::zeros({channels}));
}

at::Tensor GroupNorm::forward(const at::Tensor& x) const { return at::group_norm(x, groups, weight, bias, eps); }

at::Tensor GroupNorm::forward_silu(const at::Tensor& x) const {
  const int64_t spatial = x.numel() / std::max<int64_t>(x.size(0) * x.size(1), 1);
  ShapeRecorder::record_group_norm({x.size(0), x.size(1), spatial, groups});
  const AttentionBackend backend = attention_backend();
  if ((backend == AttentionBackend::Fused || backend == AttentionBackend::Auto) &&
      !fused_group_norm_unavailable(x, weight, bias, groups)) {
    auto fused = [&] { return fused_group_norm(x, groups, weight, bias, eps, true); };
    if (backend == AttentionBackend::Fused) return fused();
    const std::string shape = "group_norm_silu " + dtype_label(x) + " N=" + std::to_string(x.size(0)) + " C=" +
                              std::to_string(x.size(1)) + " spatial=" + std::to_string(spatial) +
                              " groups=" + std::to_string(groups);
    const size_t pick = fastest_kernel(shape, {{"fused", [&] { fused(); }}, {"torch", [&] { at::silu(forward(x)); }}},
                                       [&] { return device_timer(x); });
    if (pick == 0) return fused();
  }
  return at::silu(forward(x));
}

void GroupNorm::init_own_parameters(at::Generator&) {
  at::NoGradGuard no_grad;
  weight.fill_(1);
  bias.zero_();
}

LayerNorm::LayerNorm(int64_t dim, double eps_) : eps(eps_) {
  register_parameter("weight", weight, at::ones({dim}));
  register_parameter("bias", bias, at::zeros({dim}));
}

at::Tensor LayerNorm::forward(const at::Tensor& x) const {
  return at::layer_norm(x, {weight.size(0)}, weight, bias, eps);
}

void LayerNorm::init_own_parameters(at::Generator&) {
  at::NoGradGuard no_grad;
  weight.fill_(1);
  bias.zero_();
}

}  // namespace thg::nn
