#pragma once
// A job's upload: the multipart body streamed to disk under size caps (never held in memory), the
// files named by their role ("portrait", "audio"), never by the client's file name; then checked by
// decoding them, as `thg generate` would, before the job is queued.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "engine/generate.h"
#include "model/family.h"

namespace httplib {
struct Request;
class ContentReader;
}  // namespace httplib

namespace thg::serve {

struct Upload {
  std::filesystem::path folder;                       // holds "portrait" and/or "audio"
  std::map<std::string, std::string> fields;          // the text fields
  std::map<std::string, std::string> file_names;      // role -> the client's name (display only)
};

// Streams the multipart body into `folder`. Throws HttpError: 400 (not multipart, an unknown file
// field, too many or too long text fields), 413 (a file over `max_file_bytes`).
Upload receive_upload(const httplib::Request& request, const httplib::ContentReader& reader,
                      const std::filesystem::path& folder, int64_t max_file_bytes);

// A client's file name made safe to show: the last path component, printable ASCII, at most 100
// characters.
std::string display_name(const std::string& client_name);

struct CheckedJob {
  pipeline::GenerateOptions options;                        // the settings, validated
  std::vector<std::pair<std::string, std::string>> settings;  // as text, for the record
  double audio_seconds = 0;
};
// The upload as `thg generate` would take it: every text field a setting of the settings table,
// the portrait an image with a face, the audio decodable and not longer than `max_audio_seconds`.
// Throws HttpError 400 (bad setting, no face, too long) or 415 (not an image / not audio).
CheckedJob check_job_upload(const Upload& upload, const model::ModelFamily& model, double max_audio_seconds);

// The portrait alone, for a preview: the aligned crop the model animates, PNG bytes.
std::string face_preview_png(const Upload& upload, const model::ModelFamily& model);

}  // namespace thg::serve
