#pragma once
// Facts about the machine a measurement ran on, for benchmark reports.
#include <c10/core/Device.h>

#include <cstdint>
#include <string>
#include <vector>

namespace thg {

// The median of timings (the mean of the two middle values for an even count; 0 when empty):
// what every benchmark in THG reports, robust to one slow outlier.
double median(std::vector<double> values);

std::string cpu_name();           // /proc/cpuinfo's model name, or "unknown CPU"
int64_t process_peak_rss_bytes();  // the process's peak resident memory so far
int64_t process_rss_bytes();       // its resident memory now (0 where /proc is missing)

// GPU memory through LibTorch's caching allocator: the peak of bytes allocated to tensors on
// `device` since the last reset. -1 for a CPU device, a CUDA index that does not exist, or a build
// that cannot ask (no CUDA toolkit); reports leave the column empty then. "cuda" without an index
// means device 0, as the model loader places it.
int64_t peak_gpu_bytes(const c10::Device& device);
void reset_peak_gpu_bytes(const c10::Device& device);

}  // namespace thg
