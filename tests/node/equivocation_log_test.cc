// A member that signs two different votes in one round is named in the node's log at warn, so that
// an operator running with --log-level warn sees it (docs/operations.md, "Logs"). The real node,
// fed the two votes as from that member's connection (loop_node.h).
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "consensus/block.h"
#include "loop_node.h"

namespace colend::node {
namespace {

class EquivocationLogTest : public testing::LoopNodeTest {
 protected:
  EquivocationLogTest() { log_level_ = "warn"; }

  // A prevote of member `m` for the current height's round 0, signed with its key.
  void Prevote(std::size_t m, const std::optional<crypto::Hash256>& block) {
    const std::uint64_t height = 1;
    const std::string text =
        consensus::VoteText(genesis_->chain_id, 0, height, 0, consensus::Phase::kPrevote, block);
    auto signature = built_->members[m].signing_key.Sign(text);
    ASSERT_TRUE(signature.ok()) << signature.error().ToString();
    proto::PeerMessage message;
    consensus::proto::Vote* vote = message.mutable_consensus()->mutable_vote();
    vote->set_height(height);
    vote->set_round(0);
    vote->set_phase(consensus::proto::PHASE_PREVOTE);
    if (block) vote->set_block_hash(std::string(crypto::AsBytes(*block)));
    vote->set_member(built_->members[m].id);
    vote->set_signature(*signature);
    on_frame_(built_->members[m].id, message.SerializeAsString());
  }
};

TEST_F(EquivocationLogTest, ADoubleVoteIsLoggedAtWarn) {
  ASSERT_TRUE(on_frame_);
  Prevote(1, crypto::Sha256("one block"));
  EXPECT_EQ(log_.str().find("EQUIVOCATION"), std::string::npos) << "one vote is no fault";
  Prevote(1, std::nullopt);
  loop_.RunUntil(loop_.now + 100);
  EXPECT_NE(log_.str().find("EQUIVOCATION: " + built_->members[1].id), std::string::npos) << log_.str();
}

}  // namespace
}  // namespace colend::node
