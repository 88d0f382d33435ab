// The Tendermint round protocol (Buchman, Kwon, Milosevic 2018, "The latest gossip on BFT
// consensus", Algorithm 1) with the quorum q = ValidatorSet::quorum() in place of 2f+1 and
// n - q + 1 in place of f+1. Comments cite the paper's line numbers (L22 = line 22).
//
// Deviations from the paper, each on purpose:
// - Validity at L36/L49 ignores block-time timeliness (as Tendermint's proposer-based
//   timestamps do): a prevote/precommit quorum already judged the time, and a replica whose clock
//   drifted must still lock and commit with the others.
// - L36/L49 accept the block B from any proposal seen at this height (same header hash), not only
//   from the proposal of that round: the quorum of votes is what makes it safe.
// - Liveness aids: a replica re-sends its own current-round messages every rebroadcast_ms, and
//   answers a peer that is in an older round of this height with its own messages of that round,
//   so a replica that restarted behind can walk up to the others (the n - q + 1 round-skip rule
//   alone cannot pull it up when fewer than n - q + 1 others are alive).
// - Persist before speaking: every signature is recorded in the ReplicaState returned in
//   Actions::persist, which the node syncs before sending; after a restore, a recorded vote is
//   re-used rather than a conflicting one signed.
#include "consensus/replica.h"

#include <cassert>
#include <limits>
#include <tuple>
#include <utility>

#include "consensus/vote_book.h"

