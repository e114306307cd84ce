#pragma once
// Publishing an output file so that no reader ever sees a partial one: write to a temporary name
// in the same folder, fsync, rename over the final name, fsync the folder. If the object is
// destroyed without commit() (error, interrupt), the temporary file is removed.
#include <filesystem>
#include <string>

namespace thg {

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path final_path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::filesystem::path& temp_path() const { return temp_; }
  const std::filesystem::path& final_path() const { return final_; }
  // fsyncs the temporary file, renames it to the final name and fsyncs the folder.
  void commit();
  // Removes the temporary file now (also done by the destructor).
  void discard() noexcept;

 private:
  std::filesystem::path final_;
  std::filesystem::path temp_;
  bool committed_ = false;
};

// Writes `bytes` to `path` through an AtomicFile (reports, manifests, records). Throws
// Error::failure naming the file when it cannot be written (disk full, size limit).
void write_file_atomically(const std::filesystem::path& path, const std::string& bytes);

// Removes the temporaries that writers of `final_path` killed with SIGKILL (or a power cut) left
// beside it (AtomicFile's naming: ".<stem>.tmp-<16 hex><ext>"). Resumable work calls this before
// writing a file again, so a resumed run leaves nothing behind.
void remove_stale_temporaries(const std::filesystem::path& final_path);
// The same for every AtomicFile temporary in `folder` (not recursive): for folders that only the
// program itself writes (batch records), where any temporary is a leftover.
void remove_stale_temporaries_in(const std::filesystem::path& folder);

// Checks, before any work, that `path` can be created: its folder exists and is writable, and
// it is not an existing folder. Throws Error::input naming the path otherwise.
void check_output_path(const std::filesystem::path& path);

// True when both paths name the same existing file (symlinks and hard links included).
bool same_file(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace thg
