// The rules of the round protocol (consensus/replica.cc cites the paper and the deviations):
// rounds and steps, proposing, locking, deciding, skipping rounds, and the timeouts.
#include <cassert>
#include <limits>
#include <utility>

#include "consensus/replica_state.h"

namespace colend::consensus {

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


}  // namespace colend::consensus
