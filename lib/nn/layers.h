#pragma once
// Leaf layers with PyTorch's parameter names and default initialisation.
#include "nn/module.h"

namespace thg::nn {

class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, bool bias = true);
  at::Tensor forward(const at::Tensor& x) const;
  at::Tensor weight, bias;  // weight [out, in]
  // Zero-initialised layers start a residual branch as the identity (added conditioning paths).
  bool zero_init = false;

 protected:
  void init_own_parameters(at::Generator& g) override;
};

class Conv2d : public Module {
 public:
  Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0, bool bias = true);
  at::Tensor forward(const at::Tensor& x) const;
  at::Tensor weight, bias;
  int64_t stride, padding;
  bool zero_init = false;

 protected:
  void init_own_parameters(at::Generator& g) override;
};

class GroupNorm : public Module {
 public:
  GroupNorm(int64_t groups, int64_t channels, double eps = 1e-5);
  at::Tensor forward(const at::Tensor& x) const;
  // silu(forward(x)), the pattern of every ResNet block: on CUDA with the `fused` or `auto`
  // backend (nn/attention.h) one fused kernel instead of two passes.
  at::Tensor forward_silu(const at::Tensor& x) const;
  at::Tensor weight, bias;
  int64_t groups;
  double eps;

 protected:
  void init_own_parameters(at::Generator& g) override;
};

class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim, double eps = 1e-5);
  at::Tensor forward(const at::Tensor& x) const;
  at::Tensor weight, bias;
  double eps;

 protected:
  void init_own_parameters(at::Generator& g) override;
};

}  // namespace thg::nn
