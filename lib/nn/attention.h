#pragma once
// Attention: the diffusers `Attention` module (to_q, to_k, to_v, to_out.0, optional group_norm)
// and the single scaled-dot-product entry point that every attention in THG goes through, with
// selectable backends.
#include <optional>
#include <string>

#include "nn/layers.h"

namespace thg::nn {

enum class AttentionBackend {
  Math,   // softmax(q k^T / sqrt(d)) v with plain ops: the reference
  Sdpa,   // at::scaled_dot_product_attention (flash / efficient / cuDNN / math inside PyTorch)
  Fused,  // THG's own CUDA kernels (kernels/): fp16/bf16 CUDA tensors, inference only; also
          // GroupNorm+SiLU (nn/layers.h)
  Auto,   // per shape, the faster of fused and sdpa as measured on this GPU (nn/kernel_choice.h)
          // where the fused kernel applies; sdpa elsewhere (CPU, fp32, training)
};

AttentionBackend parse_attention_backend(const std::string& name);  // throws Error::input listing valid names
const char* attention_backend_name(AttentionBackend backend);
void set_attention_backend(AttentionBackend backend);  // process-wide default
// The calling thread's backend: its ScopedAttentionBackend's if one is active, else the default.
AttentionBackend attention_backend();

// One request's backend on this thread for the guard's lifetime (nested guards restore in turn):
// two generations on two threads each run with their own, and neither changes the default.
// An empty optional leaves the thread's current backend.
class ScopedAttentionBackend {
 public:
  explicit ScopedAttentionBackend(std::optional<AttentionBackend> backend);
  ~ScopedAttentionBackend();
  ScopedAttentionBackend(const ScopedAttentionBackend&) = delete;
  ScopedAttentionBackend& operator=(const ScopedAttentionBackend&) = delete;

 private:
  bool active_ = false;
  std::optional<AttentionBackend> previous_;
};

// q [B, H, Lq, D], k and v [B, H, Lk, D] -> [B, H, Lq, D].
at::Tensor scaled_dot_product(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                              AttentionBackend backend);
inline at::Tensor scaled_dot_product(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  return scaled_dot_product(q, k, v, attention_backend());
}

struct AttentionOptions {
  int64_t query_dim = 0;
  int64_t cross_attention_dim = 0;  // 0: self-attention
  int64_t heads = 8;
  int64_t dim_head = 64;
  bool qkv_bias = false;
  int64_t norm_groups = 0;    // > 0: a GroupNorm on spatial input, residual added (VAE mid block)
  double norm_eps = 1e-6;
  bool zero_init_output = false;  // start as a no-op branch (conditioning added to a trained net)
};

class Attention : public Module {
 public:
  explicit Attention(const AttentionOptions& options);
  // x [B, L, query_dim]; context [B, M, cross_attention_dim] or undefined for self-attention.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context = {}) const;
  // x [B, C, H, W] with group_norm and residual (diffusers' "deprecated attention block" path).
  at::Tensor forward_spatial(const at::Tensor& x) const;

  AttentionOptions options;
  Linear to_q, to_k, to_v;
  ModuleList<Linear> to_out;
  std::unique_ptr<GroupNorm> group_norm;
};

}  // namespace thg::nn
