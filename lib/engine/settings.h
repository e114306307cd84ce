#pragma once
// The one table of generation settings. Every setting that generate() takes is a row here: its
// name (snake_case: a manifest field, a JSON key; the CLI flag is the same with dashes), its type
// and bounds, its help text and how it reads and writes GenerateOptions. The CLI flags, the batch
// manifest fields (YAML/JSONL/CSV), batch job hashes and settings files, and --json/--verbose
// summaries are all derived from it, so one setting has one name everywhere and every setting is
// settable per batch row.
#include <string>
#include <vector>

#include "engine/generate.h"

namespace thg::pipeline {

struct SettingInfo {
  enum class Type { Integer, Number, Text, Flag };
  const char* name;   // "guidance_ref"; the CLI flag is "--guidance-ref"
  Type type;
  double min = 0, max = 0;            // Integer and Number: inclusive bounds
  std::vector<std::string> choices;   // Text: the allowed values (empty: any)
  const char* help;
  // The option's value as text ("" when unset, i.e. the model's default applies).
  std::string (*get)(const GenerateOptions&);
  // Parses, checks and stores `text`. Throws Error::input "<name> must ..." on a bad value.
  void (*set)(GenerateOptions&, const std::string& text);

  std::string flag() const;  // "--" + name with '_' -> '-'
};

const std::vector<SettingInfo>& generation_settings();
// The row named `name` (underscores or dashes), or null.
const SettingInfo* find_setting(const std::string& name);

// name -> value of every setting that is set (for job hashes, settings files and summaries).
std::vector<std::pair<std::string, std::string>> settings_text(const GenerateOptions& options);

}  // namespace thg::pipeline
