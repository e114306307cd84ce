#include "core/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace thg {

void crash_point(const char* point) {
  const char* wanted = std::getenv("THG_CRASH_AT");
  if (wanted != nullptr && std::strcmp(wanted, point) == 0) ::kill(::getpid(), SIGKILL);
}

}  // namespace thg
