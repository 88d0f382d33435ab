// The consensus replica: a Tendermint-style round protocol with the quorum as a parameter.
// Pure and deterministic: no clock, no I/O, no threads. The node feeds it messages and time and
// carries out the returned Actions in order: first sync `persist` to disk, then send `messages`,
// then store `decision` and call AdvanceTo(height + 1).
//
// Per height: round r has proposer ValidatorSet::ProposerFor(h, r); phases propose -> prevote ->
// precommit; a block commits when q precommits of distinct members for it are seen in one round
// (they form the commit certificate). Locking: a member that precommitted B in round r is locked
// on B and prevotes only B in later rounds unless it sees a prevote quorum for another block in a
// round > its lock round. Timeouts grow linearly with the round.
//
// Thread safety: none; the node calls it from one strand.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "consensus/block.h"
#include "consensus/consensus.pb.h"

namespace colend::consensus {

class Signer {
 public:
  virtual ~Signer() = default;
  virtual std::string Sign(std::string_view message) = 0;  // DER signature by this member's key
};

// Deterministic callbacks into the ledger (the node implements them over contracts and store).
class Application {
 public:
  virtual ~Application() = default;
  // Proposer only: a new block for `height` on top of the last committed block, stamped now_ms.
  virtual proto::Block ProposeBlock(std::uint64_t height, std::int64_t now_ms) = 0;
  // Full validation of a block proposed for `height`: header fields against the parent,
  // transactions re-executed, roots recomputed. `check_timeliness`: also require the timestamp
  // within the clock-skew bound of now_ms (false when re-proposing a block that already had a
  // prevote quorum in an earlier round). Ok or the reason.
  virtual Status ValidateBlock(std::uint64_t height, const proto::Block& block,
                               std::int64_t now_ms, bool check_timeliness) = 0;
  // Cheap and stateless: the block's body is the one its header commits to (transaction count
  // and transaction root). The proposer signs the header hash only, so anyone relaying its
  // proposal can swap the body; a proposal whose body fails this is dropped before it is
  // stored, so the genuine copy still counts (docs/consensus.md §5).
  virtual Status CheckBody(const proto::Block& block) = 0;
};

// The two clocks a replica is fed. `wall_ms` (Unix milliseconds; may step when the host's clock
// is corrected) stamps proposals and checks their timeliness. `mono_ms` (any origin, never goes
// backwards) drives every timeout and rebroadcast, so a wall-clock step can neither delay nor
// hasten them: a member whose clock was set back by 30 s would otherwise stay silent for 30 s.
struct Now {
  std::int64_t wall_ms = 0;
  std::int64_t mono_ms = 0;
  Now() = default;
  Now(std::int64_t wall, std::int64_t mono) : wall_ms(wall), mono_ms(mono) {}
  // One reading for both clocks: for tests and simulations in which the clock never steps.
  Now(std::int64_t both_ms) : wall_ms(both_ms), mono_ms(both_ms) {}  // NOLINT(runtime/explicit)
};

struct ReplicaTimeouts {
  std::int64_t propose_ms = 1000;
  std::int64_t prevote_ms = 500;
  std::int64_t precommit_ms = 500;
  std::int64_t round_increment_ms = 500;  // added per round to each timeout
  std::int64_t rebroadcast_ms = 1000;     // resend own proposal/votes of the current round
};

struct Outbound {
  std::optional<std::string> to;  // a member id; empty = every peer
  proto::ConsensusMessage message;
};

struct Decision {
  proto::Block block;
  proto::CommitCertificate certificate;
};

// Two different messages signed by one member for the same (height, round, phase), or two
// different proposals for the same (height, round): proof that the member equivocated
// (docs/consensus.md §11), checkable with the member's public key alone. Proposal blocks are
// stripped of their transactions: the signature binds only the header hash.
struct Equivocation {
  proto::ConsensusMessage first;
  proto::ConsensusMessage second;
};

struct Actions {
  std::optional<std::string> persist;  // serialised proto::ReplicaState: sync before sending
  std::vector<Outbound> messages;
  std::optional<Decision> decision;
  std::vector<std::string> log;  // human-readable notes for the node's log (round changes...)
  std::vector<Equivocation> equivocations;  // newly detected; the node gossips and commits them
};

class Replica {
 public:
  Replica(ValidatorSet validators, std::string self_id, ReplicaTimeouts timeouts,
          Application* app, Signer* signer);

  // Loads the last persisted state (may be empty). Must precede Start.
  Status Restore(std::string_view persisted_state);
  // Begins (or resumes) work at `next_height` = last committed height + 1.
  Actions Start(std::uint64_t next_height, Now now);
  // Handles one message from a peer. Messages for other heights are ignored (the node syncs);
  // invalid ones are dropped with a note in Actions::log; duplicates are harmless.
  Actions OnMessage(const proto::ConsensusMessage& message, Now now);
  // Fires every timeout that expired by now.mono_ms, and rebroadcasts own messages when due.
  Actions OnTick(Now now);
  // The node has durably stored height next_height-1 (its own decision or a synced block).
  Actions AdvanceTo(std::uint64_t next_height, Now now);

  // Never sign anything below `height` (a member whose signing history was lost: it may have
  // signed there before). Raising the floor above the current height persists a placeholder state
  // at that height, so the floor survives a restart; lower values are ignored.
  Actions RaiseSignFloor(std::uint64_t height, Now now);
  std::uint64_t sign_floor() const;  // the lowest height this replica may sign at

  std::uint64_t height() const;  // the height being decided
  std::uint32_t round() const;   // the current round at that height
  std::int64_t next_deadline_ms() const;  // on the mono_ms clock: when OnTick must be called

 private:
  struct State;
  std::shared_ptr<State> s_;
};

}  // namespace colend::consensus
