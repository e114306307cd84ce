#pragma once
// `batch`: many generate jobs from a manifest with one model load; resumable (a record per job
// with a fingerprint of its inputs, options and model), failures isolated, deterministic sharding
// across machines, and a machine-readable report.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "model/family.h"
#include "engine/generate.h"
#include "jobs/manifest.h"

namespace thg::pipeline {

struct Shard {
  int index = 0;  // 0-based
  int count = 1;
  bool owns(size_t job_index) const { return static_cast<int>(job_index % static_cast<size_t>(count)) == index; }
  std::string name() const { return std::to_string(index) + "-of-" + std::to_string(count); }
};

// "i/N" -> Shard; throws Error::input.
Shard parse_shard(const std::string& text);
// The shard from the environment: SLURM_ARRAY_TASK_ID (minus SLURM_ARRAY_TASK_MIN) of
// SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX of `shards` (Kubernetes Indexed Jobs).
std::optional<Shard> shard_from_environment(int shards);

struct BatchOptions {
  std::filesystem::path output_dir;
  Shard shard;
  GenerateOptions defaults;  // every job starts from these (portrait/audio/output ignored)
  std::string model_fingerprint;
  bool progress = true;
};

struct JobResult {
  size_t index = 0;
  std::string where;
  std::string output;     // relative to the output folder
  std::string status;     // "done", "skipped" (complete from an earlier run), "failed", "pending"
  std::string error;
  double seconds = 0;
  int64_t frames = 0;
  uint64_t seed = 0;
  std::string model;      // model fingerprint
  std::string job_hash;
  int face = -1;           // the face animated (-1: crop false, or not run)
  std::string face_box;    // "x y width height" in photo pixels
  int width = 0, height = 0;  // the video's picture
};

struct BatchReport {
  std::string shard;
  std::vector<JobResult> jobs;
  int count(const std::string& status) const;
};

// Runs the shard's jobs. Cancellation (SIGINT/SIGTERM) stops after cleaning up the current job and
// throws Error(Cancelled); everything finished before stays recorded.
BatchReport run_batch(const model::ModelFamily& model, const Manifest& manifest, const BatchOptions& options);

// A report of every job of the manifest from the records in the output folder (merging shards).
BatchReport collect_report(const Manifest& manifest, const BatchOptions& options);

// Writes report<suffix>.json and report<suffix>.csv in the output folder, atomically.
void write_report(const BatchReport& report, const std::filesystem::path& output_dir, const std::string& suffix);

// Fingerprint of the model a run uses: the weights file's bytes, or the config of a random init.
std::string model_fingerprint(const model::ModelFamily& model, const std::filesystem::path& weights,
                              bool random_weights);

}  // namespace thg::pipeline
