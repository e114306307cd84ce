// safetensors header and tensor table: any bytes must give a result or thg::Error.
#include <string_view>

#include "fuzz_util.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  thg::fuzz::expect_only_thg_errors([&] {
    auto header = thg::io::parse_safetensors_bytes(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    // Whatever was accepted must be consistent: every tensor inside the data section.
    for (const auto& t : header.tensors)
      if (t.end < t.begin || t.end > size) __builtin_trap();
  });
  return 0;
}
