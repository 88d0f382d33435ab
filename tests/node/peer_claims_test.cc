// A member that claims a height it never serves (docs/consensus.md §9): once it has left
// kSyncUnansweredMax block requests in a row unanswered, its claims no longer count as ahead,
// so it can keep a node "syncing" (and the lead bank's business day from advancing) for a few
// seconds only, not for as long as it stays connected. The real node, fed frames as from its
// peers (loop_node.h); and PeerHeights itself.
#include <gtest/gtest.h>

#include <string>

#include "loop_node.h"

namespace colend::node {
namespace {

class PeerClaimsTest : public testing::LoopNodeTest {
 protected:
  // Member `m` announces a tip at `height` under a made-up hash, as it does every second.
  void Announce(std::size_t m, std::uint64_t height) {
    proto::PeerMessage message;
    message.mutable_status()->set_height(height);
    message.mutable_status()->set_last_block_hash(std::string(32, 'x'));
    on_frame_(built_->members[m].id, message.SerializeAsString());
  }
  bool Syncing() {
    auto status = node_->Call("status", nlohmann::json::object());
    EXPECT_TRUE(status.ok());
    return status.ok() && (*status)["syncing"].get<bool>();
  }
};

TEST_F(PeerClaimsTest, AClaimNeverServedStopsCountingAfterThreeUnansweredRequests) {
  ASSERT_TRUE(on_frame_);
  const std::int64_t t0 = loop_.now;
  for (std::int64_t t = 0; t <= 12'000; t += detail::kStatusIntervalMs) {
    loop_.At(t0 + t, [this] { Announce(1, 18'446'744'073'709'551'613u); });  // 2^64 - 3
  }
  loop_.RunUntil(t0 + 10);
  EXPECT_TRUE(Syncing()) << "a claim is believed at first";
  // One request left unanswered is a slow peer, not a liar.
  loop_.RunUntil(t0 + detail::kSyncRequestTimeoutMs + detail::kStatusIntervalMs + 10);
  EXPECT_TRUE(Syncing());
  loop_.RunUntil(t0 + (detail::kSyncUnansweredMax + 1) * (detail::kSyncRequestTimeoutMs + detail::kStatusIntervalMs));
  EXPECT_FALSE(Syncing()) << "still syncing towards a peer that never answered";
  loop_.RunUntil(t0 + 12'000);
  EXPECT_FALSE(Syncing()) << "its later announcements do not count until it answers";
}

TEST(PeerHeightsUnanswered, AnUnansweredPeerIsAskedOnlyWhenNoOtherIsAheadAndCountsAgainOnAnswer) {
  PeerHeights peers;
  const crypto::Hash256 hash{};
  peers.Claim("liar", 1'000'000, hash, false, 0);
  peers.Claim("slow", 20, hash, false, 0);
  EXPECT_EQ(peers.BestClaim(), 1'000'000u);
  peers.Unanswered("liar");
  EXPECT_EQ(peers.BestClaim(), 20u);
  EXPECT_EQ(peers.SyncPeer(10, ""), "slow");
  peers.Unanswered("slow");
  EXPECT_EQ(peers.BestClaim(), 0u);
  EXPECT_EQ(peers.SyncPeer(10, ""), "liar") << "still asked when no one else is ahead";
  peers.Forget("liar");  // a reconnection does not clear the mark
  peers.Claim("liar", 1'000'000, hash, false, 0);
  EXPECT_EQ(peers.BestClaim(), 0u);
  peers.Answered("slow");
  EXPECT_EQ(peers.BestClaim(), 20u);
  EXPECT_EQ(peers.SyncPeer(10, ""), "slow");
}

}  // namespace
}  // namespace colend::node
