// The state of one consensus replica (consensus/replica.h), shared by the files of the state
// machine: consensus/replica.cc (lifecycle, persistence, the public face),
// consensus/replica_rounds.cc (the rules of Algorithm 1 and its timeouts) and
// consensus/replica_messages.cc (incoming proposals and votes, outgoing votes). Included by
// those three only.
#pragma once

#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/replica.h"
#include "consensus/vote_book.h"

namespace colend::consensus::replica_detail {


enum Step : std::uint32_t { kPropose = 0, kPrevote = 1, kPrecommit = 2 };

// Messages further than this many rounds ahead are dropped: a bound on the memory a peer can make
// us spend on far-future rounds (honest replicas are never that far apart within one height).
constexpr std::uint64_t kRoundsAheadMax = 1000;
// Rule evaluations per event; each one moves the step or the round forward, so this is slack.
constexpr int kProgressStepsMax = 64;
constexpr std::int64_t kNoDeadline = std::numeric_limits<std::int64_t>::max();
// Peer-chosen strings quoted in log notes are cut to this length.
constexpr std::size_t kQuotedMax = 64;

inline std::string_view PhaseName(Phase phase) {
  return phase == Phase::kPrevote ? "prevote" : "precommit";
}

inline proto::Phase ToProto(Phase phase) {
  return phase == Phase::kPrevote ? proto::PHASE_PREVOTE : proto::PHASE_PRECOMMIT;
}

inline std::optional<Phase> FromProto(proto::Phase phase) {
  if (phase == proto::PHASE_PREVOTE) return Phase::kPrevote;
  if (phase == proto::PHASE_PRECOMMIT) return Phase::kPrecommit;
  return std::nullopt;
}

inline std::string HashBytes(const std::optional<Hash256>& hash) {
  return hash ? std::string(crypto::AsBytes(*hash)) : std::string();
}

// Empty bytes = nil; 32 bytes = a hash; anything else is malformed (outer nullopt).
inline std::optional<std::optional<Hash256>> HashFromBytes(std::string_view bytes) {
  if (bytes.empty()) return std::optional<Hash256>();
  if (bytes.size() != 32) return std::nullopt;
  Hash256 hash;
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return std::optional<Hash256>(hash);
}

inline std::string ShortName(const std::optional<Hash256>& hash) {
  return hash ? crypto::ToHex(*hash).substr(0, 12) : "nil";
}

inline std::string Printable(std::string_view text) {
  std::string out(text.substr(0, kQuotedMax));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return "\"" + out + (text.size() > kQuotedMax ? "...\"" : "\"");
}

// Identifies the whole block, transactions included: two bodies under one header (a faulty
// proposer's) must not share a validation verdict.

// A block this replica locked on or considers valid (Algorithm 1's lockedValue/validValue).
struct RoundBlock {
  std::int64_t round = -1;  // -1: none
  proto::Block block;
  Hash256 hash{};
};

struct StoredProposal {
  proto::Proposal proposal;
  Hash256 hash{};
};

// Validation verdicts of one block content, per timeliness mode.
struct Validation {
  std::optional<bool> timely;
  std::optional<bool> untimely;
};


}  // namespace colend::consensus::replica_detail

namespace colend::consensus {

using replica_detail::Step;
using replica_detail::kPropose;
using replica_detail::kPrevote;
using replica_detail::kPrecommit;
using replica_detail::kRoundsAheadMax;
using replica_detail::kProgressStepsMax;
using replica_detail::kNoDeadline;
using replica_detail::kQuotedMax;
using replica_detail::PhaseName;
using replica_detail::ToProto;
using replica_detail::FromProto;
using replica_detail::HashBytes;
using replica_detail::HashFromBytes;
using replica_detail::ShortName;
using replica_detail::Printable;
using replica_detail::RoundBlock;
using replica_detail::StoredProposal;
using replica_detail::Validation;

struct Replica::State {
  State(ValidatorSet validators_in, std::string self_id_in, ReplicaTimeouts timeouts_in,
        Application* app_in, Signer* signer_in)
      : validators(std::move(validators_in)),
        self_id(std::move(self_id_in)),
        timeouts(timeouts_in),
        app(app_in),
        signer(signer_in),
        is_member(validators.Find(self_id) != nullptr),
        quorum(validators.quorum()),
        skip_threshold(validators.size() - quorum + 1) {}

  template <typename Body>
  Actions Run(Now now_in, Body&& body);

  Status Restore(std::string_view bytes);
  void Start(std::uint64_t next_height);
  void AdvanceTo(std::uint64_t next_height);
  void HandleMessage(const proto::ConsensusMessage& message);
  void HandleTick();
  std::int64_t NextDeadline() const;

