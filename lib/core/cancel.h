#pragma once
// Cooperative cancellation: SIGINT/SIGTERM set a flag that long loops poll, so that every
// destructor runs (temporary outputs are removed) instead of the process dying mid-write.
namespace thg {

// Installs handlers for SIGINT and SIGTERM. A second signal while stopping kills the process.
void install_interrupt_handlers();
bool interrupt_requested();
// Throws Error(ErrorKind::Cancelled) when a stop was requested.
void throw_if_interrupted();
// For tests and embedders that cancel programmatically.
void request_interrupt();
void clear_interrupt();

}  // namespace thg
