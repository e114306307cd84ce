#pragma once
// The `auto` backend's choice between THG's fused CUDA kernels and LibTorch's own, per shape, by
// measurement: the first time a shape is seen, every candidate runs (one warm-up, then timed
// repeats) on the current GPU, and the fastest is remembered for the rest of the process, as
// cuDNN's benchmark mode does. Figures measured on the user's own GPU, never a table that goes
// stale with the next driver or card.
#include <ATen/core/Tensor.h>

#include <chrono>
#include <functional>
#include <memory>
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
  std::vector<double> median_seconds;  // +infinity for a candidate that failed
  std::vector<std::string> errors;     // why a candidate failed (empty when it ran)
  size_t winner = 0;
};

// Measures the device time of the work enqueued between start() and stop_seconds(). On a GPU this
// must be CUDA events on the stream: the host clock around a ~10 us kernel measures launch latency
// and synchronisation, not the kernel.
class KernelTimer {
 public:
  virtual ~KernelTimer() = default;
  virtual void start() = 0;
  virtual double stop_seconds() = 0;  // waits for the work, then returns its duration
};

// The host clock: for CPU work (synchronous) and tests.
class HostClockTimer : public KernelTimer {
 public:
  void start() override { started_ = std::chrono::steady_clock::now(); }
  double stop_seconds() override {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }

 private:
  std::chrono::steady_clock::time_point started_;
};

using KernelTimerFactory = std::function<std::unique_ptr<KernelTimer>()>;

// Index of the fastest candidate for `shape` (measured once per process and shape; the timer is
// made only when a shape is measured, not on the calls that find it remembered). A candidate
// that throws (a kernel refusing a shape its applicability check missed, a launch failure) is
// recorded with its error and never chosen, so the forward pass goes on with the others; only
// when every candidate fails is the last error rethrown.
size_t fastest_kernel(const std::string& shape, const std::vector<KernelCandidate>& candidates,
                      const KernelTimerFactory& make_timer);

// Every choice made so far, in the order made (for `thg bench` reports).
std::vector<KernelChoice> kernel_choices();

// The name of a tensor's dtype as it appears in choice keys and messages: fp32, fp16, bf16, ...
std::string dtype_label(const at::Tensor& t);

}  // namespace thg::nn
