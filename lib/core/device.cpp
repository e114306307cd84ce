#include "core/device.h"

#include <ATen/Context.h>

#include "core/error.h"

namespace thg {

bool cuda_available() { return at::hasCUDA() && at::getNumGPUs() > 0; }

c10::Device select_device(const std::string& name) {
  if (name == "auto") return cuda_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  if (name == "cpu") return c10::Device(c10::kCPU);
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    if (!cuda_available()) throw Error::input("", "--device " + name + ": no CUDA device is available on this machine");
    c10::Device device(c10::kCUDA, 0);
    if (name.size() > 5) {
      try {
        device = c10::Device(name);
      } catch (const std::exception&) {
        throw Error::input("", "--device " + name + ": not a valid device name (auto, cpu, cuda, cuda:N)");
      }
      if (device.index() >= static_cast<int>(at::getNumGPUs()))
        throw Error::input("", "--device " + name + ": no such CUDA device");
    }
    return device;
  }
  throw Error::input("", "--device " + name + ": not a valid device name (auto, cpu, cuda, cuda:N)");
}

c10::ScalarType parse_dtype(const std::string& name) {
  if (name == "float32" || name == "fp32") return c10::kFloat;
  if (name == "float16" || name == "fp16") return c10::kHalf;
  if (name == "bfloat16" || name == "bf16") return c10::kBFloat16;
  throw Error::input("", "unknown --dtype '" + name + "' (valid: float32, float16, bfloat16)");
}

}  // namespace thg
