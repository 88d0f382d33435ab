// Proves the mempool's limits: one member cannot fill it (per-sender count and bytes), the total
// bytes are bounded, removal gives the quota back, and a proposer's batch stops at the byte budget
// in arrival order (the 36 MB block that stalled the chain cannot be built).
#include <gtest/gtest.h>

#include "node/mempool.h"

namespace colend::node {
namespace {

crypto::Hash256 Id(int i) { return crypto::Sha256("tx " + std::to_string(i)); }

TEST(Mempool, OneSenderCannotFillIt) {
  MempoolLimits limits;
  limits.txs_max = 100;
  limits.bytes_max = 1000;
  limits.sender_txs_max = 3;
  limits.sender_bytes_max = 250;
  Mempool pool(limits);
  EXPECT_EQ(pool.Add(Id(1), "lead-bank", std::string(100, 'a')), Mempool::Admission::kAdded);
  EXPECT_EQ(pool.Add(Id(1), "lead-bank", std::string(100, 'a')), Mempool::Admission::kDuplicate);
  EXPECT_EQ(pool.Add(Id(2), "lead-bank", std::string(100, 'a')), Mempool::Admission::kAdded);
  EXPECT_EQ(pool.Add(Id(3), "lead-bank", std::string(100, 'a')), Mempool::Admission::kSenderQuota)
      << "300 bytes is above the sender's 250";
  EXPECT_EQ(pool.Add(Id(4), "lead-bank", std::string(10, 'a')), Mempool::Admission::kAdded);
  EXPECT_EQ(pool.Add(Id(5), "lead-bank", std::string(1, 'a')), Mempool::Admission::kSenderQuota)
      << "a fourth transaction is above the sender's 3";
  EXPECT_EQ(pool.Add(Id(6), "partner-bank", std::string(200, 'b')), Mempool::Admission::kAdded)
      << "another member still gets in";
  pool.Remove(Id(1));
  EXPECT_EQ(pool.Add(Id(7), "lead-bank", std::string(100, 'a')), Mempool::Admission::kAdded)
      << "a committed transaction gives its sender's quota back";
  EXPECT_EQ(pool.bytes(), 100u + 10 + 200 + 100);
}

TEST(Mempool, TotalBytesAreBounded) {
  MempoolLimits limits;
  limits.bytes_max = 500;
  Mempool pool(limits);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(pool.Add(Id(i), "m" + std::to_string(i), std::string(100, 'x')), Mempool::Admission::kAdded);
  EXPECT_EQ(pool.Add(Id(9), "m9", std::string(1, 'x')), Mempool::Admission::kFull);
}

TEST(Mempool, BatchesStopAtTheByteBudgetInArrivalOrder) {
  Mempool pool(MempoolLimits{});
  pool.Add(Id(1), "a", std::string(60, '1'));
  pool.Add(Id(2), "b", std::string(60, '2'));
  pool.Add(Id(3), "c", std::string(10, '3'));
  auto batch = pool.Oldest(10, 125);  // 60 + 60 fit, the third (10) would make 130
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0][0], '1');
  EXPECT_EQ(batch[1][0], '2');
  EXPECT_EQ(pool.Oldest(1, 1000).size(), 1u);
  EXPECT_EQ(pool.Oldest(10, 59).size(), 0u) << "the oldest does not fit: nothing jumps the queue";
}

}  // namespace
}  // namespace colend::node
