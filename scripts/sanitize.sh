#!/usr/bin/env bash
# Builds the library, CLI and tests with ASan + UBSan into build-asan/ and runs the test suite
# under them (extra ctest arguments are passed through, e.g. -R to select tests).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
THG_BUILD_DIR="$THG_ROOT/build-asan" "$THG_ROOT/scripts/build.sh" -DTHG_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
# Leaks: libtorch's globals are suppressed; halt on the first UBSan report like on an ASan one.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$THG_ROOT/fuzz/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
ctest --test-dir "$THG_ROOT/build-asan" --output-on-failure -j"$(nproc)" "$@"
