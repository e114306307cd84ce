#pragma once
// Facts about the machine a measurement ran on, for benchmark reports.
#include <cstdint>
#include <string>

namespace thg {

std::string cpu_name();           // /proc/cpuinfo's model name, or "unknown CPU"
int64_t process_peak_rss_bytes();  // the process's peak resident memory so far

// GPU memory through LibTorch's caching allocator, for one CUDA device index: the peak of bytes
// allocated to tensors since the last reset. -1 when there is no such device or this build
// cannot ask (no CUDA toolkit); a CPU run reports -1 and the reports leave the column empty.
int64_t cuda_peak_allocated_bytes(int device_index);
void reset_cuda_peak(int device_index);

}  // namespace thg
