// Proves the store's durability contract: a committed block, its transaction index, state and tip
// survive reopening; a data directory of another chain is refused; replica state round-trips.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "node/store.h"

#include <leveldb/db.h>

namespace colend::node {
namespace {

std::string TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("colend-store-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

TEST(Store, CommitSurvivesReopen) {
  std::string dir = TempDir("reopen");
  crypto::Hash256 genesis = crypto::Sha256("genesis");
  crypto::Hash256 tx = crypto::Sha256("tx");
  {
    auto store = Store::Open(dir, genesis);
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    EXPECT_FALSE((*store)->GetTip()->has_value());
    contracts::StateWrites writes = {{"a", "1"}, {"b", std::nullopt}};
    Store::BlockWrite write;
    write.height = 1;
    write.block_hash = crypto::Sha256("block-1");
    write.block.mutable_block()->set_header("header-1");
    write.block.mutable_block()->add_txs("tx-bytes");
    write.tx_ids = {tx};
    write.state_writes = &writes;
    write.ledger_accumulator = "acc";
    // Each synced write is reported once, after it succeeded (the node's colend_sync_seconds).
    std::vector<std::pair<Store::Synced, double>> synced;
    (*store)->OnSynced(
        [&synced](Store::Synced what, double seconds) { synced.emplace_back(what, seconds); });
    // State writes need the hashes prepared on the committed state (here: empty).
    EXPECT_EQ((*store)->CommitBlock(write).error().code, "internal-error");
    EXPECT_TRUE(synced.empty()) << "a refused block is not a synced write";
    contracts::StateTree empty;
    const contracts::StatePrepared prepared = empty.Prepare(writes);
    write.state_prepared = &prepared;
    ASSERT_TRUE((*store)->CommitBlock(write).ok());
    ASSERT_TRUE((*store)->SaveReplicaState("votes").ok());
    ASSERT_EQ(synced.size(), 2u);
    EXPECT_EQ(synced[0].first, Store::Synced::kBlock);
    EXPECT_EQ(synced[1].first, Store::Synced::kReplicaState);
    for (const auto& [what, seconds] : synced) EXPECT_TRUE(seconds >= 0 && seconds < 60) << seconds;
  }
  auto store = Store::Open(dir, genesis);
  ASSERT_TRUE(store.ok());
  auto tip = *(*store)->GetTip();
  ASSERT_TRUE(tip.has_value());
  EXPECT_EQ(tip->height, 1u);
  EXPECT_EQ(tip->block_hash, crypto::Sha256("block-1"));
  auto block = (*store)->GetBlock(1);
  ASSERT_TRUE(block.ok());
  EXPECT_EQ(block->block().header(), "header-1");
  auto location = (*store)->FindTx(tx);
  ASSERT_TRUE(location.has_value());
  EXPECT_EQ(location->height, 1u);
  EXPECT_EQ(location->index, 0u);
  EXPECT_FALSE((*store)->FindTx(crypto::Sha256("other")).has_value());
  contracts::StateTree tree((*store)->state_storage());
  EXPECT_EQ(tree.Get("a"), "1");
  EXPECT_EQ(tree.Get("b"), std::nullopt);
  EXPECT_EQ(tree.Scan("", 10).size(), 1u);
  contracts::StateTree memory;
  memory.Apply({{"a", "1"}});
  EXPECT_EQ(tree.Root(), memory.Root());
  EXPECT_EQ(*(*store)->LoadReplicaState(), "votes");
  EXPECT_EQ((*store)->GetBlock(2).error().code, "block-not-found");
  std::filesystem::remove_all(dir);
}

TEST(Store, RefusesDataOfAnotherChain) {
  std::string dir = TempDir("chain");
  { ASSERT_TRUE(Store::Open(dir, crypto::Sha256("chain A")).ok()); }
  auto other = Store::Open(dir, crypto::Sha256("chain B"));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, "wrong-chain-data");
  std::filesystem::remove_all(dir);
}

// An emptied, truncated or damaged vote-state record used to read as "signed nothing" (empty
// bytes restore a blank replica): now each is refused, so the node stops instead of signing
// again what it may have signed.
TEST(Store, AVoteStateRecordThatIsEmptyTruncatedOrDamagedIsRefused) {
  std::string dir = TempDir("votes");
  const crypto::Hash256 genesis = crypto::Sha256("genesis");
  const std::string votes(300, 'v');
  { ASSERT_TRUE((*Store::Open(dir, genesis))->SaveReplicaState(votes).ok()); }
  std::string framed;
  auto with_raw = [&](const std::function<void(leveldb::DB*)>& fn) {
    leveldb::DB* raw = nullptr;
    ASSERT_TRUE(leveldb::DB::Open(leveldb::Options(), dir, &raw).ok());
    std::unique_ptr<leveldb::DB> db(raw);
    fn(db.get());
  };
  with_raw([&](leveldb::DB* db) { ASSERT_TRUE(db->Get(leveldb::ReadOptions(), "m/replica", &framed).ok()); });
  EXPECT_EQ(**(*Store::Open(dir, genesis))->LoadReplicaState(), votes);
  const std::vector<std::pair<std::string, std::string>> damaged = {
      {"empty", ""},
      {"truncated", framed.substr(0, framed.size() - 100)},
      {"unframed", votes},
      {"flipped", [&] { std::string f = framed; f[f.size() - 1] ^= 1; return f; }()}};
  for (const auto& entry : damaged) {  // not a structured binding: captured below (clang < 16)
    const std::string& name = entry.first;
    const std::string& bytes = entry.second;
    with_raw([&](leveldb::DB* db) { ASSERT_TRUE(db->Put(leveldb::WriteOptions(), "m/replica", bytes).ok()); });
    auto store = Store::Open(dir, genesis);
    ASSERT_TRUE(store.ok());
    auto loaded = (*store)->LoadReplicaState();
    ASSERT_FALSE(loaded.ok()) << name;
    EXPECT_EQ(loaded.error().code, "corrupt-store") << name;
  }
  std::filesystem::remove_all(dir);
}

// LevelDB writes its buffer to a level-0 table once it holds more than the size the store was
// opened with: a store opened with 1 MiB makes a table after 3 MiB of records, one opened with
// 8 MiB makes none.
TEST(Store, TheWriteBufferSizeGivenIsTheOneLevelDbFlushesAt) {
  auto tables = [](const std::string& dir) {
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() == ".ldb") ++n;
    }
    return n;
  };
  for (std::size_t mib : {1u, 8u}) {
    std::string dir = TempDir("buffer-" + std::to_string(mib));
    {
      auto store = Store::Open(dir, crypto::Sha256("genesis"), nullptr, mib << 20);
      ASSERT_TRUE(store.ok()) << store.error().ToString();
      EXPECT_EQ((*store)->write_buffer_bytes(), mib << 20);
      for (int i = 0; i < 3; ++i) {
        std::string value(1u << 20, static_cast<char>('a' + i));
        ASSERT_TRUE((*store)->PutAux("record-" + std::to_string(i), value).ok());
      }
      // The flush runs on LevelDB's background thread: give it time before looking.
      for (int wait = 0; mib == 1 && wait < 100 && tables(dir) == 0; ++wait) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (mib == 1) {
        EXPECT_GE(tables(dir), 1) << "a 1 MiB buffer holding 3 MiB is flushed to a table";
      } else {
        EXPECT_EQ(tables(dir), 0) << "an 8 MiB buffer holding 3 MiB is not flushed";
      }
    }
    std::filesystem::remove_all(dir);
  }
}

// Five members in a row of the genesis order get five sizes; none goes past 20 MiB.
TEST(Store, WriteBufferSizesDifferForFiveMembersInARow) {
  for (std::size_t first = 0; first < 7; ++first) {
    std::set<std::size_t> sizes;
    for (std::size_t place = first; place < first + 5; ++place) {
      const std::size_t bytes = StoreWriteBufferBytes(place);
      EXPECT_GE(bytes, 12u << 20);
      EXPECT_LE(bytes, 20u << 20);
      sizes.insert(bytes);
    }
    EXPECT_EQ(sizes.size(), 5u) << "places " << first << " to " << first + 4;
  }
}

}  // namespace
}  // namespace colend::node
