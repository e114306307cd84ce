#pragma once
// Batch manifests: YAML (`defaults:` + `jobs:`), JSONL (one object per line) or CSV (header row),
// chosen by extension. All three are reduced to rows of field -> text and validated by one typed
// parser, so a job means the same in every format. Relative paths resolve against the manifest's
// folder; outputs are relative to the batch's output folder.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace thg::pipeline {

// Per-job generation settings: any row of the settings table (pipeline/settings.h), by its name,
// checked by the table (unset: the batch's defaults).
struct JobOptions {
  std::map<std::string, std::string> values;  // setting name -> value as written
  // Applies every set value onto `options` (values were checked when the manifest was read).
  void apply_to(struct GenerateOptions& options) const;
  // A canonical text of the set options (for reports).
  std::string canonical() const;
};

struct JobSpec {
  size_t index = 0;           // position in the manifest, 0-based
  std::string where;          // "line 4", "row 3", "jobs[2]": how problems refer to it
  std::filesystem::path portrait, audio;  // resolved against the manifest folder
  std::string output;         // as written: relative to the output folder
  JobOptions options;
  std::vector<std::string> problems;  // validation problems; a job with problems is not run
};

struct Manifest {
  std::filesystem::path path;
  std::vector<JobSpec> jobs;
};

// Reads and validates. A manifest that cannot be read or parsed at all throws Error::input; a
// bad row only gets problems (the other rows still run).
Manifest load_manifest(const std::filesystem::path& path);

// The same from text: `format` is "yaml", "jsonl" or "csv"; relative paths resolve against
// `base`; `name` names the manifest in messages (the fuzzing entry point).
Manifest parse_manifest(const std::string& text, const std::string& format, const std::filesystem::path& base,
                        const std::filesystem::path& name);

// Checks the output path of every job against `output_dir` (relative, no "..", inside the folder
// after resolving symlinks, .mp4, no two jobs with the same output) and adds problems.
void check_outputs(Manifest& manifest, const std::filesystem::path& output_dir);

}  // namespace thg::pipeline
