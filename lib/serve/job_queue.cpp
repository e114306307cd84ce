#include "serve/job_queue.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.h"
#include "core/failure_message.h"
#include "core/log.h"
#include "engine/generate.h"
#include "engine/settings.h"
#include "serve/public_message.h"

namespace thg::serve {

JobQueue::JobQueue(const model::ModelFamily& model, JobStore& store, Options options)
    : model_(model), store_(store), options_(options) {}

JobQueue::~JobQueue() { stop(); }

void JobQueue::start() {
  {
    std::lock_guard lock(mutex_);
    for (JobRecord& r : store_.load_all()) {
      next_sequence_ = std::max(next_sequence_, r.sequence + 1);
      if (r.state == JobState::Cancelled) {  // a cancel interrupted by a crash: finish it
        store_.remove(r.id);
        continue;
      }
      if (!is_final(r.state)) {
        r.state = JobState::Queued;
        r.started.clear();
        r.frames_done = 0;
        r.generate_seconds = 0;
        store_.save(r);
        queue_.push_back(r.id);
      }
      const std::string id = r.id;
      jobs_[id] = Entry{std::move(r), nullptr, false, 1};
    }
    stopping_ = false;
  }
  worker_ = std::thread([this] { work(); });
}

void JobQueue::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [id, e] : jobs_)
      if (e.cancel) e.cancel->cancel();
  }
  work_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

JobView JobQueue::submit(JobRecord record, const std::filesystem::path& incoming) {
  std::lock_guard lock(mutex_);
  if (queue_.size() >= options_.capacity) {
    const double wait = recent_job_seconds_ * static_cast<double>(queue_.size()) / 2;
    throw QueueFull(static_cast<int>(std::clamp(std::ceil(wait), 1.0, 3600.0)));
  }
  record.sequence = next_sequence_++;
  record.state = JobState::Queued;
  record.created = utc_now();
  store_.accept(incoming, record);
  const std::string id = record.id;
  Entry& e = jobs_[id] = Entry{std::move(record), nullptr, false, 1};
  queue_.push_back(id);
  work_cv_.notify_all();
  return view(e);
}

std::optional<JobView> JobQueue::find(const std::string& id, const std::string& owner) const {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.record.owner != owner || it->second.deleting) return std::nullopt;
  return view(it->second);
}

std::vector<JobView> JobQueue::list(const std::string& owner) const {
  std::lock_guard lock(mutex_);
  std::vector<JobView> out;
  for (const auto& [id, e] : jobs_)
    if (e.record.owner == owner && !e.deleting) out.push_back(view(e));
  std::sort(out.begin(), out.end(), [](const JobView& a, const JobView& b) { return a.record.sequence > b.record.sequence; });
  return out;
}

bool JobQueue::remove(const std::string& id, const std::string& owner) {
  std::unique_lock lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.record.owner != owner || it->second.deleting) return false;
  Entry& e = it->second;
  if (e.record.state == JobState::Running) {
    // The worker owns the files while it generates: ask it to stop and wait for it to clear them.
    e.deleting = true;
    if (e.cancel) e.cancel->cancel();
    change_cv_.notify_all();
    change_cv_.wait(lock, [&] { return jobs_.find(id) == jobs_.end(); });
    return true;
  }
  queue_.erase(std::remove(queue_.begin(), queue_.end(), id), queue_.end());
  e.deleting = true;
  changed(e);
  for (auto& [other, entry] : jobs_)  // the jobs behind it moved up a place
    if (entry.record.state == JobState::Queued) changed(entry);
  jobs_.erase(it);
  store_.remove(id);
  change_cv_.notify_all();
  return true;
}

std::optional<JobView> JobQueue::wait_for_change(const std::string& id, const std::string& owner, uint64_t seen,
                                                 std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  const auto alive = [&] {
    auto it = jobs_.find(id);
    return it != jobs_.end() && it->second.record.owner == owner && !it->second.deleting;
  };
  change_cv_.wait_for(lock, timeout, [&] { return !alive() || jobs_.at(id).version != seen || stopping_; });
  if (!alive()) return std::nullopt;
  return view(jobs_.at(id));
}

JobQueue::Counts JobQueue::counts() const {
  std::lock_guard lock(mutex_);
  Counts c;
  c.capacity = options_.capacity;
  c.queued = queue_.size();
  for (const auto& [id, e] : jobs_) c.running += e.record.state == JobState::Running ? 1 : 0;
  return c;
}

