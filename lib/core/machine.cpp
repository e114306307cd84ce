#include "core/machine.h"

#include <sys/resource.h>

#include <fstream>

#ifdef THG_HAVE_CUDA_KERNELS
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace thg {

std::string cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

int64_t process_peak_rss_bytes() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports kilobytes
}

#ifdef THG_HAVE_CUDA_KERNELS
namespace {
bool valid_cuda_device(int index) { return index >= 0 && index < static_cast<int>(c10::cuda::device_count()); }
}  // namespace

int64_t cuda_peak_allocated_bytes(int index) {
  if (!valid_cuda_device(index)) return -1;
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(index));
  return stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak;
}

void reset_cuda_peak(int index) {
  if (valid_cuda_device(index)) c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(index));
}
#else
int64_t cuda_peak_allocated_bytes(int) { return -1; }
void reset_cuda_peak(int) {}
#endif

}  // namespace thg
