#pragma once
// The one line a user sees for an exception that is not a thg::Error. LibTorch's errors carry a
// C++ backtrace in what() (dozens of lines), and an allocation failure is more useful as "out of
// memory, lower X" than as the allocator's report of where it failed.
#include <exception>
#include <string>

namespace thg {

// What to lower when memory runs out, in the caller's vocabulary (CLI flags, manifest keys,
// recipe fields). Either may be empty.
struct MemoryAdvice {
  std::string cpu;  // after a host allocation failure
  std::string gpu;  // after a CUDA allocation failure
};

enum class OutOfMemory { No, Host, Gpu };

// Whether `e` is an allocation failure, and of which memory: c10::OutOfMemoryError (the CUDA
// caching allocator), LibTorch's CPU allocator failure (a plain c10::Error), std::bad_alloc.
OutOfMemory out_of_memory_kind(const std::exception& e);

// One line, no backtrace: "out of GPU memory (tried to allocate 2.00 GiB): <advice.gpu>",
// "out of memory (tried to allocate 128 MiB): <advice.cpu>", or the error's own message with
// line breaks folded.
std::string failure_message(const std::exception& e, const MemoryAdvice& advice = {});

}  // namespace thg
