// colend-sim: runs simulated colend networks under random faults and checks the invariants of
// docs/consensus.md §12. See sim.h.
//
//   colend-sim --seed S [options]     one seed: the fault schedule, a summary, every violation
//   colend-sim --seeds N [options]    seeds 1..N (or --first F .. F+N-1): a line per failing seed,
//                                     then "N seeds, M violations"
// Options: --nodes K (default 5), --quorum majority|two-thirds, --fault-seconds T (30),
//          --heal-seconds T (30), --trace (every node log line; with --seed),
//          --no-membership-changes (no membership or quorum-rule change is proposed),
//          --scenario NAME (only that fault or lie; --list-scenarios names them),
//          --real-node (accepted and ignored: every member always is the real node logic)
// Exit 0 only if there were no violations; 2 on bad arguments.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sim.h"

namespace {

constexpr const char* kUsage =
    "usage: colend-sim (--seed S | --seeds N [--first F]) [--nodes K] "
    "[--quorum majority|two-thirds] [--fault-seconds T] [--heal-seconds T] [--trace]\n"
    "                  [--no-membership-changes] [--scenario NAME] [--list-scenarios]\n"
    "--quorum is the genesis rule; membership changes (re-add, remove, quorum-rule switch) are\n"
    "proposed during the fault phase unless --no-membership-changes. --scenario NAME draws only\n"
    "that fault (or that lie of a Byzantine member) instead of the mix; --list-scenarios lists them.\n"
    "Every member is colend-node's own node logic (replica, ledger, contracts, LevelDB store, sync,\n"
    "recovery, evidence) over simulated time, network and storage. --real-node is accepted for\n"
    "older scripts and changes nothing.\n";

bool ParseNumber(const std::string& text, std::uint64_t* out) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  *out = std::stoull(text);
  return true;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "colend-sim: %s\n%s", message.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  colend::sim::SimOptions options;
  std::uint64_t seed = 0, seeds = 0, first = 1;
  bool one = false, many = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::uint64_t* out) {
      if (i + 1 >= argc) return false;
      return ParseNumber(argv[++i], out);
    };
    std::uint64_t number = 0;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--seed") {
      if (!value(&seed)) return Fail("--seed needs a non-negative integer");
      one = true;
    } else if (arg == "--seeds") {
      if (!value(&seeds) || seeds == 0) return Fail("--seeds needs a positive integer");
      many = true;
    } else if (arg == "--first") {
      if (!value(&first)) return Fail("--first needs a non-negative integer");
    } else if (arg == "--nodes") {
      if (!value(&number) || number < 1 || number > 31) return Fail("--nodes needs 1..31");
      options.nodes = number;
    } else if (arg == "--quorum") {
      if (i + 1 >= argc) return Fail("--quorum needs majority or two-thirds");
      auto rule = colend::consensus::ParseQuorumRule(argv[++i]);
      if (!rule.ok()) return Fail("--quorum: " + rule.error().message);
      options.rule = *rule;
    } else if (arg == "--fault-seconds") {
      if (!value(&number) || number > 3600) return Fail("--fault-seconds needs 0..3600");
      options.fault_ms = static_cast<std::int64_t>(number) * 1000;
    } else if (arg == "--heal-seconds") {
      if (!value(&number) || number < 10 || number > 3600) return Fail("--heal-seconds needs 10..3600");
      options.heal_ms = static_cast<std::int64_t>(number) * 1000;
    } else if (arg == "--trace") {
      options.trace = true;
    } else if (arg == "--real-node") {
      // Accepted for older scripts: the real node logic is the only simulator.
    } else if (arg == "--scenario") {
      if (i + 1 >= argc) return Fail("--scenario needs a name (--list-scenarios)");
      options.scenario = argv[++i];
      bool known = false;
      for (const auto& [name, what] : colend::sim::ScenarioNames()) known = known || name == options.scenario;
      if (!known) return Fail("no scenario named '" + options.scenario + "' (--list-scenarios)");
    } else if (arg == "--list-scenarios") {
      for (const auto& [name, what] : colend::sim::ScenarioNames()) std::printf("%-22s %s\n", name.c_str(), what.c_str());
      return 0;
    } else if (arg == "--no-membership-changes") {
      options.membership_changes = false;
    } else {
      return Fail("unknown argument '" + arg + "'");
    }
  }
  if (one == many) return Fail("give exactly one of --seed S and --seeds N");
  const std::string mode(colend::consensus::QuorumRuleName(options.rule));
  auto run = colend::sim::RunSimulation;
  if (one) {
    options.seed = seed;
    std::printf("seed %llu: %zu nodes, quorum %s\n", static_cast<unsigned long long>(seed),
                options.nodes, mode.c_str());
    const auto result = run(options);
    if (!options.trace) {
      for (const std::string& event : result.events) std::printf("  %s\n", event.c_str());
    }
    for (const std::string& v : result.violations) std::printf("  VIOLATION %s\n", v.c_str());
    std::printf("seed %llu: %s\n", static_cast<unsigned long long>(seed), result.Summary().c_str());
    std::printf("1 seeds, %zu violations\n", result.violations.size());
    return result.violations.empty() ? 0 : 1;
  }
  std::size_t violations = 0, lies = 0, forks = 0, injected = 0, committed = 0;
  const auto started = std::chrono::steady_clock::now();
  for (std::uint64_t s = first; s < first + seeds; ++s) {
    options.seed = s;
    const auto result = run(options);
    lies += result.lies;
    forks += result.forks_with_evidence;
    injected += result.equivocations_injected;
    committed += result.evidence_committed;
    if (!result.violations.empty()) {
      violations += result.violations.size();
      std::printf("seed %llu FAILED (%s, %zu nodes): %s; first: %s\n",
                  static_cast<unsigned long long>(s), mode.c_str(), options.nodes,
                  result.Summary().c_str(), result.violations.front().c_str());
      std::fflush(stdout);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::fprintf(stderr, "colend-sim: %llu seeds in %.1f s (quorum %s, %zu nodes)\n",
               static_cast<unsigned long long>(seeds), seconds, mode.c_str(), options.nodes);
  std::fprintf(stderr,
               "colend-sim: in all: %zu equivocations injected, %zu committed as evidence, %zu "
               "lies (substituted bodies), %zu majority-mode forks each with its evidence\n",
               injected, committed, lies, forks);
  std::printf("%llu seeds, %zu violations\n", static_cast<unsigned long long>(seeds), violations);
  return violations == 0 ? 0 : 1;
}
