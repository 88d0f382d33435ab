// Shared pieces of the `colend` command-line tool: argument handling, output, node access.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "contracts/tx.h"
#include "crypto/result.h"
#include "crypto/signature.h"
#include "genesis/genesis.h"
#include "node/config.h"

namespace colend::contracts {
struct Loan;
}  // namespace colend::contracts

namespace colend::cli {

// Parsed arguments: positional words and --options (flags have the value "true").
struct Args {
  std::vector<std::string> words;
  std::map<std::string, std::string> options;
  std::string usage;  // the command's generated help (tools/cli_spec.h), for usage errors
  bool Has(const std::string& name) const { return options.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto it = options.find(name);
    return it == options.end() ? fallback : it->second;
  }
};

// Prints an error ("colend: <message>") to stderr and returns the exit code 1; 2 for an error of
// code "usage" (a required option missing, as for every other usage error).
int Fail(const std::string& message);
int Fail(const Error& error);
// The option --name as a whole number written in decimal digits only (no sign, space, fraction or
// exponent: "30s", "7.5", "-1" and "1e3" are refused, not read as 30, 7, -1 or 1), from `min` to
// `max`; `fallback` when the option is absent. Error "invalid-option" naming the option, its range
// and the text given.
Result<std::int64_t> WholeOption(const Args& args, const std::string& name, std::int64_t fallback,
                                 std::int64_t min, std::int64_t max);
// Prints `result` as JSON when --json is given, otherwise `text`.
void Print(const Args& args, const nlohmann::json& result, const std::string& text);

// Every committed state entry under `prefix`, paged through the node's `state` method (at most
// kStateScanMax a call, node/node_impl.h): the last page's answer with "entries" holding all of
// them. Pages are read one after another, so entries written between two reads may be missing
// or new; each entry is as committed at some height.
Result<nlohmann::json> ScanState(const node::NodeConfig& config, const std::string& prefix);
// Calls the --home node's JSON-RPC method.
Result<nlohmann::json> CallNode(const node::NodeConfig& config, const std::string& method,
                                const nlohmann::json& params, std::int64_t timeout_ms = 10000);

int RunLocalnet(const Args& args);
int RunNodeCommand(const Args& args);  // status, block, tx, evidence
// evidence attach | export (evidence_commands.cc); -1 for another evidence subcommand.
int RunEvidenceCommand(const Args& args);
int RunMemberCommand(const Args& args);  // member list|epochs|propose|approve (member_commands.cc)
int RunLoanSchedule(const Args& args);  // loan schedule (offline, no node)
// loan, borrower, bureau, auth, va, collection, param, clock (lending_commands.cc)
int RunLendingCommand(const Args& args);
int RunLocalnetDemo(const Args& args);  // localnet demo (demo.cc)
int RunLocalnetRekey(const Args& args);  // localnet rekey (localnet_rekey.cc)
std::string ProgramDirectory();


// The --home node's configuration and genesis.
struct Home {
  node::NodeConfig config;
  genesis::Genesis genesis;
};
Result<Home> LoadHome(const std::string& home_dir);
Result<Home> LoadHome(const Args& args);  // --home, required

// The committed state record `key` as the node's `state` method answers it ({value, height,
// business_day}); the loan `id` decoded with the contracts' own code (error "loan-not-found").
// (lending_commands.cc)
Result<nlohmann::json> StateGet(const Home& home, const std::string& key);
Result<contracts::Loan> FetchLoan(const Home& home, const std::string& id, std::int64_t* day);

std::int64_t NowMs();

// The home node's signing key (signing.key, in the chain's suite).
Result<crypto::PrivateKey> LoadSigningKey(const Home& home);
// Builds a transaction of `type` with `fields` as the home node's institution and signs it with
// `key`; the fields are checked as the nodes check them (contracts/fields.h) before signing.
// The one signer of the CLI and of colend-bench.
Result<contracts::Tx> SignTxAs(const Home& home, const crypto::PrivateKey& key,
                               const std::string& type,
                               const std::map<std::string, std::string>& fields,
                               std::uint64_t nonce, std::int64_t timestamp_ms);
// The node's wait_tx limit on one call (node/node_impl.h, kWaitTimeoutMsMax).
inline constexpr std::int64_t kWaitTxTimeoutMsMax = 60000;
// Waits (wait_tx on the node: no polling) up to `timeout_ms` for transaction `id` (hex) to be
// committed; its "tx" answer, or error "not-committed" saying what the node last said: still
// pending (naming the peers connected), unknown to it (lost from its pool), or no answer.
Result<nlohmann::json> WaitForCommit(const node::NodeConfig& config, const std::string& id,
                                     std::int64_t timeout_ms);
// Signs a transaction of `type` with `fields` as the home node's institution, submits it and
// waits up to `timeout_ms` for the commit. Returns the node's "tx" answer (status, height,
// accepted, code, rule, message, outputs). Error if it is not committed in time.
Result<nlohmann::json> SubmitAndWait(const Home& home, const std::string& type,
                                     const std::map<std::string, std::string>& fields,
                                     std::int64_t timeout_ms = 30000);
// One line for a committed transaction's receipt: "accepted|rejected (code) by RULE: message".
std::string DescribeReceipt(const nlohmann::json& tx);
// Prints a receipt (JSON with --json) and returns 0 if it was accepted, 1 otherwise.
int ReportReceipt(const Args& args, const nlohmann::json& tx, const std::string& extra = "");

}  // namespace colend::cli
