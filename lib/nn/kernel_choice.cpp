#include "nn/kernel_choice.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <map>
#include <mutex>

#include "core/log.h"
#include "core/machine.h"

namespace thg::nn {

namespace {
std::mutex g_mutex;
std::map<std::string, size_t> g_winner_by_shape;
std::vector<KernelChoice> g_choices;

constexpr int kRepeats = 5;
}  // namespace

size_t fastest_kernel(const std::string& shape, const std::vector<KernelCandidate>& candidates,
                      const KernelTimerFactory& make_timer) {
  if (candidates.empty()) throw std::logic_error("fastest_kernel: no candidates for " + shape);
  std::lock_guard lock(g_mutex);
  if (auto it = g_winner_by_shape.find(shape); it != g_winner_by_shape.end()) return it->second;
  KernelChoice choice;
  choice.shape = shape;
  const std::unique_ptr<KernelTimer> timer_owner = make_timer();
  KernelTimer& timer = *timer_owner;
  std::exception_ptr last_failure;
  for (const KernelCandidate& c : candidates) {
    choice.names.push_back(c.name);
    try {
      timer.start();
      c.run();  // warm-up: first-call costs (allocation, cuDNN plans, shared-memory opt-in) excluded
      timer.stop_seconds();
      std::vector<double> seconds;
      for (int i = 0; i < kRepeats; ++i) {
        timer.start();
        c.run();
        seconds.push_back(timer.stop_seconds());
      }
      choice.median_seconds.push_back(median(seconds));
      choice.errors.emplace_back();
    } catch (const std::exception& e) {
      last_failure = std::current_exception();
      choice.median_seconds.push_back(std::numeric_limits<double>::infinity());
      choice.errors.emplace_back(e.what());
      log::warn("auto backend: candidate '" + c.name + "' failed on " + shape + " and is not used: " +
                std::string(e.what()).substr(0, std::string(e.what()).find('\n')));
    }
  }
  choice.winner = static_cast<size_t>(std::min_element(choice.median_seconds.begin(), choice.median_seconds.end()) -
                                      choice.median_seconds.begin());
  if (!std::isfinite(choice.median_seconds[choice.winner])) std::rethrow_exception(last_failure);
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
