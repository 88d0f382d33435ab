// The signing floor of a member whose signing history is unknown (docs/consensus.md §10, F11):
// its data directory was wiped, emptied, restored from an older backup, or never finished
// initialising. It signs nothing until this says from which height it safely may.
//
// Before the loss the member signed at a height h only after h-1 was committed, i.e. after a
// quorum q of the epoch's n members precommitted at h-1 (their tips were then >= h-2). Any
// n-q+1 other members include one of them, so once n-q+1 members report tips that this node has
// verified (node/peer_heights.h: certified, never a bare claim), h <= (highest such tip) + 2, and
// nothing was signed at or above tip + 3. The members and the quorum are those of the epoch in
// force at this node's tip, which must be (nearly) the reported tips: the node first syncs.
// Members that are recovering themselves do not count: their tips were synced from others.
// A member whose signing lease (node/signing_lease.h) survived knows exactly the highest height
// it may have signed at: its floor is the later of tip + 1 and the lease's next height. All
// arithmetic saturates.
//
// Pure and deterministic; shared by colend-node and colend-sim.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "consensus/block.h"
#include "node/peer_heights.h"

namespace colend::node {

// How far below the best claim of a peer in good standing a recovering node may be when it
// fixes its floor: a chain that commits while the node syncs would otherwise never let it catch
// up to every claim at once. The floor is computed from this node's own tip, which bounds every
// certified report.
inline constexpr std::uint64_t kRecoveryLagMax = 2;

struct RecoveryInput {
  std::string self;
  std::uint64_t our_height = 0;               // committed tip
  const consensus::ValidatorSet* epoch = nullptr;  // in force for our_height + 1
  std::uint64_t best_claim = 0;               // PeerHeights::BestClaim()
  std::map<std::string, PeerHeights::Report> reports;  // PeerHeights::CertifiedReports()
  std::uint64_t lease_floor = 0;  // SigningLease: lowest height not leased; 0: no lease survived
};

struct RecoveryProgress {
  std::size_t counted = 0;  // members of the epoch (not us, not recovering) with a certified tip
  std::size_t needed = 0;   // n - q + 1
  bool caught_up = false;   // our tip within kRecoveryLagMax of the best claim
  std::optional<std::uint64_t> floor;  // set once counted >= needed and caught up
  std::uint64_t top = 0;    // the highest certified tip counted (<= our_height)
};

RecoveryProgress ComputeSigningFloor(const RecoveryInput& input);

inline std::uint64_t SaturatingAdd(std::uint64_t a, std::uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

}  // namespace colend::node
