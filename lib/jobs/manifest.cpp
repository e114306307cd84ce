#include "jobs/manifest.h"

#include "engine/settings.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/strict_json.h"

namespace thg::pipeline {

namespace fs = std::filesystem;

namespace {

using Row = std::map<std::string, std::string>;

struct RawRow {
  std::string where;
  Row fields;
};

std::string normalise_key(std::string key) {
  std::replace(key.begin(), key.end(), '-', '_');
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
  return key;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error::input(path.string(), std::filesystem::exists(path) ? "cannot read the manifest" : "file not found");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// --- YAML: a mapping with optional `defaults:` and a `jobs:` list of mappings.
std::vector<RawRow> yaml_rows_unchecked(const std::string& text, const fs::path& path) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error::input(path.string(), "not valid YAML (line " + std::to_string(e.mark.line + 1) + ": " + e.msg + ")");
  }
  if (!root.IsMap() || !root["jobs"] || !root["jobs"].IsSequence())
    throw Error::input(path.string(), "a YAML manifest needs a `jobs:` list (and optionally `defaults:`)");
  for (const auto& kv : root)
    if (!kv.first.IsScalar() || (kv.first.Scalar() != "jobs" && kv.first.Scalar() != "defaults"))
      throw Error::input(path.string(), "unknown top-level key (only `defaults:` and `jobs:`)");
  // A job is a mapping of plain names to single values; anything else is that row's problem.
  // Reads one into `out`; false when it is not such a mapping. A key named twice (yaml-cpp keeps
  // both; which one wins is not the user's intent) is reported in `duplicate`.
  auto scalars = [](const YAML::Node& node, Row& out, std::string& duplicate) {
    if (!node.IsMap()) return false;
    for (const auto& kv : node) {
      if (!kv.first.IsScalar() || !kv.second.IsScalar()) return false;
      if (!out.emplace(normalise_key(kv.first.Scalar()), kv.second.Scalar()).second && duplicate.empty())
        duplicate = kv.first.Scalar();
    }
    return true;
  };
  Row defaults;
  if (std::string duplicate; root["defaults"]) {
    if (!scalars(root["defaults"], defaults, duplicate))
      throw Error::input(path.string(), "`defaults:` must map option names to single values");
    if (!duplicate.empty()) throw Error::input(path.string(), "`defaults:` names '" + duplicate + "' twice");
  }
  std::vector<RawRow> rows;
  for (size_t i = 0; i < root["jobs"].size(); ++i) {
    RawRow row{"jobs[" + std::to_string(i) + "] (line " + std::to_string(root["jobs"][i].Mark().line + 1) + ")",
               defaults};
    Row own;
    std::string duplicate;
    if (!scalars(root["jobs"][i], own, duplicate)) {
      row.fields = {{"__invalid__", "a job must map option names to single values"}};
    } else if (!duplicate.empty()) {
      row.fields = {{"__invalid__", "field '" + duplicate + "' appears twice"}};
    } else {
      for (auto& [k, v] : own) row.fields[k] = v;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<RawRow> yaml_rows(const std::string& text, const fs::path& path) {
  try {
    return yaml_rows_unchecked(text, path);
  } catch (const YAML::Exception& e) {  // node kinds the checks did not foresee: the file's fault
    throw Error::input(path.string(), "invalid manifest (line " + std::to_string(e.mark.line + 1) + ": " + e.msg + ")");
  }
}

// --- JSONL: one JSON object per non-empty line.
std::vector<RawRow> jsonl_rows(const std::string& text) {
  std::vector<RawRow> rows;
  std::istringstream in(text);
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    RawRow row{"line " + std::to_string(n), {}};
    StrictJson parsed = parse_json_strict(line);
    const nlohmann::json& j = parsed.value;
    if (j.is_discarded() || !j.is_object()) {
      row.fields = {{"__invalid__", "not a JSON object"}};
    } else if (!parsed.duplicate_key.empty()) {
      row.fields = {{"__invalid__", "field '" + parsed.duplicate_key + "' appears twice"}};
    } else {
      for (auto it = j.begin(); it != j.end(); ++it) {
        std::string value;
        if (it->is_string()) value = it->get<std::string>();
        else if (it->is_number() || it->is_boolean()) value = it->dump();
        else {
          row.fields = {{"__invalid__", "field '" + it.key() + "' must be a string or a number"}};
          break;
        }
        // "steps" and "Steps" (or "guidance-ref" and "guidance_ref") are one field.
        if (!row.fields.emplace(normalise_key(it.key()), value).second) {
          row.fields = {{"__invalid__", "field '" + it.key() + "' appears twice"}};
          break;
        }
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// --- CSV (RFC 4180: quoted fields, "" escapes, commas and newlines inside quotes).
std::vector<std::vector<std::string>> parse_csv(std::string_view text, const fs::path& path) {
  std::vector<std::vector<std::string>> records(1);
  std::string field;
  bool quoted = false, field_started = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"' && !field_started) {
      quoted = field_started = true;
    } else if (c == ',') {
      records.back().push_back(field), field.clear(), field_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      records.back().push_back(field), field.clear(), field_started = false;
      records.emplace_back();
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) throw Error::input(path.string(), "unterminated quoted CSV field");
  if (field_started || !field.empty() || !records.back().empty()) records.back().push_back(field);
  while (!records.empty() && (records.back().empty() || (records.back().size() == 1 && records.back()[0].empty())))
    records.pop_back();
  return records;
}

std::vector<RawRow> csv_rows(std::string_view text, const fs::path& path) {
  // Excel's "CSV UTF-8" starts the file with a UTF-8 byte-order mark; it is not part of the
  // first column's name.
  constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
  if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());
  auto records = parse_csv(text, path);
  if (records.empty()) throw Error::input(path.string(), "the CSV manifest is empty (it needs a header row)");
  std::vector<std::string> header;
  std::set<std::string> seen_columns;
  for (size_t c = 0; c < records[0].size(); ++c) {
    header.push_back(normalise_key(records[0][c]));
    if (!seen_columns.insert(header.back()).second)
      throw Error::input(path.string(), "the header names column '" + records[0][c] + "' twice (column " +
                                            std::to_string(c + 1) + ")");
  }
  std::vector<RawRow> rows;
  for (size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() == 1 && records[r][0].empty()) continue;
    RawRow row{"row " + std::to_string(r + 1), {}};
    if (records[r].size() != header.size()) {
      row.fields = {{"__invalid__", "has " + std::to_string(records[r].size()) + " fields, the header has " +
                                        std::to_string(header.size())}};
    } else {
      for (size_t c = 0; c < header.size(); ++c)
        if (!records[r][c].empty()) row.fields[header[c]] = records[r][c];
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// --- One parser for every format (values are checked by the settings table).
JobSpec parse_job(size_t index, RawRow raw, const fs::path& base) {
  JobSpec job;
  job.index = index;
  job.where = std::move(raw.where);
  Row& f = raw.fields;
  if (auto bad = f.find("__invalid__"); bad != f.end()) {
    job.problems.push_back(bad->second);
    return job;
  }
  auto take = [&](const char* key) -> std::optional<std::string> {
    auto it = f.find(key);
    if (it == f.end()) return std::nullopt;
    std::string v = it->second;
    f.erase(it);
    return v;
  };
  auto path_field = [&](const char* key, fs::path& out) {
    auto v = take(key);
    if (!v || v->empty()) {
      job.problems.push_back(std::string("missing ") + key);
      return;
    }
    out = fs::path(*v).is_absolute() ? fs::path(*v) : base / *v;
    std::error_code ec;
    if (!fs::is_regular_file(out, ec)) job.problems.push_back(std::string(key) + " not found: " + out.string());
  };
  path_field("portrait", job.portrait);
  path_field("audio", job.audio);
  if (auto out = take("output"); out && !out->empty()) job.output = *out;
  else job.problems.push_back("missing output");

  // Every other field is a generation setting, checked by the settings table.
  for (auto it = f.begin(); it != f.end();) {
    const SettingInfo* setting = find_setting(it->first);
    if (!setting) {
      ++it;
      continue;
    }
    try {
      GenerateOptions scratch;
      setting->set(scratch, it->second);
      job.options.values[setting->name] = it->second;
    } catch (const Error& e) {
      job.problems.push_back(e.reason());
    }
    it = f.erase(it);
  }
  for (const auto& [key, value] : f) job.problems.push_back("unknown field '" + key + "'");
  return job;
}

}  // namespace

void JobOptions::apply_to(GenerateOptions& options) const {
  for (const auto& [name, value] : values) find_setting(name)->set(options, value);
}

std::string JobOptions::canonical() const {
  std::string s;
  for (const SettingInfo& row : generation_settings())  // table order, whatever the manifest's
    if (auto it = values.find(row.name); it != values.end()) s += it->first + "=" + it->second + ";";
  return s;
}

Manifest load_manifest(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string format;
  if (ext == ".yaml" || ext == ".yml") format = "yaml";
  else if (ext == ".jsonl" || ext == ".ndjson") format = "jsonl";
  else if (ext == ".csv") format = "csv";
  else throw Error::input(path.string(), "unknown manifest format (use .yaml, .jsonl or .csv)");
  const fs::path base = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  return parse_manifest(read_all(path), format, base, path);
}

Manifest parse_manifest(const std::string& text, const std::string& format, const fs::path& base,
                        const fs::path& name) {
  std::vector<RawRow> rows;
  if (format == "yaml") rows = yaml_rows(text, name);
  else if (format == "jsonl") rows = jsonl_rows(text);
  else if (format == "csv") rows = csv_rows(text, name);
  else throw Error::input(name.string(), "unknown manifest format '" + format + "'");
  if (rows.empty()) throw Error::input(name.string(), "the manifest has no jobs");
  Manifest m;
  m.path = name;
  for (size_t i = 0; i < rows.size(); ++i) m.jobs.push_back(parse_job(i, std::move(rows[i]), base));
  return m;
}

void check_outputs(Manifest& m, const fs::path& output_dir) {
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(fs::absolute(output_dir), ec);
  std::map<std::string, std::string> seen;  // resolved output -> where
  for (auto& job : m.jobs) {
    if (job.output.empty()) continue;
    const fs::path out(job.output);
    std::string ext = out.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (out.is_absolute()) {
      job.problems.push_back("output must be relative to --output-dir: " + job.output);
      continue;
    }
    if (std::any_of(out.begin(), out.end(), [](const fs::path& part) { return part == ".."; })) {
      job.problems.push_back("output may not contain '..': " + job.output);
      continue;
    }
    if (ext != ".mp4") job.problems.push_back("output must be an .mp4 file: " + job.output);
    // Resolve symlinks of the existing part of the path: a link pointing outside escapes.
    const fs::path resolved = fs::weakly_canonical(root / out, ec);
    auto [mismatch, unused] = std::mismatch(root.begin(), root.end(), resolved.begin(), resolved.end());
    if (ec || mismatch != root.end()) {
      job.problems.push_back("output escapes --output-dir (through a symlink?): " + job.output);
      continue;
    }
    auto [it, inserted] = seen.emplace(resolved.string(), job.where);
    if (!inserted) job.problems.push_back("same output as " + it->second + ": " + job.output);
  }
}

}  // namespace thg::pipeline