JobView JobQueue::view(const Entry& e) const {
  JobView v;
  v.record = e.record;
  v.version = e.version;
  if (e.record.state == JobState::Queued) {
    auto it = std::find(queue_.begin(), queue_.end(), e.record.id);
    if (it != queue_.end()) v.position = it - queue_.begin();
  }
  if (e.record.state == JobState::Done) v.progress = 1;
  else if (e.record.frames > 0) v.progress = static_cast<double>(e.record.frames_done) / static_cast<double>(e.record.frames);
  if (e.record.state == JobState::Running && e.record.frames_done > 0)
    v.eta_seconds = e.record.generate_seconds / static_cast<double>(e.record.frames_done) *
                    static_cast<double>(e.record.frames - e.record.frames_done);
  return v;
}

void JobQueue::changed(Entry& e) {
  ++e.version;
  change_cv_.notify_all();
}

void JobQueue::save_or_log(const JobRecord& record) {
  try {
    store_.save(record);
  } catch (const std::exception& e) {  // disk full: the job's state lives on in memory
    log::warn("job " + record.id + ": cannot write its record: " + e.what());
  }
}

void JobQueue::work() {
  for (;;) {
    std::string id;
    {
      std::unique_lock lock(mutex_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      id = queue_.front();
      queue_.pop_front();
      Entry& e = jobs_.at(id);
      e.record.state = JobState::Running;
      e.record.started = utc_now();
      e.cancel = std::make_shared<CancelToken>();
      save_or_log(e.record);
      changed(e);
      // Every queued job moved up a place.
      for (auto& [other, entry] : jobs_)
        if (entry.record.state == JobState::Queued) changed(entry);
    }
    run(id);
  }
}

void JobQueue::run(const std::string& id) {
  pipeline::GenerateOptions o;
  std::shared_ptr<CancelToken> cancel;
  {
    std::lock_guard lock(mutex_);
    const Entry& e = jobs_.at(id);
    for (const auto& [name, value] : e.record.settings)
      if (const pipeline::SettingInfo* s = pipeline::find_setting(name)) s->set(o, value);
    cancel = e.cancel;
  }
  o.portrait = store_.portrait(id);
  o.audio = store_.audio(id);
  o.output = store_.video(id);
  o.max_audio_seconds = std::min(o.max_audio_seconds, options_.max_audio_seconds);
  o.progress = false;
  o.cancel = cancel;
  const auto t0 = std::chrono::steady_clock::now();
  o.on_frames = [&](int64_t done, int64_t total) {
    std::lock_guard lock(mutex_);
    Entry& e = jobs_.at(id);
    e.record.frames_done = done;
    e.record.frames = total;
    e.record.generate_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    changed(e);
  };
  JobState outcome = JobState::Done;
  std::string error;
  try {
    pipeline::generate(model_, o);
  } catch (const Error& e) {
    outcome = e.kind() == ErrorKind::Cancelled ? JobState::Cancelled : JobState::Failed;
    error = public_message(e, store_.folder(id));
  } catch (const std::exception& e) {
    outcome = JobState::Failed;
    error = public_message(e, store_.folder(id));
  }
  std::lock_guard lock(mutex_);
  Entry& e = jobs_.at(id);
  e.cancel.reset();
  if (e.deleting) {  // DELETE while it ran: nothing of it stays
    store_.remove(id);
    jobs_.erase(id);
    change_cv_.notify_all();
    return;
  }
  if (outcome == JobState::Cancelled) {  // the server stops: run it again after the restart
    e.record.state = JobState::Queued;
    e.record.started.clear();
    e.record.frames_done = 0;
    e.record.generate_seconds = 0;
    queue_.push_front(id);
    save_or_log(e.record);
    changed(e);
    return;
  }
  e.record.state = outcome;
  e.record.error = error;
  e.record.finished = utc_now();
  if (outcome == JobState::Done) {
    e.record.frames_done = e.record.frames;
    recent_job_seconds_ = 0.7 * recent_job_seconds_ + 0.3 * e.record.generate_seconds;
  } else {
    log::warn("job " + id + " failed: " + error);
  }
  save_or_log(e.record);
  changed(e);
}

}  // namespace thg::serve
