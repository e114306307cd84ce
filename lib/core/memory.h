#pragma once
// How much memory the machine can still give (Linux MemAvailable), to refuse work that cannot fit
// with a message instead of being killed by the OOM killer half-way.
#include <cstdint>
#include <optional>

namespace thg {

std::optional<int64_t> available_memory_bytes();

}  // namespace thg
