// The replica's messages: checking and recording incoming proposals and votes (equivocation
// evidence, helping a peer in an older round), and signing and sending its own votes, never two
// different ones at one (round, phase).
#include <cassert>
#include <tuple>
#include <utility>

#include "consensus/replica_state.h"

namespace colend::consensus {

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
  // A member past its conflicting votes at this slot (already reported) is not heard further:
  // dropped without a signature check or a note, so a flood costs neither.
  if (known != nullptr && votes.ConflictingFull(vote.round(), *phase, member)) return;
  const Status verified = signer_member->key.Verify(
      VoteText(validators.chain_id(), validators.epoch(), height, vote.round(), *phase, *hash),
      vote.signature());
  if (!verified.ok()) return Drop("vote", member, verified.error().ToString());
  if (known != nullptr) {
    // Rebuilt from the fields its signature covers, not copied: bytes it does not cover (unknown
    // fields a member pads it with) would ride into the evidence and could make it too large to
    // submit, so that the double vote counted here would never be committed as a fault.
    proto::ConsensusMessage second =
        VoteMessage(vote.round(), *phase, member, RecordedVote{*hash, vote.signature()});
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
  if (!reported.emplace(member, kind).second) return;
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


}  // namespace colend::consensus
