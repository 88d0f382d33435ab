// Shared pieces of the `colend` command-line tool: argument handling, output, node access.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crypto/result.h"
#include "node/config.h"

namespace colend::cli {

// Parsed arguments: positional words and --options (flags have the value "true").
struct Args {
  std::vector<std::string> words;
  std::map<std::string, std::string> options;
  bool Has(const std::string& name) const { return options.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto it = options.find(name);
    return it == options.end() ? fallback : it->second;
  }
};

// Options that take no value.
bool IsFlag(const std::string& name);
Result<Args> ParseArgs(int argc, char** argv);

// Prints an error ("colend: <message>") to stderr and returns the exit code 1.
int Fail(const std::string& message);
int Fail(const Error& error);
// Prints `result` as JSON when --json is given, otherwise `text`.
void Print(const Args& args, const nlohmann::json& result, const std::string& text);

// Calls the --home node's JSON-RPC method.
Result<nlohmann::json> CallNode(const node::NodeConfig& config, const std::string& method,
                                const nlohmann::json& params, std::int64_t timeout_ms = 10000);

int RunLocalnet(const Args& args);
int RunNodeCommand(const Args& args);  // status, block, tx, evidence
// loan schedule: offline, no node needed.
int RunLoanSchedule(const Args& args);
std::string ProgramDirectory();

}  // namespace colend::cli
