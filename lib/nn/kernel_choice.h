#pragma once
// The `auto` backend's choice between THG's fused CUDA kernels and LibTorch's own, per shape, by
// measurement: the first time a shape is seen, every candidate runs (one warm-up, then timed
// repeats) on the current GPU, and the fastest is remembered for the rest of the process, as
// cuDNN's benchmark mode does. Figures measured on the user's own GPU, never a table that goes
// stale with the next driver or card.
#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace thg::nn {

struct KernelCandidate {
  std::string name;
  std::function<void()> run;  // enqueues the work on the current CUDA stream
};

struct KernelChoice {
  std::string shape;                // e.g. "attention fp16 B*H=64 Lq=256 Lk=77 D=40"
  std::vector<std::string> names;   // the candidates
  std::vector<double> median_seconds;
  size_t winner = 0;
};

// Index of the fastest candidate for `shape` (measured once per process and shape). Needs a CUDA
// build; `synchronize` waits for the stream that the candidates use.
size_t fastest_kernel(const std::string& shape, const std::vector<KernelCandidate>& candidates,
                      const std::function<void()>& synchronize);

// Every choice made so far, in the order made (for `thg bench` reports).
std::vector<KernelChoice> kernel_choices();

// The name of a tensor's dtype as it appears in choice keys and messages: fp32, fp16, bf16, ...
std::string dtype_label(const at::Tensor& t);

}  // namespace thg::nn
