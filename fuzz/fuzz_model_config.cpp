// Model config YAML: any text must parse into a validated config or give thg::Error; an accepted
// config must survive a write/read round trip unchanged.
#include <string>

#include "fuzz_util.h"
#include "model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  thg::fuzz::expect_only_thg_errors([&] {
    auto config = thg::model::parse_model_config(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
    const std::string yaml = thg::model::to_yaml(config);
    if (thg::model::to_yaml(thg::model::parse_model_config(yaml, "roundtrip")) != yaml) __builtin_trap();
  });
  return 0;
}
