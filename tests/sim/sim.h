// colend-sim: whole colend networks in one process, under faults, with invariants checked.
//
// Every member is colend-node's own node logic (node::detail::Node: the replica, the Ledger and
// the contracts, the Store on LevelDB, mempool, gossip, block sync, signing lease and recovery,
// equivocation evidence, the JSON-RPC methods) on the host interfaces colend-node gives it over
// Asio and TLS (node/node_impl.h NodeHost, node/peer_network.h). The simulator supplies only the
// world around the nodes: simulated time, a simulated network and LevelDB on an in-memory file
// system that can lose unsynced writes or be damaged (fault_env.h). Nothing of the node is
// written here (node_world.cc).
//
// Faults (docs/consensus.md §12) are drawn from the seed in windows of 10 s of simulated time
// (all kinds mixed, or one named scenario),
// each followed by 35 s with none in which a block must commit within 30 s; the last is followed by a quiet
// phase after which every member must be at one height with every transaction admitted in it
// committed. Every breach is a violation line.
//
// Replays are not exact: ECDSA signatures are randomised and reach block hashes, and one
// generator per seed draws the faults and the network's randomness in event order
// (docs/consensus.md §13).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "consensus/block.h"

namespace colend::sim {

struct SimOptions {
  std::uint64_t seed = 1;
  std::size_t nodes = 5;
  consensus::QuorumRule rule = consensus::QuorumRule::kMajority;
  std::int64_t fault_ms = 30'000;  // simulated time in fault windows (10 s each)
  std::int64_t heal_ms = 30'000;   // quiet time after the last: every member must converge
  bool trace = false;              // also print every node log line
  // Membership changes (docs/consensus.md §7) proposed during the fault windows by real
  // member.propose and member.approve transactions: re-adding a removed member, removing one
  // (while more than three remain), switching the quorum rule.
  bool membership_changes = true;
  // A named scenario (ScenarioNames; --scenario): only that fault, or only that lie of the
  // Byzantine member, in every fault window. Empty: the random mix of all of them.
  std::string scenario;
};

// The named scenarios, each with a line saying what it does.
std::vector<std::pair<std::string, std::string>> ScenarioNames();

struct SimResult {
  std::vector<std::string> events;      // the fault schedule and milestones, in order
  std::vector<std::string> violations;  // empty in a correct run
  std::uint64_t height = 0;             // final height of the highest member of the final epoch
  std::size_t faults = 0;
  std::size_t txs_submitted = 0;
  std::size_t txs_acknowledged = 0;  // admitted transactions that committed
  std::size_t equivocations_injected = 0;
  std::size_t evidence_committed = 0;  // distinct (height, round, kind) committed as evidence
  std::size_t messages = 0;
  std::size_t lies = 0;  // forged heights, and bodies cut at sync or in proposals
  // Majority-mode forks by the equivocating member, each with its two precommits (verified) in
  // both certificates; counted at every member that shows the second block.
  std::size_t forks_with_evidence = 0;
  std::string Summary() const;  // one line
};

SimResult RunSimulation(const SimOptions& options);

}  // namespace colend::sim
