# Sourced by the other scripts: where dependencies and the build live, and ccache settings that
# let every clone on this machine share one cache.
THG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
THG_DEPS=${THG_DEPS:-$HOME/.cache/thg}
THG_VENV="$THG_DEPS/venv"
THG_BUILD_DIR=${THG_BUILD_DIR:-$THG_ROOT/build}
export CCACHE_DIR=${CCACHE_DIR:-$THG_DEPS/ccache}
export CCACHE_BASEDIR="$THG_ROOT"   # paths relative to the clone: fresh clones hit the cache
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
# Debug builds (sanitizer, fuzz) embed the working directory; without this every clone misses the
# cache. The only cost: debug info may name another clone's path.
export CCACHE_NOHASHDIR=true
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
