// Proves the mempool's limits: one member cannot fill it (per-sender count and memory), the total
// memory is bounded with each entry's bookkeeping counted, removal gives the quota back, and a
// proposer's batch stops at the byte budget in arrival order (the 36 MB block that stalled the
// chain cannot be built).
#include <gtest/gtest.h>

#include "node/mempool.h"

namespace colend::node {
namespace {

crypto::Hash256 Id(int i) { return crypto::Sha256("tx " + std::to_string(i)); }

constexpr std::size_t kEntry100 = Mempool::EntryBytes(100);

TEST(Mempool, OneSenderCannotFillIt) {
  MempoolLimits limits;
  limits.txs_max = 100;
  limits.memory_max = 10 * kEntry100;
  limits.sender_txs_max = 3;
  limits.sender_memory_max = 2 * kEntry100 + Mempool::EntryBytes(10);
  Mempool pool(limits);
  EXPECT_EQ(pool.Add(Id(1), "lead-bank", std::string(100, 'a')), Mempool::Admission::kAdded);
  EXPECT_EQ(pool.Add(Id(1), "lead-bank", std::string(100, 'a')), Mempool::Admission::kDuplicate);
  EXPECT_EQ(pool.Add(Id(2), "lead-bank", std::string(100, 'a')), Mempool::Admission::kAdded);
  EXPECT_EQ(pool.Add(Id(3), "lead-bank", std::string(100, 'a')), Mempool::Admission::kSenderQuota)
      << "a third entry of 100 bytes is above the sender's memory";
  EXPECT_EQ(pool.Add(Id(4), "lead-bank", std::string(10, 'a')), Mempool::Admission::kAdded)
      << "a small one still fits the sender's memory";
  EXPECT_EQ(pool.Add(Id(5), "lead-bank", std::string(1, 'a')), Mempool::Admission::kSenderQuota)
      << "the sender's memory is full";
  EXPECT_EQ(pool.Add(Id(6), "partner-bank", std::string(200, 'b')), Mempool::Admission::kAdded)
      << "another member still gets in";
  pool.Remove(Id(1));
  EXPECT_EQ(pool.Add(Id(7), "lead-bank", std::string(100, 'a')), Mempool::Admission::kAdded)
      << "a committed transaction gives its sender's quota back";
  EXPECT_EQ(pool.bytes(), 100u + 10 + 200 + 100) << "the wire bytes";
  EXPECT_EQ(pool.memory(), Mempool::EntryBytes(100) * 2 + Mempool::EntryBytes(10) +
                               Mempool::EntryBytes(200))
      << "the memory the limits bound";
}

TEST(Mempool, OneSendersCountIsBounded) {
  MempoolLimits limits;
  limits.sender_txs_max = 3;
  Mempool pool(limits);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(pool.Add(Id(i), "lead-bank", "t"), Mempool::Admission::kAdded);
  EXPECT_EQ(pool.Add(Id(3), "lead-bank", "t"), Mempool::Admission::kSenderQuota)
      << "a fourth transaction is above the sender's 3";
  EXPECT_EQ(pool.Add(Id(4), "partner-bank", "t"), Mempool::Admission::kAdded);
}

TEST(Mempool, TotalMemoryIsBoundedWithEachEntrysBookkeeping) {
  MempoolLimits limits;
  limits.memory_max = 5 * kEntry100;
  Mempool pool(limits);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(pool.Add(Id(i), "m" + std::to_string(i), std::string(100, 'x')), Mempool::Admission::kAdded);
  EXPECT_EQ(pool.Add(Id(9), "m9", std::string(1, 'x')), Mempool::Admission::kFull);
  EXPECT_EQ(pool.memory(), limits.memory_max);
}

// Small transactions cost far more than their wire: 50 wire bytes took 277 bytes of memory each
// (node/mempool.h). 1,000 of them are 50,000 bytes of wire, but a pool that may hold 100,000
// bytes of memory must stop them before 100,000 / 277 = 361.
TEST(Mempool, SmallTransactionsAreCountedAtTheirRealCost) {
  MempoolLimits limits;
  limits.memory_max = 100000;
  Mempool pool(limits);
  int added = 0;
  for (int i = 0; i < 1000; ++i) {
    if (pool.Add(Id(i), "m" + std::to_string(i % 5), std::string(50, 'x')) != Mempool::Admission::kAdded) break;
    ++added;
  }
  EXPECT_LE(added, 100000 / 277) << "277 bytes of memory each";
  EXPECT_GE(Mempool::EntryBytes(450), 450u + 290) << "above the 290 measured for 450 wire bytes";
  EXPECT_GE(Mempool::EntryBytes(4097), 4097u + 1375) << "above the 1,375 measured for 4,097";
  EXPECT_GE(Mempool::EntryBytes(65536), 65536u + 5696) << "above the 5,696 measured for 64 KiB";
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
