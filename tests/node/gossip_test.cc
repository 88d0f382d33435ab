// When a node sends the transactions its clients submit to its peers (node/node_impl.h,
// kGossipDelayMs): at most one gossip frame every kGossipDelayMs, and a transaction that finds no
// frame sent in that time leaves at once, not after a fixed wait. The real node on a host whose
// clock, timers and network the test drives (as colend-sim does, without its faults).
#include <gtest/gtest.h>

#include "loop_node.h"

namespace colend::node {
namespace {

using GossipTest = testing::LoopNodeTest;
using Frames = std::vector<std::pair<std::int64_t, int>>;

TEST_F(GossipTest, ATransactionAfterAQuietIntervalLeavesAtOnceAndFramesKeepTheirSpacing) {
  ASSERT_TRUE(frames_.empty());
  const std::int64_t t0 = loop_.now;
  Submit();
  loop_.RunUntil(t0);
  EXPECT_EQ(frames_, (Frames{{t0, 1}})) << "no frame in the last kGossipDelayMs: sent at once";

  // Two more within the interval after that frame wait for its end and leave together.
  loop_.RunUntil(t0 + 1);
  Submit();
  loop_.RunUntil(t0 + 3);
  Submit();
  loop_.RunUntil(t0 + detail::kGossipDelayMs - 1);
  EXPECT_EQ(frames_.size(), 1u) << "a second frame within kGossipDelayMs of the first";
  loop_.RunUntil(t0 + detail::kGossipDelayMs);
  EXPECT_EQ(frames_, (Frames{{t0, 1}, {t0 + detail::kGossipDelayMs, 2}}));

  // Several admitted in one turn of the io loop share one frame.
  loop_.RunUntil(t0 + 50);
  Submit();
  Submit();
  Submit();
  loop_.RunUntil(t0 + 50);
  EXPECT_EQ(frames_, (Frames{{t0, 1}, {t0 + detail::kGossipDelayMs, 2}, {t0 + 50, 3}}));
}

}  // namespace
}  // namespace colend::node
