// Consensus messages for the height after the next are kept until that height starts
// (node/node_impl.h, kEarlyMessagesMax, kEarlyMessagesPerPeerMax, kEarlyBytesPerPeerMax): a
// member flooding them keeps at most its own share, in count and in bytes, and cannot push out
// what the other members sent. The real node, fed frames as from its peers (loop_node.h).
#include <gtest/gtest.h>

#include <string>

#include "loop_node.h"

namespace colend::node {
namespace {

class EarlyMessagesTest : public testing::LoopNodeTest {
 protected:
  // A prevote for `height` in `round` from member `m`, as its peer connection delivers it. Its
  // signature is not checked before its height starts (it is then, by the replica).
  void Vote(std::size_t m, std::uint64_t height, std::uint32_t round) {
    proto::PeerMessage message;
    consensus::proto::Vote* vote = message.mutable_consensus()->mutable_vote();
    vote->set_height(height);
    vote->set_round(round);
    vote->set_phase(consensus::proto::PHASE_PREVOTE);
    vote->set_block_hash(std::string(32, 'h'));
    vote->set_member(built_->members[m].id);
    vote->set_signature(std::string(70, 's'));
    on_frame_(built_->members[m].id, message.SerializeAsString());
  }
  // A proposal for `height` whose block holds one transaction of `bytes` bytes.
  void Propose(std::size_t m, std::uint64_t height, std::uint32_t round, std::size_t bytes) {
    proto::PeerMessage message;
    consensus::proto::Proposal* p = message.mutable_consensus()->mutable_proposal();
    p->set_height(height);
    p->set_round(round);
    p->set_valid_round(-1);
    p->set_proposer(built_->members[m].id);
    p->mutable_block()->set_header("header");
    p->mutable_block()->add_txs(std::string(bytes, 't'));
    p->set_signature(std::string(70, 's'));
    on_frame_(built_->members[m].id, message.SerializeAsString());
  }
  std::pair<std::size_t, std::size_t> Kept(std::size_t m) {
    const auto by_peer = node_->EarlyMessagesByPeer();
    auto it = by_peer.find(built_->members[m].id);
    return it == by_peer.end() ? std::pair<std::size_t, std::size_t>{0, 0} : it->second;
  }
};

TEST_F(EarlyMessagesTest, AFloodingMemberKeepsItsOwnShareAndTheOthersTheirs) {
  ASSERT_TRUE(on_frame_);
  Vote(2, 2, 0);  // an honest member's vote first
  for (std::uint32_t round = 0; round < 1000; ++round) Vote(1, 2, round);
  Vote(2, 2, 1);
  EXPECT_EQ(Kept(1).first, detail::kEarlyMessagesPerPeerMax);
  EXPECT_EQ(Kept(2).first, 2u) << "the flood pushed out the other member's messages";
}

TEST_F(EarlyMessagesTest, AMembersEarlyProposalsAreHeldToItsByteShare) {
  ASSERT_TRUE(on_frame_);
  Propose(2, 2, 0, 1000);
  for (std::uint32_t round = 0; round < 40; ++round) Propose(1, 2, round, 1u << 20);
  const auto [count, bytes] = Kept(1);
  EXPECT_LE(bytes, detail::kEarlyBytesPerPeerMax);
  EXPECT_GT(bytes, detail::kEarlyBytesPerPeerMax - (2u << 20)) << "the newest are kept";
  EXPECT_LT(count, 40u);
  // One larger than any block a member may propose is not kept at all.
  Propose(1, 2, 41, detail::kEarlyBytesPerPeerMax);
  EXPECT_EQ(Kept(1), (std::pair<std::size_t, std::size_t>{count, bytes}));
  EXPECT_EQ(Kept(2).first, 1u);
}

}  // namespace
}  // namespace colend::node
