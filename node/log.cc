#include "node/log.h"

#include <ctime>

#include <nlohmann/json.hpp>

namespace colend::node {
namespace {

std::string IsoMs(std::int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

// A text value: bare when it is a plain token, else double-quoted with \ " and newlines escaped.
std::string TextValue(const std::string& v) {
  bool plain = !v.empty();
  for (unsigned char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) plain = false;
  }
  if (plain) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return MakeError("bad-log-level",
                   "log level '" + std::string(name) + "' is not one of debug, info, warn, error");
}

Result<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return MakeError("bad-log-format",
                   "log format '" + std::string(name) + "' is not one of text, json");
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

Logger::Logger(std::string member, LogLevel level, LogFormat format, std::ostream* out)
    : member_(std::move(member)), level_(level), format_(format), out_(out) {}

std::string Logger::Format(std::int64_t now_ms, LogLevel level, std::string_view message,
                           const LogFields& fields) const {
  if (format_ == LogFormat::kJson) {
    nlohmann::ordered_json line = {{"ts", IsoMs(now_ms)},
                                   {"level", std::string(LogLevelName(level))},
                                   {"member", member_},
                                   {"msg", std::string(message)}};
    for (const auto& [key, value] : fields) line[key] = value;
    // Invalid UTF-8 (a peer's text) is replaced, never a reason to lose the line.
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }
  std::string name(LogLevelName(level));
  for (char& c : name) c = static_cast<char>(c - 'a' + 'A');
  name.resize(5, ' ');
  std::string line = IsoMs(now_ms) + " " + name + " [" + member_ + "] " + std::string(message);
  for (const auto& [key, value] : fields) line += " " + key + "=" + TextValue(value);
  return line;
}

void Logger::Write(std::int64_t now_ms, LogLevel level, std::string_view message,
                   const LogFields& fields) const {
  if (!Enabled(level)) return;
  *out_ << Format(now_ms, level, message, fields) << std::endl;
}

}  // namespace colend::node
