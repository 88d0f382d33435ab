// Proves the per-peer serving budget (node/serve_budget.h): a peer gets its burst of requests,
// then only as many as the rate refills; a large answer uses up the byte budget so the next
// request waits; peers are budgeted independently.
#include "node/serve_budget.h"

#include <gtest/gtest.h>

namespace colend::node {
namespace {

TEST(ServeBudget, BurstThenRate) {
  ServeBudget budget({.requests_per_second = 10, .requests_burst = 20,
                      .bytes_per_second = 1 << 20, .bytes_burst = 1 << 20});
  int granted = 0;
  for (int i = 0; i < 100; ++i) granted += budget.TakeRequest("p", 1000) ? 1 : 0;
  EXPECT_EQ(granted, 20);
  EXPECT_FALSE(budget.TakeRequest("p", 1050));  // half a token refilled
  EXPECT_TRUE(budget.TakeRequest("p", 1100));   // one token after 100 ms at 10/s
  EXPECT_FALSE(budget.TakeRequest("p", 1100));
  EXPECT_TRUE(budget.TakeRequest("other", 1100));  // another peer has its own budget
}

TEST(ServeBudget, BytesServedDelayTheNextRequest) {
  ServeBudget budget({.requests_per_second = 1000, .requests_burst = 1000,
                      .bytes_per_second = 1000, .bytes_burst = 1000});
  ASSERT_TRUE(budget.TakeRequest("p", 0));
  budget.ChargeBytes("p", 5000);              // 4000 bytes over
  EXPECT_FALSE(budget.TakeRequest("p", 3000));  // refilled 3000: still 1000 short
  EXPECT_TRUE(budget.TakeRequest("p", 4100));
}

TEST(ServeBudget, AClockGoingBackwardsGrantsNothingExtra) {
  ServeBudget budget({.requests_per_second = 10, .requests_burst = 1,
                      .bytes_per_second = 1 << 20, .bytes_burst = 1 << 20});
  ASSERT_TRUE(budget.TakeRequest("p", 5000));
  EXPECT_FALSE(budget.TakeRequest("p", 1000));
  EXPECT_FALSE(budget.TakeRequest("p", 5000));
}

}  // namespace
}  // namespace colend::node