namespace colend::consensus {
namespace {

enum Step : std::uint32_t { kPropose = 0, kPrevote = 1, kPrecommit = 2 };

// Messages further than this many rounds ahead are dropped: a bound on the memory a peer can make
// us spend on far-future rounds (honest replicas are never that far apart within one height).
constexpr std::uint64_t kRoundsAheadMax = 1000;
// Rule evaluations per event; each one moves the step or the round forward, so this is slack.
constexpr int kProgressStepsMax = 64;
constexpr std::int64_t kNoDeadline = std::numeric_limits<std::int64_t>::max();
// Peer-chosen strings quoted in log notes are cut to this length.
constexpr std::size_t kQuotedMax = 64;

std::string_view PhaseName(Phase phase) {
  return phase == Phase::kPrevote ? "prevote" : "precommit";
}

proto::Phase ToProto(Phase phase) {
  return phase == Phase::kPrevote ? proto::PHASE_PREVOTE : proto::PHASE_PRECOMMIT;
}

std::optional<Phase> FromProto(proto::Phase phase) {
  if (phase == proto::PHASE_PREVOTE) return Phase::kPrevote;
  if (phase == proto::PHASE_PRECOMMIT) return Phase::kPrecommit;
  return std::nullopt;
}

std::string HashBytes(const std::optional<Hash256>& hash) {
  return hash ? std::string(crypto::AsBytes(*hash)) : std::string();
}

// Empty bytes = nil; 32 bytes = a hash; anything else is malformed (outer nullopt).
std::optional<std::optional<Hash256>> HashFromBytes(std::string_view bytes) {
  if (bytes.empty()) return std::optional<Hash256>();
  if (bytes.size() != 32) return std::nullopt;
  Hash256 hash;
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return std::optional<Hash256>(hash);
}

std::string ShortName(const std::optional<Hash256>& hash) {
  return hash ? crypto::ToHex(*hash).substr(0, 12) : "nil";
}

std::string Printable(std::string_view text) {
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

}  // namespace

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
  std::set<std::tuple<std::string, std::uint32_t, int>> reported;        // equivocations, once each
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

// ---------------------------------------------------------------------------------------------
// Lifecycle

template <typename Body>
Actions Replica::State::Run(Now now_in, Body&& body) {
  Actions actions;
  out = &actions;
  now = now_in.mono_ms;
  wall_now = now_in.wall_ms;
  dirty = false;
  body();
  // Below sign_from_height the disk holds the state of a later height, which must survive.
  if (dirty && height >= sign_from_height) actions.persist = Serialize();
  out = nullptr;
  return actions;
}

void Replica::State::Start(std::uint64_t next_height) {
  assert(!started && "Start must be called once");
  assert(next_height >= 1 && "height 0 is the genesis block");
  started = true;
  EnterHeight(next_height);
  if (!is_member)
    Note(self_id + " is not a member of epoch " + std::to_string(validators.epoch()) +
         ": observing, never signing");
  if (is_member && signer == nullptr) Note("no signer: observing, never signing");
}

void Replica::State::AdvanceTo(std::uint64_t next_height) {
  assert(started && "AdvanceTo before Start");
  if (next_height <= height) {
    Note("ignored AdvanceTo(" + std::to_string(next_height) + "): not above the current height");
    return;
  }
  EnterHeight(next_height);
}

void Replica::State::EnterHeight(std::uint64_t next_height) {
  height = next_height;
  round = 0;
  step = kPropose;
  decided = false;
  locked = RoundBlock();
  valid = RoundBlock();
  signed_votes.clear();
  own_proposals.clear();
  proposals.clear();
  blocks.clear();
  validations.clear();
  votes.Clear();
  reported.clear();
  helped.clear();
  rebroadcast_deadline = now + timeouts.rebroadcast_ms;
  dirty = true;
  bool resumed = false;
  if (restored && restored->height() == height) {
    ApplyRestored(*restored);
    restored.reset();
    resumed = true;
  } else if (restored && restored->height() < height) {
    restored.reset();
  } else if (restored) {
    Note("persisted state is at height " + std::to_string(restored->height()) +
         ": not signing until it is reached");
  }
  if (resumed) {
    ResetRoundTimers();
    ResignRecordedVotes();
    MaybePropose();  // re-sends our recorded proposal of this round, if any
  } else {
    StartRound(0);
  }
  Progress();
}

void Replica::State::ApplyRestored(const proto::ReplicaState& state) {
  round = state.round();
  step = static_cast<Step>(state.step());
  if (state.locked_round() >= 0) {
    locked = {state.locked_round(), state.locked_block(), BlockHash(state.locked_block().header())};
    blocks.emplace(locked.hash, locked.block);
  }
  if (state.valid_round() >= 0) {
    valid = {state.valid_round(), state.valid_block(), BlockHash(state.valid_block().header())};
    blocks.emplace(valid.hash, valid.block);
    // The proof of lock counts again (each vote re-checked: the disk is not trusted blindly).
    std::size_t restored_votes = 0;
    for (const proto::Vote& vote : state.valid_polka()) {
      const Member* member = validators.Find(vote.member());
      if (member == nullptr || vote.height() != height ||
          vote.round() != static_cast<std::uint32_t>(valid.round) ||
          vote.phase() != proto::PHASE_PREVOTE || HashFromBytes(vote.block_hash()) != valid.hash) {
        continue;
      }
      if (!member->key
               .Verify(VoteText(validators.chain_id(), validators.epoch(), height, vote.round(),
                                Phase::kPrevote, valid.hash),
                       vote.signature())
               .ok()) {
        continue;
      }
      votes.Add(vote.round(), Phase::kPrevote, vote.member(), valid.hash, vote.signature());
      ++restored_votes;
    }
    if (restored_votes > 0) {
      Note("restored the proof of lock: " + std::to_string(restored_votes) + " prevotes of round " +
           std::to_string(valid.round));
    }
  }
  for (const proto::SignedVoteRecord& record : state.signed_votes()) {
    signed_votes[{record.round(), *FromProto(record.phase())}] =
        *HashFromBytes(record.block_hash());
  }
  for (const proto::Proposal& proposal : state.own_proposals()) {
    own_proposals[proposal.round()] = proposal;
    StoreProposal(proposal, BlockHash(proposal.block().header()));
  }
  Note("resumed from persisted state: step " + std::to_string(step) + ", locked round " +
       std::to_string(locked.round) + ", " + std::to_string(signed_votes.size()) + " signed votes");
}

// Our votes from before the restart count in our own tallies again and reach peers that missed
// them. Same texts as recorded (ECDSA signatures differ, the signed message does not).
void Replica::State::ResignRecordedVotes() {
  if (!CanSign()) return;
  for (const auto& [key, hash] : signed_votes) {
    const std::string signature = signer->Sign(
        VoteText(validators.chain_id(), validators.epoch(), height, key.first, key.second, hash));
    if (signature.empty()) continue;
    votes.Add(key.first, key.second, self_id, hash, signature);
    Send(VoteMessage(key.first, key.second, self_id, RecordedVote{hash, signature}), std::nullopt);
  }
}

Status Replica::State::Restore(std::string_view bytes) {
  assert(!started && "Restore must precede Start");
  if (bytes.empty()) return Status::Ok();
  proto::ReplicaState state;
  auto bad = [](const std::string& what) { return MakeError("bad-replica-state", what); };
  if (!state.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return bad("persisted replica state does not parse as colend.consensus.proto.ReplicaState");
  }
  if (state.height() == 0) return bad("height 0");
  if (state.step() > kPrecommit) return bad("step " + std::to_string(state.step()));
  for (std::int64_t r : {state.locked_round(), state.valid_round()}) {
    if (r < -1 || r > static_cast<std::int64_t>(state.round())) {
      return bad("lock/valid round " + std::to_string(r) + " outside -1.." +
                 std::to_string(state.round()));
    }
  }
  if ((state.locked_round() >= 0 && !state.has_locked_block()) ||
      (state.valid_round() >= 0 && !state.has_valid_block())) {
    return bad("lock or valid round without its block");
  }
  for (const proto::SignedVoteRecord& record : state.signed_votes()) {
    if (!FromProto(record.phase()) || !HashFromBytes(record.block_hash())) {
      return bad("malformed signed vote record in round " + std::to_string(record.round()));
    }
  }
  for (const proto::Proposal& proposal : state.own_proposals()) {
    if (proposal.height() != state.height() || proposal.proposer() != self_id) {
      return bad("own proposal record for another height or proposer");
    }
  }
  restored = std::move(state);
  sign_from_height = restored->height();
  return Status::Ok();
}

std::string Replica::State::Serialize() const {
  proto::ReplicaState state;
  state.set_height(height);
  state.set_round(round);
  state.set_step(step);
  state.set_locked_round(locked.round);
  if (locked.round >= 0) *state.mutable_locked_block() = locked.block;
  state.set_valid_round(valid.round);
  if (valid.round >= 0) *state.mutable_valid_block() = valid.block;
  for (const auto& [key, hash] : signed_votes) {
    proto::SignedVoteRecord* record = state.add_signed_votes();
    record->set_round(key.first);
    record->set_phase(ToProto(key.second));
    record->set_block_hash(HashBytes(hash));
  }
  for (const auto& [r, proposal] : own_proposals) *state.add_own_proposals() = proposal;
  if (valid.round >= 0) {
    for (const proto::ConsensusMessage& m : PolkaMessages()) *state.add_valid_polka() = m.vote();
  }
  return state.SerializeAsString();
}

// ---------------------------------------------------------------------------------------------
// Rounds and steps

void Replica::State::StartRound(std::uint32_t next_round) {
  round = next_round;
  step = kPropose;
  dirty = true;
  ResetRoundTimers();
  MaybePropose();
}

void Replica::State::ResetRoundTimers() {
  lock_rule_done = false;
  prevote_timer_started = false;
  precommit_timer_started = false;
  prevote_deadline.reset();
  precommit_deadline.reset();
  // Scheduled for the proposer too: its own re-proposal may wait on prevotes it lost in a crash.
  propose_deadline.reset();
  if (step == kPropose) propose_deadline = DeadlineAfter(timeouts.propose_ms);
}

void Replica::State::SetStep(Step next) {
  step = next;
  dirty = true;
  // A timeout of a step already left would fire as a no-op: drop it so next_deadline_ms() does
  // not wake the node for nothing.
  if (step >= kPrevote) propose_deadline.reset();
  if (step >= kPrecommit) prevote_deadline.reset();
}

// L14-L19: the proposer of this round proposes validValue, or a fresh block.
void Replica::State::MaybePropose() {
  if (step != kPropose || !CanSign() || validators.ProposerFor(height, round) != self_id) return;
  if (auto own = own_proposals.find(round); own != own_proposals.end()) {
    proto::ConsensusMessage message;
    *message.mutable_proposal() = own->second;  // signed before a restart: never sign another
    if (own->second.valid_round() >= 0 && own->second.valid_round() == valid.round) {
      for (const proto::ConsensusMessage& m : PolkaMessages()) Send(m, std::nullopt);
    }
    Send(message, std::nullopt);
    return;
  }
  const bool repropose = valid.round >= 0 && valid.round < static_cast<std::int64_t>(round);
  proto::Proposal proposal;
  proposal.set_height(height);
  proposal.set_round(round);
  proposal.set_valid_round(repropose ? valid.round : -1);
  *proposal.mutable_block() = repropose ? valid.block : app->ProposeBlock(height, wall_now);
  proposal.set_proposer(self_id);
  const Hash256 hash = BlockHash(proposal.block().header());
  const std::string signature = signer->Sign(ProposalText(
      validators.chain_id(), validators.epoch(), height, round, proposal.valid_round(), hash));
  if (signature.empty()) {
    Note("signing the proposal failed");
    return;
  }
  proposal.set_signature(signature);
  own_proposals[round] = proposal;
  dirty = true;
  StoreProposal(proposal, hash);
  Note("proposing block " + ShortName(hash) +
       (repropose ? " (valid since round " + std::to_string(valid.round) + ")" : ""));
  // A re-proposal travels with its proof of lock, for peers that did not see that round.
  if (repropose) {
    for (const proto::ConsensusMessage& m : PolkaMessages()) Send(m, std::nullopt);
  }
  proto::ConsensusMessage message;
  *message.mutable_proposal() = std::move(proposal);
  Send(message, std::nullopt);
}

void Replica::State::Progress() {
  for (int i = 0; i < kProgressStepsMax; ++i) {
    if (decided || TryDecide()) return;
    if (TrySkipRound() || TryNextRoundOnNilQuorum()) continue;
    ScheduleQuorumTimeouts();
    if (!(TryPrevoteOnProposal() || TryLockOnPrevoteQuorum() || TryPrecommitNil())) return;
  }
}

// L49: q precommits for B in some round and B itself at hand: commit with those precommits as
// the certificate.
bool Replica::State::TryDecide() {
  for (const auto& [r, hash] : votes.PrecommitQuorums(quorum)) {
    auto block = blocks.find(hash);
    if (block == blocks.end() || !IsValid(block->second, /*check_timeliness=*/false)) continue;
    Decision decision;
    decision.block = block->second;
    decision.certificate.set_height(height);
    decision.certificate.set_round(r);
    decision.certificate.set_block_hash(HashBytes(hash));
    for (proto::Endorsement& e : votes.Endorsements(r, hash)) {
      *decision.certificate.add_endorsements() = std::move(e);
    }
    Note("committed block " + ShortName(hash) + " of round " + std::to_string(r) + " with " +
         std::to_string(decision.certificate.endorsements_size()) + " precommits");
    out->decision = std::move(decision);
    decided = true;
    propose_deadline.reset();
    prevote_deadline.reset();
    precommit_deadline.reset();
    return true;
  }
  return false;
}

// L55: n - q + 1 members already speak in a higher round, so this round cannot gather a quorum
// without some of them: join them.
bool Replica::State::TrySkipRound() {
  const auto higher = votes.HighestRoundWithSenders(round, skip_threshold);
  if (!higher) return false;
  Note(std::to_string(skip_threshold) + " members are in round " + std::to_string(*higher) +
       ", skipping to it");
  StartRound(*higher);
  return true;
}

// A quorum precommitted nil in this round. Waiting out the precommit timeout (L47/L65) is for
// precommits of a block that might still complete a quorum; here that needs a member to precommit
// both nil and the block, so the wait would only delay the next proposer (2.2 s per height with
// one proposer down in the catch-up benchmark). Round changes never affect safety.
bool Replica::State::TryNextRoundOnNilQuorum() {
  if (round == std::numeric_limits<std::uint32_t>::max() ||
      votes.Count(round, Phase::kPrecommit, std::nullopt) < quorum) {
    return false;
  }
  Note("precommit quorum for nil, moving to round " + std::to_string(round + 1));
  StartRound(round + 1);
  return true;
}

// L34 and L47: a quorum of votes of any kind starts the waiting period for the rest.
void Replica::State::ScheduleQuorumTimeouts() {
  if (step == kPrevote && !prevote_timer_started &&
      votes.CountAll(round, Phase::kPrevote) >= quorum) {
    prevote_timer_started = true;
    prevote_deadline = DeadlineAfter(timeouts.prevote_ms);
  }
  if (!precommit_timer_started && votes.CountAll(round, Phase::kPrecommit) >= quorum) {
    precommit_timer_started = true;
    precommit_deadline = DeadlineAfter(timeouts.precommit_ms);
  }
}

// L22 (fresh block) and L28 (re-proposal of a block that had a prevote quorum in round vr).
bool Replica::State::TryPrevoteOnProposal() {
  if (step != kPropose) return false;
  auto it = proposals.find(round);
  if (it == proposals.end()) return false;
  const proto::Proposal& proposal = it->second.proposal;
  const Hash256& hash = it->second.hash;
  const std::int64_t vr = proposal.valid_round();
  bool accept = false;
  if (vr < 0) {
    accept = IsValid(proposal.block(), /*check_timeliness=*/true) &&
             (locked.round < 0 || locked.hash == hash);
  } else {
    // Wait (until the propose timeout) for the prevote quorum of round vr to reach us.
    if (votes.Count(static_cast<std::uint32_t>(vr), Phase::kPrevote, hash) < quorum) return false;
    accept = IsValid(proposal.block(), /*check_timeliness=*/false) &&
             (locked.round <= vr || locked.hash == hash);
  }
  if (accept) {
    Note("prevote " + ShortName(hash));
  } else {
    Note("prevote nil: proposal " + ShortName(hash) + " is invalid or conflicts with lock on " +
         ShortName(locked.round >= 0 ? std::optional(locked.hash) : std::nullopt));
  }
  CastVote(Phase::kPrevote, accept ? std::optional(hash) : std::nullopt);
  SetStep(kPrevote);
  return true;
}

// L36: a prevote quorum for B in this round: remember B as valid, and if still in the prevote
// step lock on B and precommit it.
bool Replica::State::TryLockOnPrevoteQuorum() {
  if (step == kPropose || lock_rule_done) return false;
  for (const Hash256& hash : votes.HashesWithAtLeast(round, Phase::kPrevote, quorum)) {
    auto block = blocks.find(hash);
    if (block == blocks.end() || !IsValid(block->second, /*check_timeliness=*/false)) continue;
    lock_rule_done = true;
    valid = {round, block->second, hash};
    dirty = true;
    if (step != kPrevote) return false;
    locked = valid;
    Note("prevote quorum for " + ShortName(hash) + ": locked, precommit " + ShortName(hash));
    CastVote(Phase::kPrecommit, hash);
    SetStep(kPrecommit);
    return true;
  }
  return false;
}

// L44: a prevote quorum for nil.
bool Replica::State::TryPrecommitNil() {
  if (step != kPrevote || votes.Count(round, Phase::kPrevote, std::nullopt) < quorum) return false;
  Note("prevote quorum for nil, precommit nil");
  CastVote(Phase::kPrecommit, std::nullopt);
  SetStep(kPrecommit);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Time

void Replica::State::HandleTick() {
  if (!started || decided) return;
  for (int i = 0; i < kProgressStepsMax && !decided; ++i) {
    if (!FireEarliestExpiredTimeout()) break;
    Progress();
  }
  if (!decided && now >= rebroadcast_deadline) {
    // Peers may have reconnected or lost messages; identical copies are harmless to them.
    SendOwnRoundMessages(round, std::nullopt);
    rebroadcast_deadline = now + timeouts.rebroadcast_ms;
  }
}

// L57 (propose -> prevote nil), L61 (prevote -> precommit nil), L65 (precommit -> next round).
bool Replica::State::FireEarliestExpiredTimeout() {
  std::optional<std::int64_t>* earliest = nullptr;
  for (auto* deadline : {&propose_deadline, &prevote_deadline, &precommit_deadline}) {
    if (*deadline && **deadline <= now && (earliest == nullptr || **deadline < **earliest)) {
      earliest = deadline;
    }
  }
  if (earliest == nullptr) return false;
  earliest->reset();
  if (earliest == &propose_deadline && step == kPropose) {
    Note("timeout propose, prevote nil");
    CastVote(Phase::kPrevote, std::nullopt);
    SetStep(kPrevote);
  } else if (earliest == &prevote_deadline && step == kPrevote) {
    Note("timeout prevote, precommit nil");
    CastVote(Phase::kPrecommit, std::nullopt);
    SetStep(kPrecommit);
  } else if (earliest == &precommit_deadline && round < std::numeric_limits<std::uint32_t>::max()) {
    Note("timeout precommit, moving to round " + std::to_string(round + 1));
    StartRound(round + 1);
  }
  return true;
}

std::int64_t Replica::State::NextDeadline() const {
  if (!started || decided) return kNoDeadline;
  std::int64_t next = rebroadcast_deadline;
  for (const auto& deadline : {propose_deadline, prevote_deadline, precommit_deadline}) {
    if (deadline) next = std::min(next, *deadline);
  }
  return next;
}

// ---------------------------------------------------------------------------------------------
// Incoming messages

void Replica::State::HandleMessage(const proto::ConsensusMessage& message) {
  if (!started || decided) return;
  if (message.has_proposal()) {
    HandleProposal(message.proposal());
  } else if (message.has_vote()) {
    HandleVote(message.vote());
  } else {
    Note("dropped a consensus message of unknown kind");
    return;
  }
  Progress();
}

void Replica::State::HandleProposal(const proto::Proposal& proposal) {
  // Other heights are not for us to judge: the node syncs a lagging replica from certificates.
  if (proposal.height() != height) return;
  const std::uint32_t r = proposal.round();
  if (r > round + kRoundsAheadMax)
    return Drop("proposal", proposal.proposer(), "round too far ahead");
  const std::string& proposer = validators.ProposerFor(height, r);
  if (proposal.proposer() != proposer) {
    return Drop("proposal", proposal.proposer(),
                "round " + std::to_string(r) + " belongs to proposer " + proposer);
  }
  if (proposal.valid_round() < -1 || proposal.valid_round() >= static_cast<std::int64_t>(r)) {
    return Drop("proposal", proposer,
                "valid round " + std::to_string(proposal.valid_round()) + " not below round " +
                    std::to_string(r));
  }
  const Hash256 hash = BlockHash(proposal.block().header());
  auto known = proposals.find(r);
  if (known != proposals.end() && known->second.hash == hash &&
      known->second.proposal.valid_round() == proposal.valid_round()) {
    HelpLaggard(proposer, r);  // a duplicate: harmless
    return;
  }
  // The signed text binds chain id and epoch: a proposal replayed from another chain or epoch
  // fails here.
  const Status verified =
      validators.Find(proposer)->key.Verify(ProposalText(validators.chain_id(), validators.epoch(),
                                                         height, r, proposal.valid_round(), hash),
                                            proposal.signature());
  if (!verified.ok()) return Drop("proposal", proposer, verified.error().ToString());
  if (known != proposals.end()) {
    proto::ConsensusMessage first, second;
    *first.mutable_proposal() = known->second.proposal;
    *second.mutable_proposal() = proposal;
    first.mutable_proposal()->mutable_block()->clear_txs();
    second.mutable_proposal()->mutable_block()->clear_txs();
    ReportEquivocation(proposer, r, 0, std::move(first), std::move(second));
    return;
  }
  // The signature covers the header only: a relayed copy with another body is not this
  // proposal, and storing it would shadow the genuine one for the whole round.
  if (const Status body = app->CheckBody(proposal.block()); !body.ok()) {
    return Drop("proposal", proposer, "body does not match its signed header: " + body.error().OwnText());
  }
  StoreProposal(proposal, hash);
  if (proposer == self_id && own_proposals.emplace(r, proposal).second) {
    dirty = true;  // our own, signed before a state loss: never sign another for this round
  }
  HelpLaggard(proposer, r);
}

void Replica::State::StoreProposal(const proto::Proposal& proposal, const Hash256& hash) {
  proposals.emplace(proposal.round(), StoredProposal{proposal, hash});
  blocks.emplace(hash, proposal.block());
  votes.NoteSender(proposal.round(), proposal.proposer());
}

void Replica::State::HandleVote(const proto::Vote& vote) {
  if (vote.height() != height) return;  // the node syncs lagging replicas
  const std::string& member = vote.member();
  const std::optional<Phase> phase = FromProto(vote.phase());
  if (!phase) return Drop("vote", member, "unknown phase");
  const Member* signer_member = validators.Find(member);
  if (signer_member == nullptr) return Drop("vote", member, "not a member");
  const auto hash = HashFromBytes(vote.block_hash());
  if (!hash) return Drop("vote", member, "block hash is not 32 bytes");
  if (vote.round() > round + kRoundsAheadMax) return Drop("vote", member, "round too far ahead");
  const RecordedVote* known = votes.Find(vote.round(), *phase, member);
  if (known != nullptr && known->block_hash == *hash) {
    HelpLaggard(member, vote.round());  // a duplicate (or a re-signed copy): harmless
    return;
  }
  const Status verified = signer_member->key.Verify(
      VoteText(validators.chain_id(), validators.epoch(), height, vote.round(), *phase, *hash),
      vote.signature());
  if (!verified.ok()) return Drop("vote", member, verified.error().ToString());
  if (known != nullptr) {
    proto::ConsensusMessage second;
    *second.mutable_vote() = vote;
    ReportEquivocation(member, vote.round(), *phase == Phase::kPrevote ? 1 : 2,
                       VoteMessage(vote.round(), *phase, member, *known), std::move(second));
    votes.AddConflicting(vote.round(), *phase, member, *hash, vote.signature());
    return;
  }
  votes.Add(vote.round(), *phase, member, *hash, vote.signature());
  if (member == self_id && signed_votes.emplace(std::pair(vote.round(), *phase), *hash).second) {
    dirty = true;  // our own vote from before a state loss: bind ourselves to it
  }
  HelpLaggard(member, vote.round());
}

// A peer still in an older round of this height gets our messages of that round, so it can
// gather the quorums it missed and catch up round by round. What counts is the highest round we
// have seen from the peer: an old-round message (a resend, a replay, or help the peer is giving
// us) does not make it a laggard, so two replicas can never keep helping each other. At most
// once per rebroadcast period per peer, so a peer cannot make us amplify its traffic.
void Replica::State::HelpLaggard(const std::string& member, std::uint32_t their_round) {
  if (member == self_id) return;
  auto [it, fresh] = helped.emplace(member, std::pair(their_round, kNoDeadline));
  if (!fresh) it->second.first = std::max(it->second.first, their_round);
  const std::uint32_t highest = it->second.first;
  if (highest >= round) return;
  if (it->second.second != kNoDeadline && now < it->second.second + timeouts.rebroadcast_ms) return;
  it->second.second = now;
  SendOwnRoundMessages(highest, member);
  // We may have left that round without a precommit of our own (a nil precommit quorum, or a
  // skip to where others were). The precommits we hold for it are what moved us on: relayed, the
  // laggard can move on too. Without them three members waited forever in a round that a fourth,
  // since wiped, had helped to leave (colend-sim seed 298, two-thirds).
  for (const Member& m : validators.members()) {
    if (m.id == self_id || m.id == member) continue;
    if (const RecordedVote* theirs = votes.Find(highest, Phase::kPrecommit, m.id)) {
      Send(VoteMessage(highest, Phase::kPrecommit, m.id, *theirs), member);
    }
  }
}

void Replica::State::Drop(std::string_view kind, std::string_view member,
                          const std::string& reason) {
  Note("dropped " + std::string(kind) + " from " + Printable(member) + ": " + Printable(reason));
}

void Replica::State::ReportEquivocation(const std::string& member, std::uint32_t r, int kind,
                                        proto::ConsensusMessage first,
                                        proto::ConsensusMessage second) {
  if (!reported.emplace(member, r, kind).second) return;
  static constexpr std::string_view kKinds[] = {"proposals", "prevotes", "precommits"};
  Note("equivocation: " + member + " signed two different " + std::string(kKinds[kind]) +
       " in round " + std::to_string(r));
  out->equivocations.push_back({std::move(first), std::move(second)});
}

// ---------------------------------------------------------------------------------------------
// Outgoing messages

// Signs (or re-sends) our vote at (round, phase). Never signs a second, different vote there: a
// vote already recorded, in memory or in the persisted state, wins over the rule's choice.
void Replica::State::CastVote(Phase phase, std::optional<Hash256> block_hash) {
  if (!CanSign()) return;
  if (const RecordedVote* mine = votes.Find(round, phase, self_id)) {
    if (mine->block_hash != block_hash) {
      Note("keeping the " + std::string(PhaseName(phase)) + " for " + ShortName(mine->block_hash) +
           " already signed in this round");
    }
    Send(VoteMessage(round, phase, self_id, *mine), std::nullopt);
    return;
  }
  const auto key = std::pair(round, phase);
  if (auto record = signed_votes.find(key);
      record != signed_votes.end() && record->second != block_hash) {
    Note("re-using the persisted " + std::string(PhaseName(phase)) + " for " +
         ShortName(record->second) + " instead of signing a conflicting one");
    block_hash = record->second;
  }
  const std::string signature = signer->Sign(
      VoteText(validators.chain_id(), validators.epoch(), height, round, phase, block_hash));
  if (signature.empty()) {
    Note("signing the " + std::string(PhaseName(phase)) + " failed");
    return;
  }
  signed_votes[key] = block_hash;
  dirty = true;
  votes.Add(round, phase, self_id, block_hash, signature);
  Send(VoteMessage(round, phase, self_id, RecordedVote{block_hash, signature}), std::nullopt);
}

proto::ConsensusMessage Replica::State::VoteMessage(std::uint32_t vote_round, Phase phase,
                                                    const std::string& member,
                                                    const RecordedVote& vote) const {
  proto::ConsensusMessage message;
  proto::Vote* v = message.mutable_vote();
  v->set_height(height);
  v->set_round(vote_round);
  v->set_phase(ToProto(phase));
  v->set_block_hash(HashBytes(vote.block_hash));
  v->set_member(member);
  v->set_signature(vote.signature);
  return message;
}

void Replica::State::Send(const proto::ConsensusMessage& message, std::optional<std::string> to) {
  out->messages.push_back(Outbound{std::move(to), message});
}

std::vector<proto::ConsensusMessage> Replica::State::PolkaMessages() const {
  std::vector<proto::ConsensusMessage> messages;
  if (valid.round < 0) return messages;
  const auto r = static_cast<std::uint32_t>(valid.round);
  for (const auto& [member, vote] : votes.VotesFor(r, Phase::kPrevote, valid.hash)) {
    messages.push_back(VoteMessage(r, Phase::kPrevote, member, vote));
  }
  return messages;
}

void Replica::State::SendOwnRoundMessages(std::uint32_t of_round,
                                          const std::optional<std::string>& to) {
  if (auto own = own_proposals.find(of_round); own != own_proposals.end()) {
    if (own->second.valid_round() >= 0 && own->second.valid_round() == valid.round) {
      for (const proto::ConsensusMessage& m : PolkaMessages()) Send(m, to);
    }
    proto::ConsensusMessage message;
    *message.mutable_proposal() = own->second;
    Send(message, to);
  }
  for (Phase phase : {Phase::kPrevote, Phase::kPrecommit}) {
    if (const RecordedVote* mine = votes.Find(of_round, phase, self_id)) {
      Send(VoteMessage(of_round, phase, self_id, *mine), to);
    }
  }
}

// Each block content is validated once per timeliness mode; passing with the clock check implies
// passing without it, failing without it implies failing with it.
bool Replica::State::IsValid(const proto::Block& block, bool check_timeliness) {
  Validation& verdict = validations[BlockContentDigest(block)];
  if (verdict.timely.value_or(false)) return true;
  if (check_timeliness && verdict.untimely == false) return false;
  std::optional<bool>& slot = check_timeliness ? verdict.timely : verdict.untimely;
  if (!slot) {
    const Status status = app->ValidateBlock(height, block, wall_now, check_timeliness);
    slot = status.ok();
    if (!status.ok()) {
      Note("block " + ShortName(BlockHash(block.header())) + " rejected" +
           (check_timeliness ? "" : " (timeliness not checked)") + ": " + status.ToString());
    }
  }
  return *slot;
}

void Replica::State::Note(const std::string& text) {
  out->log.push_back("height " + std::to_string(height) + " round " + std::to_string(round) + ": " +
                     text);
}

// ---------------------------------------------------------------------------------------------
// Replica: the public face; each call runs one event through the state machine.

Replica::Replica(ValidatorSet validators, std::string self_id, ReplicaTimeouts timeouts,
                 Application* app, Signer* signer)
    : s_(std::make_shared<State>(std::move(validators), std::move(self_id), timeouts, app,
                                 signer)) {
  assert(app != nullptr);
  assert(timeouts.propose_ms > 0 && timeouts.prevote_ms > 0 && timeouts.precommit_ms > 0 &&
         timeouts.round_increment_ms >= 0 && timeouts.rebroadcast_ms > 0);
}

Status Replica::Restore(std::string_view persisted_state) { return s_->Restore(persisted_state); }

Actions Replica::Start(std::uint64_t next_height, Now now) {
  return s_->Run(now, [&] { s_->Start(next_height); });
}

Actions Replica::OnMessage(const proto::ConsensusMessage& message, Now now) {
  return s_->Run(now, [&] { s_->HandleMessage(message); });
}

Actions Replica::OnTick(Now now) {
  return s_->Run(now, [&] { s_->HandleTick(); });
}

Actions Replica::AdvanceTo(std::uint64_t next_height, Now now) {
  return s_->Run(now, [&] { s_->AdvanceTo(next_height); });
}

Actions Replica::RaiseSignFloor(std::uint64_t floor_height, Now now) {
  return s_->Run(now, [&] {
    State& s = *s_;
    if (floor_height <= s.sign_from_height || floor_height <= s.height) return;
    s.sign_from_height = floor_height;
    if (!s.restored || s.restored->height() < floor_height) {
      proto::ReplicaState placeholder;  // nothing signed at floor_height yet
      placeholder.set_height(floor_height);
      placeholder.set_locked_round(-1);
      placeholder.set_valid_round(-1);
      s.restored = placeholder;
    }
    s.Note("not signing below height " + std::to_string(floor_height) +
           " (signing history unknown below it)");
    s.out->persist = s.restored->SerializeAsString();
  });
}

std::uint64_t Replica::sign_floor() const { return s_->sign_from_height; }

std::uint64_t Replica::height() const { return s_->height; }
std::uint32_t Replica::round() const { return s_->round; }
std::int64_t Replica::next_deadline_ms() const { return s_->NextDeadline(); }

}  // namespace colend::consensus
