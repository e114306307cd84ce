#include "core/atomic_file.h"

#include <fstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <cctype>
#include <functional>
#include <random>

#include "core/error.h"

namespace fs = std::filesystem;

namespace thg {

namespace {
std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

void fsync_path(const fs::path& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw Error::failure(path.string(), std::string("cannot open for fsync: ") + std::strerror(errno));
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  // EINVAL: the file system does not support fsync on this kind of file (some folders); not an error.
  if (rc != 0 && saved != EINVAL)
    throw Error::failure(path.string(), std::string("fsync failed: ") + std::strerror(saved));
}

fs::path parent_or_dot(const fs::path& p) {
  fs::path parent = p.parent_path();
  return parent.empty() ? fs::path(".") : parent;
}
}  // namespace

AtomicFile::AtomicFile(fs::path final_path) : final_(std::move(final_path)) {
  // Hidden, in the same folder (rename must not cross file systems), keeping the extension so
  // that tools which pick a format by extension (FFmpeg's muxers) still do.
  temp_ = parent_or_dot(final_) / ("." + final_.stem().string() + ".tmp-" + random_suffix() + final_.extension().string());
}

AtomicFile::~AtomicFile() {
  if (!committed_) discard();
}

void AtomicFile::discard() noexcept {
  std::error_code ec;
  fs::remove(temp_, ec);
}

void AtomicFile::commit() {
  fsync_path(temp_, O_RDONLY);
  std::error_code ec;
  fs::rename(temp_, final_, ec);
  if (ec) throw Error::failure(final_.string(), "cannot move the finished output into place: " + ec.message());
  committed_ = true;
  fsync_path(parent_or_dot(final_), O_RDONLY | O_DIRECTORY);
}

namespace {
// The final name an AtomicFile temporary stands for (".<stem>.tmp-<16 hex digits><ext>" ->
// "<stem><ext>"), or empty when `name` is not one.
std::string final_name_of_temporary(const std::string& name) {
  const size_t marker = name.rfind(".tmp-");
  if (name.size() < 2 || name[0] != '.' || marker == std::string::npos || marker < 2 ||
      name.size() < marker + 5 + 16)
    return {};
  const std::string hex = name.substr(marker + 5, 16), ext = name.substr(marker + 5 + 16);
  if (!std::all_of(hex.begin(), hex.end(), [](unsigned char c) { return std::isxdigit(c) != 0; }) ||
      (!ext.empty() && ext[0] != '.'))
    return {};
  return name.substr(1, marker - 1) + ext;
}

void remove_temporaries_where(const fs::path& folder, const std::function<bool(const std::string&)>& stands_for) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string final_name = final_name_of_temporary(entry.path().filename().string());
    if (!final_name.empty() && stands_for(final_name)) fs::remove(entry.path(), ec);
  }
}
}  // namespace

void remove_stale_temporaries(const fs::path& final_path) {
  const std::string name = final_path.filename().string();
  remove_temporaries_where(parent_or_dot(final_path), [&](const std::string& final_name) { return final_name == name; });
}

void remove_stale_temporaries_in(const fs::path& folder) {
  remove_temporaries_where(folder, [](const std::string&) { return true; });
}

void check_output_path(const fs::path& path) {
  if (path.empty()) throw Error::input("", "output path is empty");
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw Error::input(path.string(), "output path is a folder");
  fs::path folder = parent_or_dot(path);
  if (!fs::exists(folder, ec)) throw Error::input(path.string(), "output folder does not exist: " + folder.string());
  if (!fs::is_directory(folder, ec)) throw Error::input(path.string(), "output folder is not a folder: " + folder.string());
  if (::access(folder.c_str(), W_OK | X_OK) != 0)
    throw Error::input(path.string(), "output folder is not writable: " + folder.string());
}

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  bool same = fs::equivalent(a, b, ec);
  return !ec && same;
}

void write_file_atomically(const std::filesystem::path& path, const std::string& bytes) {
  AtomicFile file(path);
  {
    std::ofstream out(file.temp_path(), std::ios::binary);
    out << bytes;
    if (!out.flush()) throw Error::failure(path.string(), "cannot write the file (disk full?)");
  }
  file.commit();
}

}  // namespace thg
