#pragma once
// Cooperative cancellation: SIGINT/SIGTERM set a flag that long loops poll, so that every
// destructor runs (temporary outputs are removed) instead of the process dying mid-write.
#include <atomic>

namespace thg {

// One request's cancellation (a server cancels one job; a library caller stops one generation):
// cancel() from any thread; the work polls it between steps.
class CancelToken {
 public:
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::atomic<bool> cancelled_{false};
};

// Throws Error(ErrorKind::Cancelled) when `token` (may be null) was cancelled or the process was
// interrupted (SIGINT/SIGTERM: the CLI's cancellation, which stops every request).
void throw_if_cancelled(const CancelToken* token);

// Installs handlers for SIGINT and SIGTERM. A second signal while stopping kills the process.
void install_interrupt_handlers();
bool interrupt_requested();
// Throws Error(ErrorKind::Cancelled) when a stop was requested.
void throw_if_interrupted();
// For tests and embedders that cancel programmatically.
void request_interrupt();
void clear_interrupt();

}  // namespace thg
