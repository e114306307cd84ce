#include "serve/job.h"

#include <ctime>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace thg::serve {

const char* state_name(JobState s) {
  switch (s) {
    case JobState::Queued: return "queued";
    case JobState::Running: return "running";
    case JobState::Done: return "done";
    case JobState::Failed: return "failed";
    case JobState::Cancelled: return "cancelled";
  }
  return "?";
}

JobState parse_state(const std::string& name) {
  for (JobState s : {JobState::Queued, JobState::Running, JobState::Done, JobState::Failed, JobState::Cancelled})
    if (name == state_name(s)) return s;
  throw Error::input("", "unknown job state '" + name + "'");
}

bool is_final(JobState s) { return s == JobState::Done || s == JobState::Failed || s == JobState::Cancelled; }

nlohmann::json record_json(const JobRecord& r) {
  nlohmann::json settings = nlohmann::json::object();
  for (const auto& [k, v] : r.settings) settings[k] = v;
  return {{"id", r.id},
          {"owner", r.owner},
          {"state", state_name(r.state)},
          {"created", r.created},
          {"started", r.started},
          {"finished", r.finished},
          {"sequence", r.sequence},
          {"error", r.error},
          {"settings", settings},
          {"portrait_name", r.portrait_name},
          {"audio_name", r.audio_name},
          {"audio_seconds", r.audio_seconds},
          {"frames", r.frames},
          {"frames_done", r.frames_done},
          {"generate_seconds", r.generate_seconds}};
}

JobRecord record_from_json(const nlohmann::json& j, const std::string& source) {
  try {
    JobRecord r;
    r.id = j.at("id").get<std::string>();
    r.owner = j.at("owner").get<std::string>();
    r.state = parse_state(j.at("state").get<std::string>());
    r.created = j.at("created").get<std::string>();
    r.started = j.at("started").get<std::string>();
    r.finished = j.at("finished").get<std::string>();
    r.sequence = j.at("sequence").get<int64_t>();
    r.error = j.at("error").get<std::string>();
    for (const auto& [k, v] : j.at("settings").items()) r.settings.emplace_back(k, v.get<std::string>());
    r.portrait_name = j.at("portrait_name").get<std::string>();
    r.audio_name = j.at("audio_name").get<std::string>();
    r.audio_seconds = j.at("audio_seconds").get<double>();
    r.frames = j.at("frames").get<int64_t>();
    r.frames_done = j.at("frames_done").get<int64_t>();
    r.generate_seconds = j.at("generate_seconds").get<double>();
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw Error::input(source, std::string("not a job record: ") + e.what());
  }
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

}  // namespace thg::serve
