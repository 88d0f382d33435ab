// A fork seen at sync (docs/consensus.md §11): in majority mode a member that precommits two
// blocks of one height can give each of two quorums its block. A member on one branch then
// refuses every block of the other (its previous hash is not our tip); this names the fork and
// turns the two certificates into evidence against every member in both.
#include "node/node_impl.h"

namespace colend::node::detail {

void Node::ProbeFork(const std::string& peer, std::uint64_t height) {
  if ((!fork_probe_peer_.empty() && SteadyMs() < fork_probe_deadline_ms_) || height == 0 ||
      height > ledger_.height()) {
    return;
  }
  proto::PeerMessage message;
  message.mutable_block_request()->set_from_height(height);
  message.mutable_block_request()->set_count(1);
  fork_probe_peer_ = peer;
  fork_probe_height_ = height;
  fork_probe_deadline_ms_ = SteadyMs() + kSyncRequestTimeoutMs;
  SendTo(peer, message);
}

bool Node::TakeForkProbeAnswer(const std::string& peer, const proto::BlockResponse& response) {
  if (peer != fork_probe_peer_ || response.blocks_size() != 1) return false;
  auto header = consensus::BlockHeader::ParseText(response.blocks(0).block().header());
  if (!header.ok() || header->height != fork_probe_height_) return false;  // a sync answer
  fork_probe_peer_.clear();
  if (SteadyMs() <= fork_probe_deadline_ms_) ExamineFork(peer, response.blocks(0));
  return true;
}

void Node::ExamineFork(const std::string& peer, const proto::StoredBlock& theirs) {
  auto header = consensus::BlockHeader::ParseText(theirs.block().header());
  if (!header.ok() || header->height == 0 || header->height > ledger_.height()) return;
  const std::uint64_t height = header->height;
  auto ours = ledger_.ReadBlock(height);
  if (!ours.ok()) return;
  const crypto::Hash256 our_hash = consensus::BlockHash(ours->block().header());
  const crypto::Hash256 their_hash = consensus::BlockHash(theirs.block().header());
  if (their_hash == our_hash) return;  // no fork: only its claim or its later block was bad
  const std::string key = peer + "/" + std::to_string(height) + "/" + crypto::ToHex(their_hash);
  if (forks_examined_.count(key) != 0) return;
  if (forks_examined_.size() >= kForksExaminedMax) forks_examined_.clear();
  forks_examined_.insert(key);
  // Their certificate must hold a quorum of the epoch of that height, each signature valid (a
  // bounded check: no more endorsements than members, no member twice); otherwise it is a lie.
  const consensus::proto::CommitCertificate& b = theirs.certificate();
  auto membership = genesis::MembershipAt(genesis_, ledger_.state(), height);
  if (!membership.ok()) return;
  const Status valid =
      consensus::VerifyCommitCertificate(membership->Validators(genesis_.chain_id), height, their_hash, b);
  if (!valid.ok()) {
    Log("sync: " + peer + " served another block at height " + std::to_string(height) +
        " without a valid certificate (" + valid.ToString() + "): a lie, not a fork");
    return;
  }
  const consensus::proto::CommitCertificate& a = ours->certificate();
  std::map<std::string, std::string> signed_ours;
  for (const auto& e : a.endorsements()) signed_ours[e.member()] = e.signature();
  auto precommit = [height](const consensus::proto::CommitCertificate& cert, const std::string& member,
                            const std::string& signature) {
    consensus::proto::ConsensusMessage message;
    consensus::proto::Vote* vote = message.mutable_vote();
    vote->set_height(height);
    vote->set_round(cert.round());
    vote->set_phase(consensus::proto::PHASE_PRECOMMIT);
    vote->set_block_hash(cert.block_hash());
    vote->set_member(member);
    vote->set_signature(signature);
    return message;
  };
  std::vector<consensus::Equivocation> found;
  std::string both;
  for (const auto& e : b.endorsements()) {
    auto it = signed_ours.find(e.member());
    if (it == signed_ours.end()) continue;
    found.push_back({precommit(a, e.member(), it->second), precommit(b, e.member(), e.signature())});
    both += " " + e.member();
  }
  const bool same_round = a.round() == b.round();
  LogAt(LogLevel::kError,
        "FORK at height " + std::to_string(height) + ": this node committed " +
            crypto::ToHex(our_hash) + " (round " + std::to_string(a.round()) + "), " + peer +
            " holds " + crypto::ToHex(their_hash) + " (round " + std::to_string(b.round()) + ", " +
            std::to_string(b.endorsements_size()) + " endorsements); in both certificates:" +
            (both.empty() ? " nobody" : both) + ". This node cannot follow that branch; " +
            (found.empty() ? std::string("no member signed both")
             : same_round  ? std::string("evidence of the double precommits is submitted")
                           : std::string("the rounds differ, so the precommits are no same-slot "
                                         "evidence (docs/consensus.md §13)")) +
            " (docs/operations.md, A fork)");
  // Each pair is verified with the keys of the epoch of its height before it is submitted: a
  // peer cannot frame a member with a certificate it made up.
  if (!found.empty() && same_round) ReportEquivocations(found);
}

}  // namespace colend::node::detail
