// The CPU side of the GPU paths: every condition the fused kernels enforce (TORCH_CHECKs and launch
// limits in kernels/) is refused first by lib/nn's applicability check, so `auto` never hands a
// user's GPU a shape the kernel would throw on; and `auto`'s measurement survives a candidate that
// throws and measures with the timer it is given (CUDA events on a GPU).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "nn/fused_applicability.h"
#include "nn/kernel_choice.h"

namespace thg {
namespace {

using c10::ScalarType;

struct Operand {
  std::vector<int64_t> sizes;
  ScalarType dtype = ScalarType::Half;
  bool cuda = true;
  int device = 0;
  bool contiguous = true;
  bool grad = false;
  nn::OperandFacts facts() const {
    nn::OperandFacts f;
    f.on_cuda = cuda;
    f.device = device;
    f.dtype = dtype;
    f.sizes = sizes;
    f.contiguous = contiguous;
    f.needs_grad = grad;
    return f;
  }
};

std::string attention(const Operand& q, const Operand& k, const Operand& v) {
  const char* why = nn::attention_unavailable(q.facts(), k.facts(), v.facts());
  return why ? why : "";
}

TEST(FusedApplicability, AttentionRefusesEveryShapeTheKernelWould) {
  const Operand q{{2, 8, 256, 40}}, kv{{2, 8, 77, 40}};
  EXPECT_EQ(attention(q, kv, kv), "");  // the default model's cross-attention
  auto with = [](Operand o, auto change) {
    change(o);
    return o;
  };
  EXPECT_EQ(attention(with(q, [](Operand& o) { o.cuda = false; }), kv, kv), "tensors are not on a CUDA device");
  EXPECT_EQ(attention(q, with(kv, [](Operand& o) { o.device = 1; }), kv), "q, k and v are on different devices");
  EXPECT_EQ(attention(with(q, [](Operand& o) { o.dtype = ScalarType::Float; }), kv, kv), "dtype is not fp16 or bf16");
  EXPECT_EQ(attention(q, kv, with(kv, [](Operand& o) { o.dtype = ScalarType::BFloat16; })), "q, k and v dtypes differ");
  EXPECT_EQ(attention(with(q, [](Operand& o) { o.sizes = {16, 256, 40}; }), kv, kv), "tensors are not [B, H, L, D]");
  EXPECT_EQ(attention(q, kv, with(kv, [](Operand& o) { o.sizes[2] = 78; })), "k and v shapes differ");
  const Operand other_heads{{2, 4, 77, 40}};
  EXPECT_EQ(attention(q, other_heads, other_heads), "k and v do not match q's batch, heads and head dim");
  const Operand odd_q{{2, 8, 256, 12}}, odd_kv{{2, 8, 77, 12}};
  EXPECT_NE(attention(odd_q, odd_kv, odd_kv).find("head dim"), std::string::npos);
  const Operand no_keys{{2, 8, 0, 40}};
  EXPECT_NE(attention(q, no_keys, no_keys).find("empty"), std::string::npos);
  // Query tiles go on the grid's y dimension (at most 65535 tiles of 16 rows).
  const Operand long_q{{1, 1, nn::kMaxAttentionQueryLen + 1, 64}}, long_kv{{1, 1, 8, 64}};
  EXPECT_EQ(attention(long_q, long_kv, long_kv), "more queries than the kernel's grid can hold");
  const Operand ok_q{{1, 1, nn::kMaxAttentionQueryLen, 64}};
  EXPECT_EQ(attention(ok_q, long_kv, long_kv), "");
  EXPECT_EQ(attention(with(q, [](Operand& o) { o.grad = true; }), kv, kv),
            "gradients are needed (the kernel is forward-only)");
}

std::string group_norm(const Operand& x, const Operand& w, const Operand& b, int64_t groups) {
  const char* why = nn::group_norm_unavailable(x.facts(), w.facts(), b.facts(), groups);
  return why ? why : "";
}

TEST(FusedApplicability, GroupNormRefusesEveryShapeTheKernelWould) {
  const Operand x{{2, 64, 16, 16}}, w{{64}, ScalarType::Float}, b{{64}, ScalarType::Float};
  EXPECT_EQ(group_norm(x, w, b, 32), "");
  auto with = [](Operand o, auto change) {
    change(o);
    return o;
  };
  EXPECT_EQ(group_norm(with(x, [](Operand& o) { o.cuda = false; }), w, b, 32), "the tensor is not on a CUDA device");
  EXPECT_EQ(group_norm(x, w, with(b, [](Operand& o) { o.device = 1; }), 32), "weight or bias is not on the tensor's device");
  EXPECT_EQ(group_norm(with(x, [](Operand& o) { o.dtype = ScalarType::Double; }), w, b, 32), "dtype is not fp32, fp16 or bf16");
  EXPECT_EQ(group_norm(x, w, with(b, [](Operand& o) { o.dtype = ScalarType::Half; }), 32), "weight and bias dtypes differ");
  EXPECT_EQ(group_norm(x, with(w, [](Operand& o) { o.dtype = ScalarType::BFloat16; }),
                       with(b, [](Operand& o) { o.dtype = ScalarType::BFloat16; }), 32),
            "weight dtype is neither the tensor's nor fp32");
  EXPECT_EQ(group_norm(x, w, b, 0), "groups must be positive");  // and no division by zero
  EXPECT_EQ(group_norm(x, w, b, -4), "groups must be positive");
  EXPECT_EQ(group_norm(x, w, b, 24), "channels not divisible by groups");
  EXPECT_EQ(group_norm(x, with(w, [](Operand& o) { o.sizes = {32}; }), b, 32), "weight and bias are not [C]");
  EXPECT_EQ(group_norm(x, with(w, [](Operand& o) { o.contiguous = false; }), b, 32), "weight or bias is not contiguous");
}

// (sample, group) pairs go on the grid's y dimension: at most 65535.
TEST(FusedApplicability, GroupNormGridLimitIsExact) {
  const Operand w{{64}, ScalarType::Float}, b{{64}, ScalarType::Float};
  const Operand at_limit{{2047, 64, 4, 4}}, over{{2048, 64, 4, 4}};
  EXPECT_EQ(group_norm(at_limit, w, b, 32), "");                      // 65504 pairs
  EXPECT_EQ(group_norm(over, w, b, 32), "N x groups exceeds the kernel's grid (65535)");  // 65536
}

// A timer that reports scripted durations for whichever candidate ran last, whatever the host
// clock says: `auto` must choose by what the timer measures (on a GPU, CUDA events).
class ScriptedTimer : public nn::KernelTimer {
 public:
  std::string* last_run = nullptr;
  std::map<std::string, double> seconds;
  void start() override {}
  double stop_seconds() override { return seconds.at(*last_run); }
};

TEST(KernelChoice, ChoosesByTheTimersMeasurement) {
  std::string last;
  ScriptedTimer timer;
  timer.last_run = &last;
  timer.seconds = {{"slow-on-device", 3e-5}, {"fast-on-device", 1e-5}};
  const size_t pick = nn::fastest_kernel(
      "test: scripted timer",
      {{"slow-on-device", [&] { last = "slow-on-device"; }}, {"fast-on-device", [&] { last = "fast-on-device"; }}},
      [&] { return std::make_unique<ScriptedTimer>(timer); });
  EXPECT_EQ(pick, 1u);
}

TEST(KernelChoice, ACandidateThatThrowsIsSkippedNotFatal) {
  const nn::KernelTimerFactory timer = [] { return std::make_unique<nn::HostClockTimer>(); };
  int torch_runs = 0;
  size_t pick = 99;
  EXPECT_NO_THROW(pick = nn::fastest_kernel(
                      "test: fused throws",
                      {{"fused", [] { throw std::runtime_error("flash_attention_cuda: shape not supported"); }},
                       {"torch", [&] { ++torch_runs; }}},
                      timer));
  EXPECT_EQ(pick, 1u);
  EXPECT_GT(torch_runs, 0);
  bool recorded = false;
  for (const nn::KernelChoice& c : nn::kernel_choices())
    if (c.shape == "test: fused throws") {
      recorded = true;
      EXPECT_TRUE(std::isinf(c.median_seconds[0]));
      EXPECT_NE(c.errors[0].find("shape not supported"), std::string::npos);
      EXPECT_TRUE(c.errors[1].empty());
    }
  EXPECT_TRUE(recorded);
  // The choice is remembered: the failing candidate is not run again for this shape.
  EXPECT_EQ(nn::fastest_kernel("test: fused throws", {{"fused", [] { throw std::runtime_error("again"); }}, {"torch", [] {}}},
                               timer),
            1u);
  // Only when every candidate fails does the error reach the caller.
  EXPECT_THROW(nn::fastest_kernel("test: all throw", {{"a", [] { throw std::runtime_error("a"); }},
                                                      {"b", [] { throw std::runtime_error("b"); }}},
                                  timer),
               std::runtime_error);
}

}  // namespace
}  // namespace thg
