#include "jobs/batch.h"

#include "engine/settings.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "core/cancel.h"
#include "core/crash_point.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/progress.h"
#include "model/config.h"

namespace thg::pipeline {

namespace fs = std::filesystem;

namespace {

fs::path records_dir(const fs::path& output_dir) { return output_dir / ".thg-batch" / "jobs"; }

fs::path record_path(const fs::path& output_dir, const std::string& output) {
  return records_dir(output_dir) / (Fingerprint().add(output).hex() + ".json");
}


nlohmann::ordered_json to_json(const JobResult& r) {
  return {{"index", r.index}, {"where", r.where},     {"output", r.output}, {"status", r.status},
          {"error", r.error}, {"seconds", r.seconds}, {"frames", r.frames}, {"seed", r.seed},
          {"model", r.model}, {"job_hash", r.job_hash}, {"face", r.face}, {"face_box", r.face_box},
          {"width", r.width}, {"height", r.height}};
}

std::optional<nlohmann::json> read_record(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;  // a damaged record means "redo"
  return j;
}

// The options a job actually runs with: the batch defaults overridden by the job's own.
GenerateOptions effective_options(const JobSpec& job, const BatchOptions& b) {
  GenerateOptions o = b.defaults;
  o.portrait = job.portrait;
  o.audio = job.audio;
  o.output = b.output_dir / job.output;
  o.progress = false;
  job.options.apply_to(o);
  return o;
}

// Everything that determines the output bytes: input contents, every option, the model.
std::string job_hash(const GenerateOptions& o, const std::string& model) {
  // Every setting of the table, by name: a new setting changes no existing job's hash unless set.
  std::ostringstream opts;
  for (const auto& [name, value] : settings_text(o)) opts << name << '=' << value << ';';
  return Fingerprint().add_file(o.portrait).add_file(o.audio).add(opts.str()).add(model).hex();
}

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : "; ") + i;
  return s;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

Shard parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  try {
    if (slash != std::string::npos) {
      size_t used = 0;
      Shard s{std::stoi(text.substr(0, slash), &used), std::stoi(text.substr(slash + 1))};
      if (used == slash && s.count >= 1 && s.index >= 0 && s.index < s.count) return s;
    }
  } catch (const std::exception&) {
  }
  throw Error::input("", "--shard must be i/N with 0 <= i < N (got '" + text + "')");
}

std::optional<Shard> shard_from_environment(int shards) {
  auto env_int = [](const char* name) -> std::optional<int> {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    try {
      return std::stoi(v);
    } catch (const std::exception&) {
      throw Error::input("", std::string("environment variable ") + name + " is not a number: " + v);
    }
  };
  if (auto id = env_int("SLURM_ARRAY_TASK_ID")) {
    auto count = env_int("SLURM_ARRAY_TASK_COUNT");
    if (!count) throw Error::input("", "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
    const int min = env_int("SLURM_ARRAY_TASK_MIN").value_or(0);  // arrays may start at 1 (--array=1-8)
    Shard s{*id - min, *count};
    if (s.index < 0 || s.index >= s.count) throw Error::input("", "Slurm array task id out of range");
    return s;
  }
  if (auto index = env_int("JOB_COMPLETION_INDEX")) {
    if (shards < 1) throw Error::input("", "JOB_COMPLETION_INDEX is set: give the job count with --shards N");
    if (*index < 0 || *index >= shards) throw Error::input("", "JOB_COMPLETION_INDEX is out of range for --shards");
    return Shard{*index, shards};
  }
  return std::nullopt;
}

int BatchReport::count(const std::string& status) const {
  int n = 0;
  for (const auto& j : jobs) n += j.status == status ? 1 : 0;
  return n;
}

std::string model_fingerprint(const model::ModelFamily& model, const fs::path& weights, bool random_weights) {
  Fingerprint f;
  if (random_weights) f.add("random-init").add(model::to_yaml(model.config()));
  else f.add_file(weights);
  return f.hex();
}

BatchReport run_batch(const model::ModelFamily& model, const Manifest& manifest, const BatchOptions& b) {
  std::error_code ec;
  fs::create_directories(records_dir(b.output_dir), ec);
  if (ec) throw Error::input(b.output_dir.string(), "cannot create the output folder: " + ec.message());
  check_output_path(b.output_dir / "probe.mp4");  // writable?
  // What a run killed with SIGKILL left half-written among the batch's own files.
  remove_stale_temporaries_in(b.output_dir / ".thg-batch");
  remove_stale_temporaries_in(records_dir(b.output_dir));

  // The effective batch settings, beside the outputs (what produced them).
  nlohmann::ordered_json settings;
  settings["manifest"] = manifest.path.string();
  settings["model_fingerprint"] = b.model_fingerprint;
  settings["model_config"] = model::to_yaml(model.config());
  settings["shard"] = b.shard.name();
  const GenerateOptions& d = b.defaults;
  // The batch's own settings (unset ones take the model's defaults, in model_config above).
  settings["defaults"] = nlohmann::ordered_json::object();
  for (const auto& [name, value] : settings_text(d)) settings["defaults"][name] = value;
  write_file_atomically(b.output_dir / ".thg-batch" / ("settings." + b.shard.name() + ".json"), settings.dump(2) + "\n");

  BatchReport report;
  report.shard = b.shard.name();
  std::vector<const JobSpec*> mine;
  for (const auto& job : manifest.jobs)
    if (b.shard.owns(job.index)) mine.push_back(&job);
  std::unique_ptr<Progress> bar;
  if (b.progress) bar = std::make_unique<Progress>("batch", static_cast<int64_t>(mine.size()), "jobs");

  auto label = [&](const std::string& current) {
    if (!bar) return;
    bar->set_label("batch: " + std::to_string(report.count("done") + report.count("skipped")) + " ok, " +
                   std::to_string(report.count("failed")) + " failed, " +
                   std::to_string(mine.size() - report.jobs.size()) + " left" + current);
    bar->redraw();
  };
  for (const JobSpec* job : mine) {
    throw_if_interrupted();
    JobResult r;
    r.index = job->index;
    r.where = job->where;
    r.output = job->output;
    r.model = b.model_fingerprint;
    const auto start = std::chrono::steady_clock::now();
    try {
      if (!job->problems.empty()) throw Error::input(manifest.path.string() + " " + job->where, join(job->problems));
      const GenerateOptions options = effective_options(*job, b);
      r.seed = options.seed;
      r.job_hash = job_hash(options, b.model_fingerprint);
      const fs::path record = record_path(b.output_dir, job->output);
      if (auto old = read_record(record); old && old->value("status", "") == "done" &&
                                          old->value("job_hash", "") == r.job_hash &&
                                          fs::exists(options.output, ec) &&
                                          fs::file_size(options.output, ec) == old->value("bytes", uint64_t{0})) {
        r.status = "skipped";
        r.frames = old->value("frames", int64_t{0});
        r.seconds = old->value("seconds", 0.0);
        r.face = old->value("face", -1);
        r.face_box = old->value("face_box", "");
        r.width = old->value("width", 0);
        r.height = old->value("height", 0);
      } else {
        fs::create_directories(options.output.parent_path(), ec);
        remove_stale_temporaries(options.output);
        log::info("job " + job->where + ": " + job->output);
        GenerateOptions with_progress = options;
        with_progress.on_frames = [&](int64_t done, int64_t total) {
          label(" | " + job->output + ": " + std::to_string(done) + "/" + std::to_string(total) + " frames");
        };
        GenerateResult g = generate(model, with_progress);
        crash_point("batch.video_published");  // the video is in place, its record is not
        r.status = "done";
        r.frames = g.frames;
        r.face = g.face.index;
        if (g.face.index >= 0) {
          std::ostringstream box;
          box << std::lround(g.face.box.x) << ' ' << std::lround(g.face.box.y) << ' ' << std::lround(g.face.box.width)
              << ' ' << std::lround(g.face.box.height);
          r.face_box = box.str();
        }
        r.width = g.width;
        r.height = g.height;
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        auto json = to_json(r);
        json["bytes"] = fs::file_size(options.output);
        write_file_atomically(record, json.dump(2) + "\n");
        crash_point("batch.record_written");
      }
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Cancelled) throw;
      r.status = "failed";
      r.error = e.what();
    } catch (const std::exception& e) {
      // Includes running out of memory on this job's size: the next job may still fit.
      r.status = "failed";
      r.error = failure_message(e, generation_memory_advice());
    }
    if (r.status == "failed") {
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (job->problems.empty()) log::warn("job " + job->where + " failed: " + r.error);  // others listed up front
      write_file_atomically(record_path(b.output_dir, job->output.empty() ? job->where : job->output),
                        to_json(r).dump(2) + "\n");
    }
    report.jobs.push_back(r);
    label("");
    if (bar) bar->advance();
  }
  if (bar) bar->finish();
  return report;
}

