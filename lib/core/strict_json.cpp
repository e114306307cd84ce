#include "core/strict_json.h"

#include <set>
#include <vector>

namespace thg {

StrictJson parse_json_strict(std::string_view text) {
  StrictJson result;
  std::vector<std::set<std::string>> keys_per_open_object;  // one set per object being parsed
  auto watch_keys = [&](int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) {
      keys_per_open_object.emplace_back();
    } else if (event == Event::object_end) {
      if (!keys_per_open_object.empty()) keys_per_open_object.pop_back();
    } else if (event == Event::key && !keys_per_open_object.empty()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!keys_per_open_object.back().insert(key).second && result.duplicate_key.empty())
        result.duplicate_key = key;
    }
    return true;
  };
  result.value = nlohmann::json::parse(text.begin(), text.end(), watch_keys, /*allow_exceptions=*/false);
  return result;
}

}  // namespace thg
