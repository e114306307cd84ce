// Batch manifests: the first byte picks the format (YAML, JSONL, CSV), the rest is the text.
#include <string>

#include "fuzz_util.h"
#include "jobs/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* formats[] = {"yaml", "jsonl", "csv"};
  const std::string format = formats[data[0] % 3];
  thg::fuzz::expect_only_thg_errors([&] {
    auto m = thg::pipeline::parse_manifest(std::string(reinterpret_cast<const char*>(data + 1), size - 1), format,
                                           "/nonexistent", "fuzz." + format);
    thg::pipeline::check_outputs(m, "/tmp/thg-fuzz-out");
  });
  return 0;
}