BatchReport collect_report(const Manifest& manifest, const BatchOptions& b) {
  BatchReport report;
  report.shard = "all";
  for (const auto& job : manifest.jobs) {
    JobResult r;
    r.index = job.index;
    r.where = job.where;
    r.output = job.output;
    r.status = "pending";
    if (auto rec = read_record(record_path(b.output_dir, job.output.empty() ? job.where : job.output))) {
      r.status = rec->value("status", "pending");
      r.error = rec->value("error", "");
      r.seconds = rec->value("seconds", 0.0);
      r.frames = rec->value("frames", int64_t{0});
      r.seed = rec->value("seed", uint64_t{0});
      r.model = rec->value("model", "");
      r.job_hash = rec->value("job_hash", "");
      r.face = rec->value("face", -1);
      r.face_box = rec->value("face_box", "");
      r.width = rec->value("width", 0);
      r.height = rec->value("height", 0);
    }
    report.jobs.push_back(r);
  }
  return report;
}

void write_report(const BatchReport& report, const fs::path& output_dir, const std::string& suffix) {
  nlohmann::ordered_json j;
  j["shard"] = report.shard;
  j["done"] = report.count("done");
  j["skipped"] = report.count("skipped");
  j["failed"] = report.count("failed");
  j["pending"] = report.count("pending");
  j["jobs"] = nlohmann::ordered_json::array();
  for (const auto& r : report.jobs) j["jobs"].push_back(to_json(r));
  remove_stale_temporaries(output_dir / ("report" + suffix + ".json"));  // a killed run's
  remove_stale_temporaries(output_dir / ("report" + suffix + ".csv"));
  write_file_atomically(output_dir / ("report" + suffix + ".json"), j.dump(2) + "\n");
  std::ostringstream csv;
  csv << "index,where,output,status,error,seconds,frames,seed,model,job_hash,face,face_box,width,height\n";
  for (const auto& r : report.jobs)
    csv << r.index << ',' << csv_field(r.where) << ',' << csv_field(r.output) << ',' << r.status << ','
        << csv_field(r.error) << ',' << r.seconds << ',' << r.frames << ',' << r.seed << ',' << r.model << ','
        << r.job_hash << ',' << r.face << ',' << r.face_box << ',' << r.width << ',' << r.height << '\n';
  write_file_atomically(output_dir / ("report" + suffix + ".csv"), csv.str());
}

}  // namespace thg::pipeline
