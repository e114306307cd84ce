#include "core/machine.h"

#include <unistd.h>

#include <cstdio>

#include <sys/resource.h>

#include <algorithm>
#include <fstream>

#ifdef THG_HAVE_CUDA_KERNELS
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace thg {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

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

int64_t process_rss_bytes() {
  // /proc/self/statm: total and resident size in pages.
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  long long total = 0, resident = 0;
  const int got = std::fscanf(f, "%lld %lld", &total, &resident);
  std::fclose(f);
  return got == 2 ? resident * static_cast<int64_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

#ifdef THG_HAVE_CUDA_KERNELS
namespace {
// The allocator's index for `device`, or -1 when it has none.
int cuda_index(const c10::Device& device) {
  if (!device.is_cuda()) return -1;
  const int index = device.has_index() ? device.index() : 0;
  return index < static_cast<int>(c10::cuda::device_count()) ? index : -1;
}
}  // namespace

int64_t peak_gpu_bytes(const c10::Device& device) {
  const int index = cuda_index(device);
  if (index < 0) return -1;
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(index));
  return stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak;
}

void reset_peak_gpu_bytes(const c10::Device& device) {
  const int index = cuda_index(device);
  if (index >= 0) c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(index));
}
#else
int64_t peak_gpu_bytes(const c10::Device&) { return -1; }
void reset_peak_gpu_bytes(const c10::Device&) {}
#endif

}  // namespace thg
