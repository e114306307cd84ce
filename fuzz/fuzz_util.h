#pragma once
// Shared by the fuzz targets: expected failures are thg::Error; anything else escaping (another
// exception type, a crash, a sanitizer report) is a bug libFuzzer reports.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "core/log.h"

namespace thg::fuzz {

// The input as a file without touching the disk: a memfd, reachable as /proc/self/fd/N by the
// path-based decoders. Closed on destruction.
class MemoryFile {
 public:
  MemoryFile(const uint8_t* data, size_t size) : fd_(::memfd_create("fuzz", 0)) {
    if (fd_ < 0) std::abort();
    for (size_t done = 0; done < size;) {
      const ssize_t n = ::write(fd_, data + done, size - done);
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
  }
  ~MemoryFile() { ::close(fd_); }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

template <class F>
void expect_only_thg_errors(F&& f) {
  log::set_level(log::Level::Quiet);
  try {
    f();
  } catch (const thg::Error&) {
  }
}

}  // namespace thg::fuzz
