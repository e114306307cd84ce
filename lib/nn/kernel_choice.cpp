#include "nn/kernel_choice.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

#include "core/machine.h"

namespace thg::nn {

namespace {
std::mutex g_mutex;
std::map<std::string, size_t> g_winner_by_shape;
std::vector<KernelChoice> g_choices;

constexpr int kRepeats = 5;
}  // namespace

size_t fastest_kernel(const std::string& shape, const std::vector<KernelCandidate>& candidates,
                      const std::function<void()>& synchronize) {
  std::lock_guard lock(g_mutex);
  if (auto it = g_winner_by_shape.find(shape); it != g_winner_by_shape.end()) return it->second;
  KernelChoice choice;
  choice.shape = shape;
  for (const KernelCandidate& c : candidates) {
    c.run();  // warm-up: first-call costs (allocation, cuDNN plans, shared-memory opt-in) excluded
    synchronize();
    std::vector<double> seconds;
    for (int i = 0; i < kRepeats; ++i) {
      const auto start = std::chrono::steady_clock::now();
      c.run();
      synchronize();
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    choice.names.push_back(c.name);
    choice.median_seconds.push_back(median(seconds));
  }
  choice.winner = static_cast<size_t>(std::min_element(choice.median_seconds.begin(), choice.median_seconds.end()) -
                                      choice.median_seconds.begin());
  g_winner_by_shape[shape] = choice.winner;
  g_choices.push_back(choice);
  return choice.winner;
}

std::vector<KernelChoice> kernel_choices() {
  std::lock_guard lock(g_mutex);
  return g_choices;
}

std::string dtype_label(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: return "fp32";
    case at::kHalf: return "fp16";
    case at::kBFloat16: return "bf16";
    case at::kDouble: return "fp64";
    default: return std::string(c10::toString(t.scalar_type()));
  }
}

}  // namespace thg::nn
