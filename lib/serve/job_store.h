#pragma once
// Where a server's jobs live: <data-dir>/jobs/<id>/ holds job.json (the record), portrait and
// audio (the uploads, named by role: an uploaded file name is never a path here) and video.mp4
// once done. Uploads in progress go to <data-dir>/incoming/ and move into jobs/ only when
// accepted, so a crash or a refused upload leaves nothing in jobs/.
#include <filesystem>
#include <string>
#include <vector>

#include "serve/job.h"

namespace thg::serve {

class JobStore {
 public:
  // Creates the folders; removes what interrupted uploads left in incoming/.
  explicit JobStore(std::filesystem::path data_dir);

  const std::filesystem::path& data_dir() const { return data_dir_; }
  std::filesystem::path folder(const std::string& id) const;
  std::filesystem::path portrait(const std::string& id) const { return folder(id) / "portrait"; }
  std::filesystem::path audio(const std::string& id) const { return folder(id) / "audio"; }
  std::filesystem::path video(const std::string& id) const { return folder(id) / "video.mp4"; }

  // A fresh folder under incoming/ for one upload (removed by the caller, or adopted by accept()).
  std::filesystem::path new_incoming() const;
  // Moves an upload's folder (with portrait and audio) into jobs/<record.id>/ and writes the record.
  void accept(const std::filesystem::path& incoming, const JobRecord& record);

  void save(const JobRecord& record) const;  // job.json, atomically
  // Every job with a readable record, in submission order; folders without one (a crash between
  // the move and the record) are removed, damaged records are reported and skipped.
  std::vector<JobRecord> load_all() const;
  // Deletes the job's folder and everything in it.
  void remove(const std::string& id) const;

  static std::string new_id();  // 16 random hex digits
  static bool valid_id(const std::string& id);

 private:
  std::filesystem::path data_dir_;
};

}  // namespace thg::serve
