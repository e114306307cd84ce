#pragma once
// The web page's files (lib/serve/web/), compiled into the binary by CMake (cmake/embed_files.cmake)
// so that `thg serve` needs nothing on disk and fetches nothing from outside the machine.
#include <cstddef>
#include <vector>

namespace thg::serve {

struct WebAsset {
  const char* path;          // "/" for index.html, else "/<file name>"
  const char* content_type;  // "text/html; charset=utf-8", ...
  const unsigned char* data;
  size_t size;
};

const std::vector<WebAsset>& web_assets();

}  // namespace thg::serve
