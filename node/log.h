// The node's log: one event per line on standard error, with a level and key=value fields
// (docs/operations.md, "Logs"). Written once here; the node, its sync, RPC and evidence code all
// log through it.
//
//   text: 2026-12-02T20:01:00.123Z INFO  [lead-bank] block committed height=4 round=0 txs=1
//   json: {"ts":"2026-12-02T20:01:00.123Z","level":"info","member":"lead-bank",
//          "msg":"block committed","height":"4","round":"0","txs":"1"}
//
// Levels: debug < info < warn < error; events below the chosen level are not written.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/result.h"

namespace colend::node {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kText, kJson };

// "debug" | "info" | "warn" | "error"; error "bad-log-level" naming the choices.
Result<LogLevel> ParseLogLevel(std::string_view name);
// "text" | "json"; error "bad-log-format".
Result<LogFormat> ParseLogFormat(std::string_view name);
std::string_view LogLevelName(LogLevel level);

// Fields in the order given; values are text (numbers as decimal).
using LogFields = std::vector<std::pair<std::string, std::string>>;

class Logger {
 public:
  Logger(std::string member, LogLevel level, LogFormat format, std::ostream* out);
  bool Enabled(LogLevel level) const { return level >= level_; }
  // Writes one line (flushed). `now_ms`: Unix milliseconds.
  void Write(std::int64_t now_ms, LogLevel level, std::string_view message,
             const LogFields& fields = {}) const;
  // The line Write would print, without printing it (for tests).
  std::string Format(std::int64_t now_ms, LogLevel level, std::string_view message,
                     const LogFields& fields) const;

 private:
  std::string member_;
  LogLevel level_;
  LogFormat format_;
  std::ostream* out_;
};

}  // namespace colend::node
