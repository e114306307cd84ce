#include "core/atomic_file.h"

#include <fstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <cctype>
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
// ".<stem>.tmp-<16 hex digits><ext>": what AtomicFile names its temporaries.
bool is_temporary_name(const std::string& name, const std::string& stem, const std::string& ext) {
  const std::string prefix = "." + stem + ".tmp-";
  if (name.size() != prefix.size() + 16 + ext.size() || name.rfind(prefix, 0) != 0 ||
      name.compare(name.size() - ext.size(), ext.size(), ext) != 0)
    return false;
  return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()),
                     name.begin() + static_cast<std::ptrdiff_t>(prefix.size() + 16),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}
}  // namespace

void remove_stale_temporaries(const fs::path& final_path) {
  std::error_code ec;
  const std::string stem = final_path.stem().string(), ext = final_path.extension().string();
  for (const auto& entry : fs::directory_iterator(parent_or_dot(final_path), ec))
    if (is_temporary_name(entry.path().filename().string(), stem, ext)) fs::remove(entry.path(), ec);
}

void remove_stale_temporaries_in(const fs::path& folder) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    const auto marker = name.find(".tmp-");
    if (name.empty() || name[0] != '.' || marker == std::string::npos || marker < 1) continue;
    const std::string ext = name.size() > marker + 5 + 16 ? name.substr(marker + 5 + 16) : "";
    if (is_temporary_name(name, name.substr(1, marker - 1), ext)) fs::remove(entry.path(), ec);
  }
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
