// colend-sim: a deterministic simulator of whole colend networks in one process.
//
// Every member runs the real consensus::Replica with real P-256 keys and signatures. What is
// simulated: the network (latency, loss, duplication, reordering, partitions, one-way links), the
// clock (one global time, per-node skew), the store (a durable part that survives a crash and a
// volatile part that does not) and the node around the replica, which follows colend-node's
// rules: persist before sending, start a height only when there is something to commit, status
// announcements every second, block sync in batches from the best peer with every certificate
// and block checked, equivocation evidence kept durably and committed as a transaction, and a
// member whose signing history was wiped signing nothing until it knows it cannot have signed
// at a height before.
//
// All randomness comes from one std::mt19937_64 seeded by the seed, all containers are ordered,
// and nothing printed depends on signature bytes (ECDSA nonces are random): one seed replays
// identically.
//
// Faults F1-F12 (docs/consensus.md §12) are drawn at random during the fault phase, each healing
// after a few seconds; then a quiet phase must bring every node to the same chain. The invariants
// are checked as the run goes and at its end; every breach is a violation line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "consensus/block.h"

namespace colend::sim {

struct SimOptions {
  std::uint64_t seed = 1;
  std::size_t nodes = 5;
  consensus::QuorumRule rule = consensus::QuorumRule::kMajority;
  std::int64_t fault_ms = 30'000;  // simulated time during which faults are injected
  std::int64_t heal_ms = 30'000;   // quiet time after: every node must converge
  bool trace = false;              // also print every replica log line
  // Membership changes (docs/consensus.md §7) proposed during the fault phase: re-adding a
  // removed member, removing one (while more than three remain), switching the quorum rule.
  bool membership_changes = true;
};

struct SimResult {
  std::vector<std::string> events;      // the fault schedule and milestones, in order
  std::vector<std::string> violations;  // empty in a correct run
  std::uint64_t height = 0;             // final common height (0 if nodes disagree)
  std::size_t faults = 0;
  std::size_t txs_submitted = 0;
  std::size_t txs_acknowledged = 0;
  std::size_t equivocations_injected = 0;
  std::size_t equivocations_detected = 0;  // distinct (member, height, round, kind)
  std::size_t evidence_committed = 0;
  std::size_t messages = 0;
  std::string Summary() const;  // one line
};

SimResult RunSimulation(const SimOptions& options);

}  // namespace colend::sim
