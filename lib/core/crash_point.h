#pragma once
// Fault injection for the tests of resumable work. When the environment variable THG_CRASH_AT
// names `point`, the process kills itself there with SIGKILL (no destructors, no flushing), as a
// power cut or the kernel's OOM killer would. The tests use it to stop a run exactly between two
// steps whose order matters (a video published but its record not yet written), which a timer
// cannot hit reliably. Unset, it costs one getenv per call.
namespace thg {

void crash_point(const char* point);

}  // namespace thg
