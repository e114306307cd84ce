#include "core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>

namespace thg {

namespace {
// -1: decide by isatty; 0: off; 1: on.
std::atomic<int> g_forced{-1};

std::string format_seconds(double s) {
  if (s < 0 || s > 1e7) return "?";
  char buf[32];
  int total = static_cast<int>(s + 0.5);
  if (total >= 3600)
    std::snprintf(buf, sizeof buf, "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60);
  else
    std::snprintf(buf, sizeof buf, "%02d:%02d", total / 60, total % 60);
  return buf;
}
}  // namespace

void Progress::force_enabled(bool enabled) { g_forced.store(enabled ? 1 : 0); }

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(std::max<int64_t>(total, 1)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {
  int forced = g_forced.load();
  enabled_ = forced >= 0 ? forced == 1 : isatty(STDERR_FILENO) == 1;
  if (enabled_) draw(false);
}

Progress::~Progress() {
  // An unfinished bar (error, interrupt) still ends its line so the error message starts clean.
  if (enabled_ && !finished_) std::fputc('\n', stderr);
}

void Progress::set_label(std::string label) { label_ = std::move(label); }

void Progress::redraw() { advance(0); }

void Progress::advance(int64_t n) {
  done_ = std::min(total_, done_ + n);
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ >= std::chrono::milliseconds(100) || done_ == total_) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (enabled_) {
    draw(true);
    std::fputc('\n', stderr);
  }
}

void Progress::draw(bool /*final*/) {
  constexpr int kWidth = 30;
  double fraction = static_cast<double>(done_) / static_cast<double>(total_);
  int filled = static_cast<int>(fraction * kWidth);
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = elapsed > 0 ? done_ / elapsed : 0;
  double eta = rate > 0 ? (total_ - done_) / rate : -1;
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r%s [%s] %3d%% %lld/%lld %s  %.2f %s/s  elapsed %s  eta %s\x1b[K", label_.c_str(),
               bar.c_str(), static_cast<int>(fraction * 100), static_cast<long long>(done_),
               static_cast<long long>(total_), unit_.c_str(), rate, unit_.c_str(), format_seconds(elapsed).c_str(),
               format_seconds(eta).c_str());
  std::fflush(stderr);
}

}  // namespace thg
