#include "core/cancel.h"

#include <atomic>
#include <csignal>

#include "core/error.h"

namespace thg {

namespace {
std::atomic<int> g_interrupts{0};

extern "C" void on_signal(int sig) {
  if (g_interrupts.fetch_add(1) >= 1) {
    // Second signal: the user insists. Restore the default action and re-raise.
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}
}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool interrupt_requested() { return g_interrupts.load() > 0; }

void throw_if_interrupted() {
  if (interrupt_requested()) throw Error(ErrorKind::Cancelled, "", "interrupted");
}

void throw_if_cancelled(const CancelToken* token) {
  throw_if_interrupted();
  if (token && token->cancelled()) throw Error(ErrorKind::Cancelled, "", "cancelled");
}

void request_interrupt() { g_interrupts.store(1); }
void clear_interrupt() { g_interrupts.store(0); }

}  // namespace thg
