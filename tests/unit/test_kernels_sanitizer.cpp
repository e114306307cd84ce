// Small-shape runs of THG's fused CUDA kernels for compute-sanitizer (memcheck, racecheck):
// benchmarks/device-run.sh runs `--gtest_filter='KernelSanitizer.*'` under each tool. Shapes are
// tiny (the tools slow kernels down 10-100x) but cover the edge cases: sequence lengths that are
// not multiples of the tiles, a key length shorter than one tile and one longer than two, head dims
// 40 (padded to the tensor-core width) and 64, fp16 and bf16; group norm with a spatial size (5x7)
// that no vector width divides, in fp32, fp16 and bf16 with fp32 weights. Each result is also
// compared with the CPU math at loose tolerances, so a run that is clean but wrong still fails.
// Everything goes through lib/nn/fused_kernels.h, as the model calls the kernels.
// Without a GPU (or a build without kernels) every test skips; THG_REQUIRE_GPU=1 makes that a failure.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "nn/fused_kernels.h"
#include "test_util.h"

namespace thg {
namespace {

class KernelSanitizer : public ::testing::Test {
 protected:
  // Relative error bounds against the fp32 CPU math: the inputs are rounded to the dtype first, so
  // what is left is the kernels' own rounding (fp16 has 10 mantissa bits, bf16 7).
  static double bound(at::ScalarType t) { return t == at::kFloat ? 1e-4 : t == at::kHalf ? 5e-3 : 3e-2; }
};

[[maybe_unused]] std::string label(at::ScalarType dtype, const std::vector<int64_t>& dims) {
  std::string s = c10::toString(dtype);
  for (int64_t d : dims) s += " " + std::to_string(d);
  return s;
}

// max |a - b| / max |b| on the CPU, in fp32.
[[maybe_unused]] double relative_error(const at::Tensor& actual, const at::Tensor& expected) {
  const at::Tensor a = actual.to(at::kCPU, at::kFloat), e = expected.to(at::kCPU, at::kFloat);
  const double scale = std::max(e.abs().max().item<double>(), 1e-12);
  return (a - e).abs().max().item<double>() / scale;
}

TEST_F(KernelSanitizer, AttentionSmallShapes) {
  THG_REQUIRE_GPU_OR_SKIP(/*need_kernels=*/true);
#ifdef THG_HAVE_CUDA_KERNELS
  c10::InferenceMode inference;
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(31);
  const int64_t batch = 1, heads = 2, lq = 17;  // B*H = 2
  for (auto dtype : {at::kHalf, at::kBFloat16})
    for (int64_t d : {40, 64})
      for (int64_t lk : {9, 33}) {
        const auto cuda = at::TensorOptions().device(at::kCUDA).dtype(dtype);
        // As the attention module lays them out: [B, L, H, D] storage viewed as [B, H, L, D].
        at::Tensor q = at::randn({batch, lq, heads, d}, g).to(cuda).transpose(1, 2);
        at::Tensor k = at::randn({batch, lk, heads, d}, g).to(cuda).transpose(1, 2);
        at::Tensor v = at::randn({batch, lk, heads, d}, g).to(cuda).transpose(1, 2);
        const char* why = nn::fused_attention_unavailable(q, k, v);
        ASSERT_EQ(why, nullptr) << why;
        at::Tensor out = nn::fused_attention(q, k, v);
        // The CPU math on the same (rounded) inputs: softmax(q k^T / sqrt(d)) v.
        const at::Tensor qf = q.to(at::kCPU, at::kFloat), kf = k.to(at::kCPU, at::kFloat), vf = v.to(at::kCPU, at::kFloat);
        const at::Tensor p = at::softmax(at::matmul(qf, kf.transpose(-2, -1)) / std::sqrt(static_cast<double>(d)), -1);
        const at::Tensor expected = at::matmul(p, vf);  // [B, H, Lq, D]
        // The output is a [B, H, Lq, D] view of [B, Lq, H, D] storage.
        ASSERT_EQ(out.sizes(), expected.sizes());
        const at::Tensor got = out.to(at::kCPU, at::kFloat);
        ASSERT_FALSE(at::isnan(got).any().item<bool>()) << label(dtype, {batch, heads, lq, lk, d});
        EXPECT_LT(relative_error(got, expected), bound(dtype)) << label(dtype, {batch, heads, lq, lk, d});
      }
#endif
}

TEST_F(KernelSanitizer, GroupNormSiluSmallShapes) {
  THG_REQUIRE_GPU_OR_SKIP(/*need_kernels=*/true);
#ifdef THG_HAVE_CUDA_KERNELS
  c10::InferenceMode inference;
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(32);
  const int64_t n = 2, c = 64, groups = 32, h = 5, w = 7;
  for (auto dtype : {at::kFloat, at::kHalf, at::kBFloat16})
    for (bool silu : {true, false}) {
      const auto cuda = at::TensorOptions().device(at::kCUDA).dtype(dtype);
      const auto cuda_f32 = at::TensorOptions().device(at::kCUDA).dtype(at::kFloat);
      at::Tensor x = (at::randn({n, c, h, w}, g) * 3 + 2).to(cuda);
      at::Tensor weight = at::randn({c}, g).to(cuda_f32), bias = at::randn({c}, g).to(cuda_f32);  // fp32, as the model keeps them
      const char* why = nn::fused_group_norm_unavailable(x, weight, bias, groups);
      ASSERT_EQ(why, nullptr) << why;
      at::Tensor out = nn::fused_group_norm(x, groups, weight, bias, 1e-5, silu);
      ASSERT_EQ(out.sizes(), x.sizes());
      at::Tensor expected = at::group_norm(x.to(at::kCPU, at::kFloat), groups, weight.cpu(), bias.cpu(), 1e-5);
      if (silu) expected = at::silu(expected);
      const at::Tensor got = out.to(at::kCPU, at::kFloat);
      ASSERT_FALSE(at::isnan(got).any().item<bool>()) << label(dtype, {n, c, h, w, groups});
      EXPECT_LT(relative_error(got, expected), bound(dtype)) << label(dtype, {n, c, h, w, groups}) << (silu ? " silu" : "");
    }
#endif
}

}  // namespace
}  // namespace thg
