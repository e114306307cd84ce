#include "core/failure_message.h"

#include <c10/util/Exception.h>

#include <cstdio>
#include <new>
#include <regex>

namespace thg {

namespace {

// The message without LibTorch's backtrace, line breaks folded into "; ".
std::string message_of(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error ? c10_error->what_without_backtrace() : e.what();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::string folded;
  for (char c : text) {
    if (c == '\n')
      folded += "; ";
    else
      folded += c;
  }
  return folded;
}

std::string human_bytes(double bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.2f %s", bytes, units[u]);
  return text;
}

// "tried to allocate N" from either allocator's report: the CUDA caching allocator writes
// "Tried to allocate 2.00 GiB.", the CPU one "you tried to allocate 134217728 bytes.".
std::string requested_size(const std::string& message) {
  static const std::regex pattern(R"([Tt]ried to allocate ([0-9.]+ ?(?:[KMGT]i?B|bytes)))");
  std::smatch m;
  if (!std::regex_search(message, m, pattern)) return "";
  std::string size = m[1];
  if (size.ends_with(" bytes")) size = human_bytes(std::stod(size));
  return " (tried to allocate " + size + ")";
}

}  // namespace

OutOfMemory out_of_memory_kind(const std::exception& e) {
  if (dynamic_cast<const c10::OutOfMemoryError*>(&e)) return OutOfMemory::Gpu;
  if (dynamic_cast<const std::bad_alloc*>(&e)) return OutOfMemory::Host;
  // LibTorch's CPU allocator reports failure with a plain enforce error, not OutOfMemoryError.
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) {
    const std::string& msg = c10_error->msg();
    if (msg.find("DefaultCPUAllocator") != std::string::npos &&
        (msg.find("can't allocate memory") != std::string::npos || msg.find("not enough memory") != std::string::npos))
      return OutOfMemory::Host;
  }
  return OutOfMemory::No;
}

std::string failure_message(const std::exception& e, const MemoryAdvice& advice) {
  const std::string message = message_of(e);
  switch (out_of_memory_kind(e)) {
    case OutOfMemory::Gpu:
      return "out of GPU memory" + requested_size(message) + (advice.gpu.empty() ? "" : ": " + advice.gpu);
    case OutOfMemory::Host:
      return "out of memory" + requested_size(message) + (advice.cpu.empty() ? "" : ": " + advice.cpu);
    case OutOfMemory::No: break;
  }
  return message;
}

}  // namespace thg
