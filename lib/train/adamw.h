#pragma once
// AdamW (Loshchilov & Hutter) over a fixed list of parameter tensors, with its moments exposed by
// name so that checkpoints can save and resume them exactly; and an exponential moving average of
// the weights, which is what gets shipped (diffusion models sample much better from EMA weights).
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace thg::train {

using NamedParams = std::vector<std::pair<std::string, at::Tensor*>>;

struct AdamWOptions {
  double lr = 1e-4;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0.01;
  double grad_clip = 1.0;  // global L2 norm; <= 0: off
};

class AdamW {
 public:
  AdamW(NamedParams params, AdamWOptions options);
  void zero_grad();
  // One update with learning rate `lr`; returns the gradient norm before clipping.
  double step(double lr);
  int64_t steps() const { return step_; }

  // Moments as named tensors ("m.<param>", "v.<param>") and the step count, for checkpoints.
  std::vector<std::pair<std::string, at::Tensor>> state() const;
  void load_state(const std::vector<std::pair<std::string, at::Tensor>>& state, int64_t steps);

 private:
  NamedParams params_;
  AdamWOptions options_;
  std::vector<at::Tensor> m_, v_;
  int64_t step_ = 0;
};

class Ema {
 public:
  Ema(const NamedParams& params, double decay);
  void update(const NamedParams& params);
  // Copies the averaged weights into `params` (for saving / evaluation).
  void copy_to(const NamedParams& params) const;
  std::vector<std::pair<std::string, at::Tensor>> state() const;
  // `updates`: how many updates the saved average had seen (its warm-up depends on it).
  void load_state(const std::vector<std::pair<std::string, at::Tensor>>& state, int64_t updates);

 private:
  std::vector<std::string> names_;
  std::vector<at::Tensor> shadow_;
  double decay_;
  int64_t updates_ = 0;
};

}  // namespace thg::train
