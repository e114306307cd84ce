// Float frames -> RGB bytes: the CPU reference, and the CUDA kernel against it when a GPU exists.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/device.h"
#include "core/pixels.h"
#include "test_util.h"

namespace thg {
namespace {

TEST(Pixels, ClampsRoundsAndInterleaves) {
  at::Tensor f = at::zeros({1, 3, 1, 2});
  f[0][0][0][0] = -0.5f;         // clamped to 0
  f[0][1][0][0] = 0.5f;          // 127.5 rounds half to even -> 128
  f[0][2][0][0] = 1.7f;          // clamped to 255
  f[0][0][0][1] = 10.f / 255.f;  // exact
  at::Tensor rgb = frames_to_rgb8(f);
  ASSERT_EQ(rgb.sizes(), (std::vector<int64_t>{1, 1, 2, 3}));
  ASSERT_EQ(rgb.scalar_type(), at::kByte);
  EXPECT_EQ(rgb[0][0][0][0].item<uint8_t>(), 0);
  EXPECT_EQ(rgb[0][0][0][1].item<uint8_t>(), 128);
  EXPECT_EQ(rgb[0][0][0][2].item<uint8_t>(), 255);
  EXPECT_EQ(rgb[0][0][1][0].item<uint8_t>(), 10);
}

TEST(Pixels, CudaKernelMatchesTheCpuReference) {
  THG_REQUIRE_GPU_OR_SKIP(/*need_kernels=*/false);
  for (auto dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
    at::Tensor f = (at::rand({5, 3, 37, 53}) * 1.4 - 0.2).to(dtype);
    at::Tensor cpu = frames_to_rgb8(f);
    at::Tensor gpu = frames_to_rgb8(f.to(at::kCUDA));
    EXPECT_TRUE(at::equal(cpu, gpu)) << dtype;
  }
}

}  // namespace
}  // namespace thg
