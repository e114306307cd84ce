#include "serve/job_store.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"

namespace thg::serve {

namespace fs = std::filesystem;

JobStore::JobStore(fs::path data_dir) : data_dir_(std::move(data_dir)) {
  std::error_code ec;
  fs::create_directories(data_dir_ / "jobs", ec);
  if (!ec) fs::create_directories(data_dir_ / "incoming", ec);
  if (ec) throw Error::input(data_dir_.string(), "cannot create the data folder: " + ec.message());
  for (const auto& entry : fs::directory_iterator(data_dir_ / "incoming")) fs::remove_all(entry.path(), ec);
}

fs::path JobStore::folder(const std::string& id) const {
  if (!valid_id(id)) throw Error::input("", "not a job id");
  return data_dir_ / "jobs" / id;
}

fs::path JobStore::new_incoming() const {
  fs::path p = data_dir_ / "incoming" / new_id();
  fs::create_directories(p);
  return p;
}

void JobStore::accept(const fs::path& incoming, const JobRecord& record) {
  fs::rename(incoming, folder(record.id));
  try {
    save(record);
  } catch (...) {  // disk full: no folder without its record
    std::error_code ec;
    fs::remove_all(folder(record.id), ec);
    throw;
  }
}

void JobStore::save(const JobRecord& record) const {
  write_file_atomically(folder(record.id) / "job.json", record_json(record).dump(2) + "\n");
}

std::vector<JobRecord> JobStore::load_all() const {
  std::vector<JobRecord> jobs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(data_dir_ / "jobs")) {
    const std::string id = entry.path().filename().string();
    const fs::path file = entry.path() / "job.json";
    if (!valid_id(id) || !fs::exists(file)) {
      fs::remove_all(entry.path(), ec);
      continue;
    }
    try {
      std::ifstream in(file);
      std::stringstream text;
      text << in.rdbuf();
      JobRecord r = record_from_json(nlohmann::json::parse(text.str()), file.string());
      if (r.id != id) throw Error::input(file.string(), "its id is not its folder's name");
      remove_stale_temporaries_in(entry.path());
      jobs.push_back(std::move(r));
    } catch (const std::exception& e) {
      log::warn("skipping job " + id + ": " + e.what());
    }
  }
  std::sort(jobs.begin(), jobs.end(), [](const JobRecord& a, const JobRecord& b) { return a.sequence < b.sequence; });
  return jobs;
}

void JobStore::remove(const std::string& id) const {
  std::error_code ec;
  fs::remove_all(folder(id), ec);
}

std::string JobStore::new_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32)};
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(rng()));
  return b;
}

bool JobStore::valid_id(const std::string& id) {
  return id.size() == 16 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace thg::serve
