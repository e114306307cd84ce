#pragma once
// One server job (thg serve): what was asked, where it is, and what became of it. The record is
// the job's job.json in its folder (job_store.h), so a restarted server knows every job.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace thg::serve {

enum class JobState { Queued, Running, Done, Failed, Cancelled };
const char* state_name(JobState s);
// Throws Error::input for an unknown name (a damaged job.json).
JobState parse_state(const std::string& name);
bool is_final(JobState s);

struct JobRecord {
  std::string id;      // 16 hex digits, random
  std::string owner;   // fingerprint of the token that submitted it ("" without tokens)
  JobState state = JobState::Queued;
  std::string created, started, finished;  // UTC ISO 8601; empty: not yet
  int64_t sequence = 0;                    // submission order (restarts requeue in this order)
  std::string error;                       // the one-line reason of a failed job
  std::vector<std::pair<std::string, std::string>> settings;  // generation settings, as submitted
  std::string portrait_name, audio_name;   // the uploaded names, for display only (never paths)
  double audio_seconds = 0;
  int64_t frames = 0, frames_done = 0;
  double generate_seconds = 0;             // time spent generating so far (for the ETA)
};

nlohmann::json record_json(const JobRecord& r);
// Throws Error::input naming `source` when a field is missing or of the wrong type.
JobRecord record_from_json(const nlohmann::json& j, const std::string& source);

// The time now, UTC, ISO 8601 ("2026-12-04T10:40:00Z").
std::string utc_now();

}  // namespace thg::serve
