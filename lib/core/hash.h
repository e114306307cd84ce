#pragma once
// Content fingerprints (FNV-1a 64): stable across runs, machines and builds, which is what batch
// resume needs to tell "this output was made from exactly these inputs". Not cryptographic.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace thg {

class Fingerprint {
 public:
  Fingerprint& add(std::string_view bytes);
  Fingerprint& add_file(const std::filesystem::path& path);  // throws Error::input if unreadable
  uint64_t value() const { return state_; }
  std::string hex() const;

 private:
  uint64_t state_ = 0xcbf29ce484222325ULL;
};

}  // namespace thg
