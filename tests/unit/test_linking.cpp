// How the program is put together, where a mistake costs silently: LibTorch's CPU matrix products
// must run on the BLAS inside LibTorch. A system BLAS loaded ahead of it (dlib's CMake target pulls
// in Debian's reference libblas.so.3) overrides its exported sgemm_ and makes generation on the CPU
// about 10x slower without any error.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <string>

namespace thg {
namespace {

TEST(Core, TorchMatrixProductsUseTorchsOwnBlas) {
  void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
  if (sgemm == nullptr) GTEST_SKIP() << "no sgemm_ in this process (a LibTorch built without an exported BLAS)";
  Dl_info info{};
  ASSERT_NE(dladdr(sgemm, &info), 0);
  EXPECT_NE(std::string(info.dli_fname).find("libtorch"), std::string::npos)
      << "sgemm_ resolves to " << info.dli_fname << ", not to LibTorch's own";
}

}  // namespace
}  // namespace thg