  // Heights and rounds.
  void EnterHeight(std::uint64_t next_height);
  void ApplyRestored(const proto::ReplicaState& state);
  void ResignRecordedVotes();
  void StartRound(std::uint32_t next_round);
  void ResetRoundTimers();
  void MaybePropose();
  void SetStep(Step next);

  // Algorithm 1's upon-rules. The Try* ones return true when they moved the step or round.
  void Progress();
  bool TryDecide();                   // L49
  bool TrySkipRound();                // L55
  bool TryNextRoundOnNilQuorum();     // a quorum of nil precommits: next round without waiting
  void ScheduleQuorumTimeouts();      // L34, L47
  bool TryPrevoteOnProposal();        // L22, L28
  bool TryLockOnPrevoteQuorum();      // L36
  bool TryPrecommitNil();             // L44
  bool FireEarliestExpiredTimeout();  // L57, L61, L65

  // Incoming messages.
  void HandleProposal(const proto::Proposal& proposal);
  void HandleVote(const proto::Vote& vote);
  void StoreProposal(const proto::Proposal& proposal, const Hash256& hash);
  void HelpLaggard(const std::string& member, std::uint32_t their_round);
  void Drop(std::string_view kind, std::string_view member, const std::string& reason);
  void ReportEquivocation(const std::string& member, std::uint32_t round, int kind,
                          proto::ConsensusMessage first, proto::ConsensusMessage second);

  // Outgoing messages.
  void CastVote(Phase phase, std::optional<Hash256> block_hash);
  proto::ConsensusMessage VoteMessage(std::uint32_t vote_round, Phase phase,
                                      const std::string& member, const RecordedVote& vote) const;
  void Send(const proto::ConsensusMessage& message, std::optional<std::string> to);
  void SendOwnRoundMessages(std::uint32_t of_round, const std::optional<std::string>& to);
  // The prevotes for the valid block in its valid round, as messages (proof of lock).
  std::vector<proto::ConsensusMessage> PolkaMessages() const;

  bool IsValid(const proto::Block& block, bool check_timeliness);
  bool CanSign() const { return is_member && signer != nullptr && height >= sign_from_height; }
  std::int64_t DeadlineAfter(std::int64_t base_ms) const {
    return now + base_ms + static_cast<std::int64_t>(round) * timeouts.round_increment_ms;
  }
  void Note(const std::string& text);
  std::string Serialize() const;
  // Something signed at this height, a lock or a valid block: what a restart must not lose.
  bool HasStateToKeep() const;

  // Configuration.
  const ValidatorSet validators;
  const std::string self_id;
  const ReplicaTimeouts timeouts;
  Application* const app;
  Signer* const signer;
  const bool is_member;
  const std::size_t quorum;
  const std::size_t skip_threshold;  // n - q + 1: some member outside any failed quorum is there

  // Lifecycle.
  bool started = false;
  std::optional<proto::ReplicaState> restored;  // applied when the replica reaches its height
  std::uint64_t sign_from_height = 0;  // below a persisted height we may have signed: stay silent

  // Per height.
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  Step step = kPropose;
  bool decided = false;
  RoundBlock locked;
  RoundBlock valid;
  std::map<std::pair<std::uint32_t, Phase>, std::optional<Hash256>> signed_votes;
  std::map<std::uint32_t, proto::Proposal> own_proposals;
  std::map<std::uint32_t, StoredProposal> proposals;  // the first valid one per round
  std::map<Hash256, proto::Block> blocks;             // by header hash, from any proposal
  std::map<Hash256, Validation> validations;          // by BlockContentDigest
  VoteBook votes;
  // Equivocations reported at this height, by (member, kind): one of each kind proves the fault,
  // and a member double-signing in every round up to kRoundsAheadMax would otherwise make each
  // member sign, store and gossip thousands of evidence transactions a height.
  std::set<std::pair<std::string, int>> reported;
  // member -> (highest round of theirs seen at this height, when we last helped them)
  std::map<std::string, std::pair<std::uint32_t, std::int64_t>> helped;

  // Per round: "for the first time" flags and pending timeouts.
  bool lock_rule_done = false;
  bool prevote_timer_started = false;
  bool precommit_timer_started = false;
  std::optional<std::int64_t> propose_deadline;
  std::optional<std::int64_t> prevote_deadline;
  std::optional<std::int64_t> precommit_deadline;
  std::int64_t rebroadcast_deadline = kNoDeadline;

  // Per call.
  std::int64_t now = 0;       // monotonic (Now::mono_ms): deadlines only
  std::int64_t wall_now = 0;  // wall clock (Now::wall_ms): block timestamps and timeliness
  Actions* out = nullptr;
  bool dirty = false;  // persisted fields changed: emit Actions::persist
};

}  // namespace colend::consensus
