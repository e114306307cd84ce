#pragma once
// Minimal leveled logging to stderr. Library code never prints to stdout (that is for --json).
#include <string>

namespace thg::log {

enum class Level { Quiet = 0, Warn = 1, Info = 2, Debug = 3 };

void set_level(Level level);
Level level();
void warn(const std::string& message);
void info(const std::string& message);
void debug(const std::string& message);

}  // namespace thg::log
