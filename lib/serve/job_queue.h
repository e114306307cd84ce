#pragma once
// The server's jobs: a bounded FIFO queue in front of one worker thread that runs them one at a
// time on the one loaded model (a second generation beside the first would only halve both on a
// CPU and double the memory on a GPU). Every change is written to the job's record (job_store.h),
// so a restarted server keeps finished results and runs unfinished jobs again, in their order.
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/cancel.h"
#include "model/family.h"
#include "serve/job.h"
#include "serve/job_store.h"

namespace thg::serve {

// submit() on a full queue; retry_after_seconds estimates when a place frees up.
class QueueFull : public std::runtime_error {
 public:
  explicit QueueFull(int retry_after) : std::runtime_error("the job queue is full"), retry_after_seconds(retry_after) {}
  int retry_after_seconds;
};

struct JobView {
  JobRecord record;
  int64_t position = -1;     // jobs ahead of it in the queue (queued jobs), else -1
  double eta_seconds = -1;   // running: seconds left, from the pace so far; -1: unknown
  double progress = 0;       // frames done / frames (1 when done)
  uint64_t version = 0;      // changes whenever the job does (for server-sent events)
};

class JobQueue {
 public:
  struct Options {
    size_t capacity = 16;             // queued jobs (the running one not counted)
    double max_audio_seconds = 600;   // the cap on every job's audio
  };
  JobQueue(const model::ModelFamily& model, JobStore& store, Options options);
  ~JobQueue();

  // Loads the store's jobs (unfinished ones back into the queue) and starts the worker.
  void start();
  // Stops the worker; a running job is cancelled and stays queued on disk for the next start.
  void stop();

  // A validated upload (`incoming` holds portrait and audio) becomes a queued job.
  // Throws QueueFull when `capacity` jobs are already waiting (nothing is moved then).
  JobView submit(JobRecord record, const std::filesystem::path& incoming);
  // The job if it exists and belongs to `owner`.
  std::optional<JobView> find(const std::string& id, const std::string& owner) const;
  std::vector<JobView> list(const std::string& owner) const;  // newest first
  // Cancels (queued or running) or deletes (finished) the job; returns once nothing of it is left
  // on disk. False when there is no such job for `owner`.
  bool remove(const std::string& id, const std::string& owner);
  // Blocks until the job's version differs from `seen` or `timeout` passes; the job as it is then
  // (nullopt: gone).
  std::optional<JobView> wait_for_change(const std::string& id, const std::string& owner, uint64_t seen,
                                         std::chrono::milliseconds timeout) const;

  struct Counts {
    size_t queued = 0, running = 0, capacity = 0;
  };
  Counts counts() const;

 private:
  struct Entry {
    JobRecord record;
    std::shared_ptr<CancelToken> cancel;
    bool deleting = false;
    uint64_t version = 1;
  };
  void work();
  void run(const std::string& id);
  JobView view(const Entry& e) const;  // with mutex_ held
  void changed(Entry& e);              // with mutex_ held
  void save_or_log(const JobRecord& record);  // the worker must not die of a full disk

  const model::ModelFamily& model_;
  JobStore& store_;
  Options options_;
  mutable std::mutex mutex_;
  mutable std::condition_variable work_cv_, change_cv_;
  std::map<std::string, Entry> jobs_;
  std::deque<std::string> queue_;
  int64_t next_sequence_ = 1;
  double recent_job_seconds_ = 10;  // for Retry-After
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace thg::serve
