// colend-sim: a deterministic simulator of whole colend networks in one process.
//
// Every member runs the real consensus::Replica with real P-256 keys and signatures, and the
// node's own code for what it believes about its peers (node/peer_heights.h: claims certified
// against its own chain, liars discredited), for the signing recovery of a member whose history
// is unknown (node/signing_recovery.h) and for the start-up judgement of its data directory and
// signing lease (node/signing_lease.h). What is simulated: the network (latency, loss,
// duplication, reordering, messages held 1-30 s, partitions, one-way links), the clock (one
// global time, per-node skew), the store (a durable part that survives a crash and a volatile
// part that does not; the lease outside data/ survives a wipe) and the rest of the node around
// the replica, which follows colend-node's rules (node/node.cc, node/node_sync.cc): persist
// before sending, start a height only when there is something to commit, status announcements
// every second, block sync in batches with every certificate and body checked, equivocation
// evidence kept durably and committed as a transaction. The application is a model (not the
// real Ledger and contracts; docs/consensus.md §13). RunNodeSimulation (--real-node,
// node_world.cc) runs colend-node's own node logic instead of this model.
//
// All randomness comes from one std::mt19937_64 seeded by the seed, all containers are ordered,
// and nothing printed depends on signature bytes (ECDSA nonces are random): one seed replays
// identically.
//
// Faults F1-F12 (docs/consensus.md §12) plus a lying member and held messages are drawn at random
// during the fault phase, each healing after 2-10 s; then a quiet phase must bring every node to
// the same chain. The invariants are checked as the run goes (agreement, or in majority mode a
// fork only with the equivocator's double precommit in both certificates; block times against
// true time; liveness within 45 s of every moment all faults had healed; no recovered floor from
// a forged height) and at its end; every breach is a violation line.
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
  std::size_t equivocations_detected = 0;  // distinct (member, height, round, kind); 0 with
                                           // --real-node, which counts only what committed
  std::size_t evidence_committed = 0;
  std::size_t messages = 0;
  std::size_t lies = 0;  // substituted bodies served or relayed by a lying member
  // Majority-mode forks by the equivocating member, each with its double precommit in both
  // certificates (checked); 0 in two-thirds mode.
  std::size_t forks_with_evidence = 0;
  std::string Summary() const;  // one line
};

SimResult RunSimulation(const SimOptions& options);
// The same kind of run with every member the real node logic (node_world.cc): colend-sim
// --real-node. txs_acknowledged counts the admitted transactions that committed.
SimResult RunNodeSimulation(const SimOptions& options);

}  // namespace colend::sim
