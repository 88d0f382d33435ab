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

#include <algorithm>
#include <cassert>
#include <limits>
#include <tuple>
#include <utility>

#include "consensus/replica_state.h"

namespace colend::consensus {

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
  // Below sign_from_height the disk holds the state of a later height, which must survive. A
  // state with nothing to keep (a height just entered: nothing signed, no lock, no valid block)
  // is not written: the node enters a height only after its store holds the block before it, so
  // a restart resumes at that height anyway, and the state on disk is of an earlier one (or the
  // floor's placeholder, which RaiseSignFloor writes itself). docs/consensus.md §5.
  if (dirty && height >= sign_from_height && HasStateToKeep()) actions.persist = Serialize();
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
  // Blocks written once (see Serialize) are put back where the rest of the replica reads them.
  if (state.locked_in_own_proposal() != 0) {
    if (state.has_locked_block()) return bad("locked block both stored and referred to");
    const std::uint32_t of_round = state.locked_in_own_proposal() - 1;
    const auto own = std::find_if(
        state.own_proposals().begin(), state.own_proposals().end(),
        [&](const proto::Proposal& p) { return p.round() == of_round; });
    if (own == state.own_proposals().end()) {
      return bad("locked block refers to an own proposal of round " + std::to_string(of_round) +
                 " that is not recorded");
    }
    *state.mutable_locked_block() = own->block();
    state.set_locked_in_own_proposal(0);
  }
  if (state.valid_is_locked()) {
    if (state.has_valid_block()) return bad("valid block both stored and referred to");
    if (!state.has_locked_block()) return bad("valid block refers to a lock without a block");
    *state.mutable_valid_block() = state.locked_block();
    state.set_valid_is_locked(false);
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

bool Replica::State::HasStateToKeep() const {
  return !signed_votes.empty() || !own_proposals.empty() || locked.round >= 0 || valid.round >= 0;
}

std::string Replica::State::Serialize() const {
  proto::ReplicaState state;
  state.set_height(height);
  state.set_round(round);
  state.set_step(step);
  // Each block once (consensus.proto): the lock's block by reference to our own proposal of it,
  // the valid block by reference to the lock. Equal headers are the same block (its hash).
  state.set_locked_round(locked.round);
  if (locked.round >= 0) {
    const auto own = std::find_if(own_proposals.begin(), own_proposals.end(), [&](const auto& p) {
      return p.second.block().header() == locked.block.header();
    });
    if (own != own_proposals.end() && own->first < std::numeric_limits<std::uint32_t>::max()) {
      state.set_locked_in_own_proposal(own->first + 1);
    } else {
      *state.mutable_locked_block() = locked.block;
    }
  }
  state.set_valid_round(valid.round);
  if (valid.round >= 0) {
    if (locked.round >= 0 && valid.hash == locked.hash) {
      state.set_valid_is_locked(true);
    } else {
      *state.mutable_valid_block() = valid.block;
    }
  }
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
