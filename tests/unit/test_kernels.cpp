// The fused CUDA kernels (kernels/) and their wiring into lib/nn. The CPU half runs everywhere:
// the kernels' per-tile arithmetic (kernel_math.h) in the kernels' blocked order against PyTorch,
// the tiling plans, and the backend selection. The GPU half compares every kernel with PyTorch on
// many fresh random shapes, outputs poisoned with NaN first; it skips without a GPU.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "core/machine.h"
#include "fused_plan.h"
#include "kernel_math.h"
#include "model/config.h"
#include "model/talking_head.h"
#include "nn/attention.h"
#include "nn/fused_kernels.h"
#include "nn/kernel_choice.h"
#include "nn/layers.h"
#include "test_util.h"

#ifdef THG_HAVE_CUDA_KERNELS
#include "flash_attention.h"
#include "group_norm_silu.h"
#endif

namespace thg {
namespace {

using kernels::Moments;
using kernels::SoftmaxRow;

// Restores the process-wide backend whatever a test does.
struct BackendScope {
  explicit BackendScope(nn::AttentionBackend b) { nn::set_attention_backend(b); }
  ~BackendScope() { nn::set_attention_backend(nn::AttentionBackend::Auto); }
};

// The flash-attention kernel's algorithm on the CPU, step by step as each warp runs it: key tiles
// of `tile`, scores scaled into base 2, softmax_rescale per tile, P V accumulated unnormalised.
at::Tensor blocked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t tile) {
  const int64_t lq = q.size(0), lk = k.size(0), d = q.size(1);
  const float scale_log2 = static_cast<float>(M_LOG2E / std::sqrt(static_cast<double>(d)));
  at::Tensor out = at::zeros({lq, d});
  auto qa = q.accessor<float, 2>(), ka = k.accessor<float, 2>(), va = v.accessor<float, 2>();
  auto oa = out.accessor<float, 2>();
  for (int64_t i = 0; i < lq; ++i) {
    SoftmaxRow row;
    std::vector<float> acc(d, 0.f), scores(tile);
    for (int64_t n0 = 0; n0 < lk; n0 += tile) {
      float tile_max = -INFINITY;
      for (int64_t c = 0; c < tile; ++c) {
        float s = -INFINITY;
        if (n0 + c < lk) {
          s = 0.f;
          for (int64_t e = 0; e < d; ++e) s += qa[i][e] * ka[n0 + c][e];
          s *= scale_log2;
        }
        scores[c] = s;
        tile_max = std::fmax(tile_max, s);
      }
      const float alpha = kernels::softmax_rescale(row, tile_max);
      for (float& a : acc) a *= alpha;
      for (int64_t c = 0; c < tile; ++c) {
        const float p = std::exp2(scores[c] - row.max);
        row.sum += p;
        if (n0 + c < lk)
          for (int64_t e = 0; e < d; ++e) acc[e] += p * va[n0 + c][e];
      }
    }
    for (int64_t e = 0; e < d; ++e) oa[i][e] = acc[e] / row.sum;
  }
  return out;
}

TEST(FusedKernelMath, BlockedOnlineSoftmaxEqualsSoftmaxAttention) {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(11);
  for (int64_t tile : {16, 64})
    for (int64_t lk : {1, 7, 16, 17, 64, 77, 200}) {
      // Large score range: the rescaling matters (a naive exp would overflow in fp32).
      at::Tensor q = at::randn({5, 40}, g) * 6, k = at::randn({lk, 40}, g) * 6, v = at::randn({lk, 40}, g);
      at::Tensor expected = at::matmul(at::softmax(at::matmul(q.to(at::kDouble), k.to(at::kDouble).t()) / std::sqrt(40.0), -1),
                                       v.to(at::kDouble));
      const double err = test::max_relative_error(blocked_attention(q, k, v, tile).to(at::kDouble), expected);
      EXPECT_LT(err, 1e-5) << "tile " << tile << " keys " << lk;
    }
}

TEST(FusedKernelMath, MergedChunkMomentsEqualVarMean) {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(12);
  // An offset far from zero: the sum-of-squares shortcut would lose most digits in fp32.
  at::Tensor x = at::randn({10007}, g) * 0.5 + 300;
  auto xa = x.accessor<float, 1>();
  for (int64_t chunks : {1, 3, 64}) {
    Moments total;
    const int64_t n = x.size(0), chunk = (n + chunks - 1) / chunks;
    for (int64_t c = 0; c < chunks; ++c) {
      Moments part;
      for (int64_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) kernels::add_sample(part, xa[i]);
      kernels::merge_moments(total, part);
    }
    auto [var, mean] = at::var_mean(x.to(at::kDouble), 0, /*unbiased=*/false);
    EXPECT_EQ(total.count, static_cast<float>(n));
    EXPECT_NEAR(total.mean, mean.item<double>(), 1e-3);  // 2e-3 of a standard deviation: fp32 at 300
    EXPECT_NEAR(total.m2 / total.count, var.item<double>(), 1e-3 * var.item<double>()) << chunks << " chunks";
  }
  Moments empty, one;
  kernels::add_sample(one, 2.f);
  kernels::merge_moments(one, empty);  // merging nothing changes nothing
  EXPECT_EQ(one.count, 1.f);
  EXPECT_EQ(one.mean, 2.f);
}

TEST(FusedKernelPlan, HeadDimsPadOnlyWhereTensorCoresNeedIt) {
  EXPECT_EQ(kernels::plan_attention(40, 4096, 4096).padded_head_dim, 48);
  for (int d : {32, 64, 80, 96, 128, 160}) EXPECT_EQ(kernels::plan_attention(d, 1024, 77).padded_head_dim, d);
  EXPECT_EQ(kernels::plan_attention(8, 100, 100).padded_head_dim, 32);
  EXPECT_EQ(kernels::plan_attention(104, 100, 100).padded_head_dim, 128);
  EXPECT_FALSE(kernels::plan_attention(36, 100, 100).supported);
  EXPECT_FALSE(kernels::plan_attention(168, 100, 100).supported);
  EXPECT_FALSE(kernels::plan_attention(64, 0, 100).supported);
}

TEST(FusedKernelPlan, TilesFollowSequenceLengths) {
  auto temporal = kernels::plan_attention(64, 8, 8);  // frames of a chunk
  EXPECT_EQ(temporal.warps, 1);
  EXPECT_EQ(temporal.key_tile, 16);
  auto cross = kernels::plan_attention(40, 4096, 10);  // audio tokens
  EXPECT_EQ(cross.warps, 4);
  EXPECT_EQ(cross.key_tile, 16);
  auto self = kernels::plan_attention(40, 4096, 4096);
  EXPECT_EQ(self.warps, 4);
  EXPECT_EQ(self.key_tile, 64);
  // Every compiled shape fits an H100 / H200 block (227 KB of shared memory).
  for (int d : kernels::kFusedHeadDims)
    for (auto [lq, lk] : {std::pair{8, 8}, std::pair{4096, 8}, std::pair{4096, 4096}})
      EXPECT_LE(kernels::attention_shared_bytes(kernels::plan_attention(d, lq, lk), 2), 227 * 1024) << d;
}

TEST(FusedKernelPlan, GroupNormSplitsFillTheGpuForSmallBatches) {
  // sd15's first block at 512x512, batch 1: 32 groups of 10 x 64 x 64 elements on 132 SMs.
  const int splits = kernels::plan_group_norm_splits(32, 10 * 64 * 64, 132);
  EXPECT_GT(splits, 8);
  EXPECT_LE(splits, 64);
  EXPECT_EQ(kernels::plan_group_norm_splits(32, 1000, 132), 1);      // too little work to split
  EXPECT_EQ(kernels::plan_group_norm_splits(32 * 64, 1 << 20, 132), 1);  // enough groups already
}

TEST(FusedBackend, RefusedWithAReasonWhereItCannotRun) {
  BackendScope scope(nn::AttentionBackend::Fused);
  at::Tensor q = at::randn({1, 2, 8, 32});
  try {
    nn::scaled_dot_product(q, q, q);
    FAIL() << "fused attention ran on CPU tensors";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fused"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(nn::fused_kernels_built() ? "cpu" : "no CUDA kernels"), std::string::npos)
        << e.what();
  }
}

TEST(FusedBackend, AutoAndGroupNormFallBackToLibTorchOnCpu) {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(13);
  at::Tensor q = at::randn({2, 4, 16, 32}, g), k = at::randn({2, 4, 9, 32}, g), v = at::randn({2, 4, 9, 32}, g);
  const size_t choices_before = nn::kernel_choices().size();
  EXPECT_TRUE(at::equal(nn::scaled_dot_product(q, k, v, nn::AttentionBackend::Auto), at::scaled_dot_product_attention(q, k, v)));
  nn::GroupNorm norm(4, 16);
  at::Tensor x = at::randn({2, 16, 5, 5}, g);
  for (auto backend : {nn::AttentionBackend::Fused, nn::AttentionBackend::Auto}) {
    BackendScope scope(backend);
    EXPECT_TRUE(at::equal(norm.forward_silu(x), at::silu(at::group_norm(x, 4, norm.weight, norm.bias, 1e-5))));
  }
  EXPECT_EQ(nn::kernel_choices().size(), choices_before) << "auto measured kernels for CPU tensors";
}

// ---------------------------------------------------------------------------------------------
// GPU: every kernel against PyTorch.

class FusedKernelsGpu : public ::testing::Test {
 protected:
  void SetUp() override {
    THG_REQUIRE_GPU_OR_SKIP(/*need_kernels=*/true);
  }
  static double bound(at::ScalarType t) { return t == at::kHalf ? 2e-3 : 1e-2; }  // relative, by dtype
};

#ifdef THG_HAVE_CUDA_KERNELS
// Fills the allocator's free blocks with NaN, so a kernel output that misses an element shows up.
void poison_allocator(int64_t bytes) { at::full({bytes / 4 + 1024}, NAN, at::TensorOptions().device(at::kCUDA)); }

TEST_F(FusedKernelsGpu, AttentionMatchesMathOnManyShapes) {
  c10::InferenceMode inference;
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(21);
  // (batch*heads split, Lq, Lk, head dim): the default and sd15 models' shapes, temporal
  // attention, short-key cross-attention, and lengths that are not multiples of the tiles.
  const std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t>> shapes = {
      {2, 4, 256, 256, 32},  {2, 4, 256, 256, 32},  {2, 4, 256, 10, 32}, {512, 4, 8, 8, 32},   {1, 8, 4096, 4096, 40},
      {2, 8, 4096, 77, 40},  {2, 8, 1024, 1024, 80}, {2, 8, 256, 77, 160}, {2, 8, 64, 64, 160}, {4096, 8, 16, 16, 40},
      {1, 1, 1, 1, 64},      {1, 3, 17, 63, 64},     {1, 2, 65, 129, 96}, {3, 2, 100, 5, 128}, {1, 2, 33, 200, 8},
      {1, 2, 50, 50, 24},    {1, 2, 50, 50, 72},     {1, 2, 50, 50, 112}, {1, 2, 50, 50, 144}, {1, 1, 15, 1000, 48}};
  for (auto dtype : {at::kHalf, at::kBFloat16})
    for (auto [b, h, lq, lk, d] : shapes) {
      const auto cuda = at::TensorOptions().device(at::kCUDA).dtype(dtype);
      // As the attention module makes them: [B, L, H, D] storage viewed as [B, H, L, D].
      at::Tensor q = at::randn({b, lq, h, d}, g).to(cuda).transpose(1, 2);
      at::Tensor k = at::randn({b, lk, h, d}, g).to(cuda).transpose(1, 2);
      at::Tensor v = at::randn({b, lk, h, d}, g).to(cuda).transpose(1, 2);
      at::Tensor out = at::full({b, h, lq, d}, NAN, cuda);
      kernels::flash_attention_cuda(q, k, v, out);
      at::Tensor expected = nn::scaled_dot_product(q.to(at::kFloat), k.to(at::kFloat), v.to(at::kFloat), nn::AttentionBackend::Math);
      ASSERT_FALSE(at::isnan(out).any().item<bool>()) << "unwritten outputs, shape " << b << "x" << h << "x" << lq << "x" << lk << "x" << d;
      EXPECT_LT(test::max_relative_error(out.to(at::kFloat), expected), bound(dtype))
          << c10::toString(dtype) << " " << b << "x" << h << " Lq " << lq << " Lk " << lk << " D " << d;
      // The allocating entry point returns the same values in the [B, Lq, H, D] layout.
      poison_allocator(out.numel() * 2);
      EXPECT_TRUE(at::equal(kernels::flash_attention_cuda(q, k, v), out));
    }
}

TEST_F(FusedKernelsGpu, GroupNormSiluMatchesTorch) {
  c10::InferenceMode inference;
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(22);
  const std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t>> shapes = {
      {1, 320, 64, 32}, {2, 640, 32, 32}, {16, 64, 32, 32}, {1, 1280, 8, 32}, {3, 96, 7, 8}, {1, 32, 1, 32}};
  for (auto dtype : {at::kFloat, at::kHalf, at::kBFloat16})
    for (auto [n, c, s, groups] : shapes)
      for (bool silu : {true, false}) {
        const auto cuda = at::TensorOptions().device(at::kCUDA).dtype(dtype);
        at::Tensor x = (at::randn({n, c, s, s}, g) * 3 + 2).to(cuda);
        at::Tensor w = at::randn({c}, g).to(cuda), bias = at::randn({c}, g).to(cuda);
        poison_allocator(x.numel() * 4);
        at::Tensor out = kernels::group_norm_silu_cuda(x, groups, w, bias, 1e-5, silu);
        at::Tensor expected = at::group_norm(x.to(at::kFloat), groups, w.to(at::kFloat), bias.to(at::kFloat), 1e-5);
        if (silu) expected = at::silu(expected);
        ASSERT_FALSE(at::isnan(out).any().item<bool>());
        const double tolerance = dtype == at::kFloat ? 1e-5 : bound(dtype);
        EXPECT_LT(test::max_relative_error(out.to(at::kFloat), expected), tolerance)
            << c10::toString(dtype) << " " << n << "x" << c << "x" << s << "x" << s << " groups " << groups;
      }
}

TEST_F(FusedKernelsGpu, PeakGpuMemorySeesAnAllocation) {
  const c10::Device gpu(at::kCUDA, 0);
  reset_peak_gpu_bytes(gpu);
  const int64_t before = peak_gpu_bytes(gpu);
  {
    at::Tensor big = at::empty({64 << 20}, at::TensorOptions().device(at::kCUDA).dtype(at::kByte));
    EXPECT_GE(peak_gpu_bytes(gpu), before + (64 << 20));
  }
  EXPECT_EQ(peak_gpu_bytes(c10::Device(at::kCUDA, 99)), -1);
}

TEST_F(FusedKernelsGpu, ModelWithFusedBackendMatchesMath) {
  c10::InferenceMode inference;
  auto model = model::TalkingHeadModel::random(model::load_model_config(test::source_root() / "configs/pixel-latent.yaml"), 5);
  model->to(at::kCUDA, at::kHalf);
  const auto& cfg = model->config();
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(23);
  const auto options = at::TensorOptions().device(at::kCUDA).dtype(at::kHalf);
  const int64_t lat = cfg.latent_size(cfg.image_size), frames = 8;
  at::Tensor reference = at::randn({1, cfg.vae.latent_channels, lat, lat}, g).to(options);
  at::Tensor tokens = model->reference_tokens(reference);
  at::Tensor audio = model->audio_tokens(at::randn({frames, cfg.audio.mel.n_mels, model->audio_window()}, g));
  at::Tensor noisy = at::randn({frames, cfg.vae.latent_channels, lat, lat}, g).to(options);
  at::Tensor t = at::full({frames}, 500.0, options);
  auto run = [&](nn::AttentionBackend b) {
    BackendScope scope(b);
    return model->denoise(noisy, t, reference, tokens, audio, frames).to(at::kFloat);
  };
  const at::Tensor math = run(nn::AttentionBackend::Math), fused = run(nn::AttentionBackend::Fused);
  EXPECT_LT(test::max_relative_error(fused, math), 1e-2);
  // auto measures each shape once and remembers a winner per shape.
  const size_t before = nn::kernel_choices().size();
  EXPECT_LT(test::max_relative_error(run(nn::AttentionBackend::Auto), math), 1e-2);
  EXPECT_GT(nn::kernel_choices().size(), before);
  const size_t after = nn::kernel_choices().size();
  run(nn::AttentionBackend::Auto);
  EXPECT_EQ(nn::kernel_choices().size(), after);
}
#endif

// The denoiser on the GPU in half precision against the same weights in fp32 on the CPU (LibTorch's
// own kernels on both sides, sdpa backend): what `--device cuda --dtype float16/bfloat16` computes
// must be the CPU's result to half-precision accuracy. Needs a GPU, not THG's kernels.
class CudaVsCpu : public ::testing::Test {
 protected:
  void SetUp() override { THG_REQUIRE_GPU_OR_SKIP(/*need_kernels=*/false); }
};

TEST_F(CudaVsCpu, DenoiserInHalfPrecisionMatchesFp32OnTheCpu) {
  c10::InferenceMode inference;
  BackendScope scope(nn::AttentionBackend::Sdpa);
  const auto config = model::load_model_config(test::source_root() / "configs/pixel-latent.yaml");
  auto cpu = model::TalkingHeadModel::random(config, 7);
  const auto& cfg = cpu->config();
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(29);
  const int64_t lat = cfg.latent_size(cfg.image_size), frames = 8;
  const at::Tensor reference = at::randn({1, cfg.vae.latent_channels, lat, lat}, g);
  const at::Tensor windows = at::randn({frames, cfg.audio.mel.n_mels, cpu->audio_window()}, g);
  const at::Tensor noisy = at::randn({frames, cfg.vae.latent_channels, lat, lat}, g);
  const at::Tensor t = at::full({frames}, 500.0);
  auto run = [&](model::TalkingHeadModel& m, const at::TensorOptions& o) {
    const at::Tensor ref = reference.to(o);
    return m.denoise(noisy.to(o), t.to(o), ref, m.reference_tokens(ref), m.audio_tokens(windows), frames)
        .to(at::kCPU, at::kFloat);
  };
  const at::Tensor expected = run(*cpu, at::TensorOptions().dtype(at::kFloat));
  for (auto dtype : {at::kHalf, at::kBFloat16}) {
    auto gpu = model::TalkingHeadModel::random(config, 7);
    gpu->to(at::kCUDA, dtype);
    const double error = test::max_relative_error(run(*gpu, at::TensorOptions().device(at::kCUDA).dtype(dtype)), expected);
    std::printf("denoiser on CUDA in %s against fp32 on the CPU: max relative error %.3g\n",
                dtype == at::kHalf ? "fp16" : "bf16", error);
    // bf16: the bound of the CPU bf16 parity test (test_nn_parity.cpp); fp16 has 3 more mantissa bits.
    EXPECT_LT(error, dtype == at::kHalf ? 1e-2 : 3e-2);
  }
}

}  // namespace
}  // namespace thg
