#pragma once
// Facts about the machine a measurement ran on, for benchmark reports.
#include <cstdint>
#include <string>

namespace thg {

std::string cpu_name();           // /proc/cpuinfo's model name, or "unknown CPU"
int64_t process_peak_rss_bytes();  // the process's peak resident memory so far

}  // namespace thg
