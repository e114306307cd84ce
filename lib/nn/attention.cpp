#include "nn/attention.h"

#include <ATen/ATen.h>

#include <atomic>
#include <cmath>

#include "core/error.h"
#include "nn/fused_kernels.h"
#include "nn/kernel_choice.h"
#include "nn/shape_recorder.h"

namespace thg::nn {

namespace {
std::atomic<AttentionBackend> g_backend{AttentionBackend::Auto};
}

AttentionBackend parse_attention_backend(const std::string& name) {
  if (name == "math") return AttentionBackend::Math;
  if (name == "sdpa") return AttentionBackend::Sdpa;
  if (name == "fused") return AttentionBackend::Fused;
  if (name == "auto") return AttentionBackend::Auto;
  throw Error::input("", "unknown attention backend '" + name + "' (valid: auto, math, sdpa, fused)");
}

const char* attention_backend_name(AttentionBackend backend) {
  switch (backend) {
    case AttentionBackend::Math: return "math";
    case AttentionBackend::Sdpa: return "sdpa";
    case AttentionBackend::Fused: return "fused";
    case AttentionBackend::Auto: return "auto";
  }
  return "?";
}

void set_attention_backend(AttentionBackend backend) { g_backend.store(backend); }
namespace {
thread_local std::optional<AttentionBackend> t_backend;  // the current request's, on this thread
}  // namespace

AttentionBackend attention_backend() { return t_backend ? *t_backend : g_backend.load(); }

ScopedAttentionBackend::ScopedAttentionBackend(std::optional<AttentionBackend> backend) {
  if (!backend) return;
  active_ = true;
  previous_ = t_backend;
  t_backend = backend;
}

ScopedAttentionBackend::~ScopedAttentionBackend() {
  if (active_) t_backend = previous_;
}

namespace {
// "fp16 [2, 8, 4096, 40] on cuda:0": what a refusal of the fused kernel was given.
std::string describe(const at::Tensor& q) {
  std::string sizes;
  for (int64_t s : q.sizes()) sizes += (sizes.empty() ? "" : ", ") + std::to_string(s);
  return dtype_label(q) + " [" + sizes + "] on " + q.device().str();
}

std::string shape_label(const at::Tensor& q, const at::Tensor& k) {
  return "attention " + dtype_label(q) + " B*H=" + std::to_string(q.size(0) * q.size(1)) + " Lq=" + std::to_string(q.size(2)) +
         " Lk=" + std::to_string(k.size(2)) + " D=" + std::to_string(q.size(3));
}
}  // namespace

at::Tensor scaled_dot_product(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                              AttentionBackend backend) {
  ShapeRecorder::record_attention({q.size(0), q.size(1), q.size(2), k.size(2), q.size(3)});
  switch (backend) {
    case AttentionBackend::Math: {
      const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
      // Softmax in fp32 whatever the storage type, as diffusers' upcast_softmax does.
      at::Tensor scores = at::matmul(q, k.transpose(-1, -2)).to(at::kFloat) * scale;
      return at::matmul(at::softmax(scores, -1).to(v.scalar_type()), v);
    }
    case AttentionBackend::Fused:
      if (const char* why = fused_attention_unavailable(q, k, v))
        throw Error::input("", std::string("attention backend 'fused' cannot run here: ") + why + " (" + describe(q) +
                                   "; use auto, sdpa or math)");
      return fused_attention(q, k, v);
    case AttentionBackend::Auto:
      // Where the fused kernel applies, whichever of it and SDPA measured faster on this GPU.
      if (!fused_attention_unavailable(q, k, v)) {
        const size_t pick = fastest_kernel(
            shape_label(q, k),
            {{"fused", [&] { fused_attention(q, k, v); }}, {"sdpa", [&] { at::scaled_dot_product_attention(q, k, v); }}},
            [&] { return device_timer(q); });
        if (pick == 0) return fused_attention(q, k, v);
      }
      break;
    case AttentionBackend::Sdpa:
      break;
  }
  return at::scaled_dot_product_attention(q, k, v);
}

Attention::Attention(const AttentionOptions& o)
    : options(o),
      to_q(o.query_dim, o.heads * o.dim_head, o.qkv_bias),
      to_k(o.cross_attention_dim > 0 ? o.cross_attention_dim : o.query_dim, o.heads * o.dim_head, o.qkv_bias),
      to_v(o.cross_attention_dim > 0 ? o.cross_attention_dim : o.query_dim, o.heads * o.dim_head, o.qkv_bias) {
  if (o.norm_groups > 0) {
    group_norm = std::make_unique<GroupNorm>(o.norm_groups, o.query_dim, o.norm_eps);
    register_module("group_norm", *group_norm);
  }
  register_module("to_q", to_q);
  register_module("to_k", to_k);
  register_module("to_v", to_v);
  to_out.emplace_back(o.heads * o.dim_head, o.query_dim, true).zero_init = o.zero_init_output;
  register_module("to_out", to_out);
}

at::Tensor Attention::forward(const at::Tensor& x, const at::Tensor& context) const {
  const at::Tensor& kv = context.defined() ? context : x;
  const int64_t b = x.size(0), h = options.heads, d = options.dim_head;
  auto split = [&](const at::Tensor& t) { return t.view({b, -1, h, d}).transpose(1, 2); };
  at::Tensor out = scaled_dot_product(split(to_q.forward(x)), split(to_k.forward(kv)), split(to_v.forward(kv)));
  out = out.transpose(1, 2).reshape({b, -1, h * d});
  return to_out[0].forward(out);
}

at::Tensor Attention::forward_spatial(const at::Tensor& x) const {
  const int64_t b = x.size(0), c = x.size(1), hgt = x.size(2), wid = x.size(3);
  at::Tensor h = group_norm ? group_norm->forward(x) : x;
  h = h.view({b, c, hgt * wid}).transpose(1, 2);
  h = forward(h);
  h = h.transpose(1, 2).reshape({b, c, hgt, wid});
  return h + x;
}

}  // namespace thg::nn
