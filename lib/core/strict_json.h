#pragma once
// JSON parsing that refuses repeated keys. JSON permits `{"a":1,"a":2}` and nlohmann keeps the
// last value; other readers keep the first. For files THG trusts (safetensors headers, manifest
// rows) a repeated key is either a mistake or an attempt to make two readers disagree, so it is
// reported instead of silently resolved.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace thg {

struct StrictJson {
  nlohmann::json value;       // discarded (value.is_discarded()) when the text is not valid JSON
  std::string duplicate_key;  // the first key that an object repeats; empty when none does
};

StrictJson parse_json_strict(std::string_view text);

}  // namespace thg
