#include "core/log.h"

#include <atomic>
#include <cstdio>

namespace thg::log {

namespace {
std::atomic<Level> g_level{Level::Warn};

void emit(Level at, const char* tag, const std::string& message) {
  if (g_level.load() < at) return;
  std::fprintf(stderr, "thg: %s%s\n", tag, message.c_str());
}
}  // namespace

void set_level(Level level) { g_level.store(level); }
Level level() { return g_level.load(); }
void warn(const std::string& message) { emit(Level::Warn, "warning: ", message); }
void info(const std::string& message) { emit(Level::Info, "", message); }
void debug(const std::string& message) { emit(Level::Debug, "debug: ", message); }

}  // namespace thg::log
