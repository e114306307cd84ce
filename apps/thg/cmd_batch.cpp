// thg batch MANIFEST --output-dir DIR: many videos, one model load, resumable, shardable.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "engine/settings.h"
#include "core/error.h"
#include "core/log.h"
#include "options.h"
#include "jobs/batch.h"

namespace thg::app {

namespace {

struct BatchCli {
  std::string manifest;
  std::string output_dir;
  std::string shard;
  int shards = 0;
  bool dry_run = false;
  bool merge_reports = false;
  bool json = false;
  pipeline::GenerateOptions defaults;
  pipeline::ModelSource model;
  std::string attention;
};

// Exit status when some jobs failed (the others completed): documented in --help.
constexpr int kSomeJobsFailed = 3;

int run_batch_command(const BatchCli& o, const GlobalOptions& global) {
  pipeline::Manifest manifest = pipeline::load_manifest(o.manifest);
  pipeline::check_outputs(manifest, o.output_dir);
  pipeline::BatchOptions b;
  b.output_dir = o.output_dir;
  b.defaults = o.defaults;
  b.progress = !global.quiet && !o.json;
  if (!o.shard.empty()) b.shard = pipeline::parse_shard(o.shard);
  else if (auto env = pipeline::shard_from_environment(o.shards)) b.shard = *env;
  else if (o.shards > 1) throw Error::input("", "--shards needs JOB_COMPLETION_INDEX (or use --shard i/N)");

  int problems = 0;
  for (const auto& job : manifest.jobs)
    for (const auto& p : job.problems) {
      ++problems;
      if (!global.quiet) std::fprintf(stderr, "thg: %s %s: %s\n", o.manifest.c_str(), job.where.c_str(), p.c_str());
    }

  if (o.merge_reports) {
    pipeline::BatchReport all = pipeline::collect_report(manifest, b);
    pipeline::write_report(all, b.output_dir, "");
    std::fprintf(stderr, "thg: merged report: %d done, %d failed, %d pending (%s/report.json)\n", all.count("done"),
                 all.count("failed"), all.count("pending"), o.output_dir.c_str());
    return all.count("failed") > 0 ? kSomeJobsFailed : 0;
  }
  if (o.dry_run) {
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (const auto& job : manifest.jobs)
      if (b.shard.owns(job.index))
        j.push_back({{"index", job.index}, {"where", job.where}, {"portrait", job.portrait.string()},
                     {"audio", job.audio.string()}, {"output", job.output}, {"options", job.options.canonical()},
                     {"problems", job.problems}});
    if (o.json) std::cout << j.dump(2) << "\n";
    else std::fprintf(stderr, "thg: %zu jobs in shard %s, %d problems\n", j.size(), b.shard.name().c_str(), problems);
    return problems > 0 ? 2 : 0;
  }

  pipeline::LoadedModel loaded = pipeline::load_model(o.model);
  apply_attention(o.attention, *loaded.model);
  b.model_fingerprint = pipeline::model_fingerprint(*loaded.model, loaded.weights, loaded.random_weights);
  pipeline::BatchReport report = pipeline::run_batch(*loaded.model, manifest, b);
  const std::string suffix = b.shard.count > 1 ? ".shard-" + b.shard.name() : "";
  pipeline::write_report(report, b.output_dir, suffix);
  if (o.json) {
    std::cout << nlohmann::json::parse(std::ifstream(std::filesystem::path(o.output_dir) / ("report" + suffix + ".json")))
                     .dump(2)
              << "\n";
  } else if (!global.quiet) {
    std::fprintf(stderr, "thg: batch shard %s: %d done, %d skipped (already complete), %d failed; report in %s\n",
                 b.shard.name().c_str(), report.count("done"), report.count("skipped"), report.count("failed"),
                 (std::filesystem::path(o.output_dir) / ("report" + suffix + ".json")).c_str());
  }
  return report.count("failed") > 0 ? kSomeJobsFailed : 0;
}

}  // namespace

Handler add_batch_command(CLI::App& app, const GlobalOptions& global) {
  auto o = std::make_shared<BatchCli>();
  app.add_option("manifest", o->manifest, "Jobs: .yaml (defaults: + jobs:), .jsonl or .csv")->required();
  app.add_option("-d,--output-dir", o->output_dir, "Folder that receives every output (jobs cannot escape it)")
      ->required();
  app.add_option("--shard", o->shard, "Run only shard i of N (jobs with index % N == i), e.g. 0/8");
  app.add_option("--shards", o->shards, "Shard count when the index comes from JOB_COMPLETION_INDEX (Kubernetes)");
  app.add_flag("--dry-run", o->dry_run, "Validate the manifest and list the shard's jobs; generate nothing");
  app.add_flag("--merge-reports", o->merge_reports, "Write report.json/.csv for every job from all shards' records");
  app.add_flag("--json", o->json, "Machine-readable output on stdout");
  add_generation_options(app, o->defaults);
  add_placement_options(app, o->defaults.placement);
  add_model_options(app, o->model, o->attention);
  std::string fields;  // every generation setting, from the settings table
  for (const pipeline::SettingInfo& row : pipeline::generation_settings()) fields += (fields.empty() ? "" : ", ") + std::string(row.name);
  app.footer(
      "Manifest fields: portrait, audio, output (required; paths relative to the manifest; output relative to\n"
      "--output-dir) and every generation setting, named as thg generate's flags with _ or -:\n" + fields + ".\n"
      "Resume: run the same command again; complete jobs with unchanged inputs, options and model are skipped.\n"
      "Sharding: --shard i/N, or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX with --shards N.\n"
      "Exit status: 0 all jobs done, 3 some jobs failed (see the report), 2 bad manifest or options, 130 interrupted.\n"
      "Examples:\n"
      "  thg batch jobs.yaml --output-dir out/\n"
      "  thg batch jobs.csv -d out/ --shard 3/16 --steps 20\n"
      "  thg batch jobs.jsonl -d out/ --merge-reports");
  return [o, &global] { return run_batch_command(*o, global); };
}

}  // namespace thg::app
