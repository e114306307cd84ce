#include "serve/public_message.h"

#include "core/error.h"
#include "core/failure_message.h"
#include "engine/generate.h"

namespace thg::serve {

namespace {
void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}
}  // namespace

std::string public_message(const std::exception& e, const std::filesystem::path& folder) {
  std::string m = failure_message(e, pipeline::generation_memory_advice());
  // Longest first: the files, then their folder, then the folders above it.
  replace_all(m, (folder / "portrait").string(), "portrait");
  replace_all(m, (folder / "audio").string(), "audio");
  replace_all(m, (folder / "video.mp4").string(), "video");
  replace_all(m, folder.string(), "job");
  replace_all(m, folder.parent_path().parent_path().string(), "data");
  return m;
}

}  // namespace thg::serve
