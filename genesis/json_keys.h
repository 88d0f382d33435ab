// JSON parsing that refuses a key given twice in one object. nlohmann::json keeps the last value
// of a repeated key, so a reviewer reading the first one in a file would see another value than
// the node uses: genesis files and node configuration files are parsed with this.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace colend::genesis {

// Parses `text` without exceptions (a discarded value when it is not JSON); `twice` receives the
// first key found twice in one object, if any.
inline nlohmann::json ParseJsonNoDuplicateKeys(const std::string& text, std::optional<std::string>* twice) {
  std::vector<std::set<std::string>> keys_seen;
  const nlohmann::json::parser_callback_t note_keys =
      [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        if (event == nlohmann::json::parse_event_t::object_start) keys_seen.emplace_back();
        if (event == nlohmann::json::parse_event_t::object_end && !keys_seen.empty()) {
          keys_seen.pop_back();
        }
        if (event == nlohmann::json::parse_event_t::key && !keys_seen.empty() && !*twice &&
            parsed.is_string() && !keys_seen.back().insert(parsed.get<std::string>()).second) {
          *twice = parsed.get<std::string>();
        }
        return true;
      };
  return nlohmann::json::parse(text, note_keys, /*allow_exceptions=*/false);
}

}  // namespace colend::genesis
