#include "core/hash.h"

#include <cstdio>
#include <fstream>
#include <vector>

#include "core/error.h"

namespace thg {

Fingerprint& Fingerprint::add(std::string_view bytes) {
  for (unsigned char c : bytes) {
    state_ ^= c;
    state_ *= 0x100000001b3ULL;
  }
  // Length as a separator, so that ("ab","c") and ("a","bc") differ.
  const uint64_t n = bytes.size();
  for (int i = 0; i < 8; ++i) {
    state_ ^= static_cast<unsigned char>(n >> (8 * i));
    state_ *= 0x100000001b3ULL;
  }
  return *this;
}

Fingerprint& Fingerprint::add_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error::input(path.string(), "cannot read the file");
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    add(std::string_view(buffer.data(), static_cast<size_t>(in.gcount())));
  }
  return *this;
}

std::string Fingerprint::hex() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(state_));
  return buf;
}

}  // namespace thg
