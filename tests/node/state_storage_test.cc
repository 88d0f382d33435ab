// The state kept in the store (node/state_storage.h): a tree over it has the roots, values,
// scans and proofs of the same state in memory, across restarts; opening it reads the buckets'
// roots, not the entries; every damage to what it holds is found when it is read (a changed
// value, a changed value with its leaf, a changed bucket root, a deleted value, a value no bucket
// lists) and raised, after telling the node; a bucket empty in the checked roots is not read; a
// replaced or erased value leaves no record behind; stores of the earlier layouts (values under
// "s/<key>", with or without leaves and bucket roots) are converted once to the same root, also
// when a conversion was cut short.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include "node/state_storage.h"
#include "node/store.h"

namespace colend::node {
namespace {

using contracts::StatePrepared;
using contracts::StateTree;
using contracts::StateWrites;

class StateStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("colend-state-storage-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
    Reopen();
  }
  void TearDown() override {
    tree_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    tree_.reset();
    store_.reset();
    auto store = Store::Open(dir_, crypto::Sha256("genesis"));
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(store).value();
    store_->OnStateDamage([this](const std::string& what) { damage_.push_back(what); });
    tree_ = std::make_unique<StateTree>(store_->state_storage());
  }
  // Commits `writes` as block `height` through the store, as the ledger does, and to `memory_`.
  Status TryCommit(std::uint64_t height, const StateWrites& writes, const StatePrepared& prepared) {
    Store::BlockWrite write;
    write.height = height;
    write.block_hash = crypto::Sha256("block-" + std::to_string(height));
    write.block.mutable_block()->set_header("header-" + std::to_string(height));
    write.state_writes = &writes;
    write.state_prepared = &prepared;
    write.ledger_accumulator = "acc";
    return store_->CommitBlock(write);
  }
  // Commits `writes` as block 2 and expects the store to refuse them as damage, naming `what`.
  void ExpectRefusedAsDamage(const StateWrites& writes, const std::string& what) {
    const Status committed = TryCommit(2, writes, tree_->Prepare(writes));
    ASSERT_FALSE(committed.ok()) << "a block was written over damage: " << what;
    EXPECT_EQ(committed.error().code, "corrupt-store") << committed.ToString();
    EXPECT_NE(committed.error().message.find(what), std::string::npos) << committed.ToString();
  }
  void Commit(std::uint64_t height, const StateWrites& writes) {
    const StatePrepared prepared = tree_->Prepare(writes);
    const Status committed = TryCommit(height, writes, prepared);
    ASSERT_TRUE(committed.ok()) << committed.ToString();
    tree_->Apply(writes, prepared);
    memory_.Apply(writes);
    for (const auto& [key, value] : writes) {
      if (value) {
        model_[key] = *value;
      } else {
        model_.erase(key);
      }
    }
  }
  // Keys of 16 buckets only, so that blocks keep coming back to the same buckets (as a long
  // chain's do), with entries added, replaced and erased in each.
  static const std::vector<std::string>& Keys() {
    static const std::vector<std::string> keys = [] {
      std::vector<std::string> out;
      for (int i = 0; out.size() < 240; ++i) {
        std::string key = "loan/" + std::to_string(i);
        if (contracts::StateBucket(key) < 16) out.push_back(std::move(key));
      }
      return out;
    }();
    return keys;
  }
  StateWrites RandomWrites(int n) {
    StateWrites writes;
    for (int i = 0; i < n; ++i) {
      const std::string& key = Keys()[rng_() % Keys().size()];
      if (rng_() % 5 == 0) {
        writes[key] = std::nullopt;
      } else {
        writes[key] = std::string(rng_() % 200, 'x') + std::to_string(rng_());
      }
    }
    return writes;
  }
  leveldb::DB* Raw() {
    // The store's own handle is private: tamper through a second LevelDB handle while it is shut.
    tree_.reset();
    store_.reset();
    leveldb::DB* db = nullptr;
    leveldb::Options options;
    EXPECT_TRUE(leveldb::DB::Open(options, dir_, &db).ok());
    return db;
  }
  // The record holding `key`'s value (through its "i/" record).
  static std::string ValueRecord(leveldb::DB* db, const std::string& key) {
    std::string id;
    EXPECT_TRUE(db->Get({}, StateIdKey(key), &id).ok()) << key;
    EXPECT_EQ(id.size(), 8u);
    std::string record = "v/";
    return record.append(id);
  }
  static std::size_t Count(leveldb::DB* db, const std::string& prefix) {
    std::unique_ptr<leveldb::Iterator> it(db->NewIterator({}));
    std::size_t n = 0;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) ++n;
    return n;
  }
  // Back to layout "3": values under "s/<key>", no ids; leaves, bucket roots as they are.
  static void ToKeyedLayout(leveldb::DB* db) {
    std::unique_ptr<leveldb::Iterator> it(db->NewIterator({}));
    leveldb::WriteBatch batch;
    for (it->Seek("i/"); it->Valid() && it->key().starts_with("i/"); it->Next()) {
      std::string value;
      const std::string key = it->key().ToString().substr(2);
      ASSERT_TRUE(db->Get({}, "v/" + it->value().ToString(), &value).ok()) << key;
      batch.Put("s/" + key, value);
      batch.Delete(it->key());
      batch.Delete("v/" + it->value().ToString());
    }
    batch.Delete("m/state-next");
    batch.Put("m/state-layout", "3");
    ASSERT_TRUE(db->Write({}, &batch).ok());
    ASSERT_EQ(Count(db, "v/"), 0u);
  }
  // Converts the store (as the ledger does at start) and checks that it is the memory state.
  void ConvertAndCompare() {
    ASSERT_TRUE(store_->IndexState().ok());
    tree_ = std::make_unique<StateTree>(store_->state_storage());
    EXPECT_EQ(tree_->Root(), memory_.Root());
    for (const auto& [key, value] : model_) ASSERT_EQ(tree_->Get(key), value);
    EXPECT_EQ(tree_->Scan("", ~std::size_t{0}).size(), model_.size());
    EXPECT_TRUE(damage_.empty());
    leveldb::DB* db = Raw();
    EXPECT_EQ(Count(db, "s/"), 0u);
    EXPECT_EQ(Count(db, "i/"), model_.size());
    EXPECT_EQ(Count(db, "v/"), model_.size());
    delete db;
    Reopen();
    ASSERT_TRUE(store_->IndexState().ok());  // done once: the mark is there now
    for (std::uint64_t h = 2; h <= 6; ++h) {  // blocks after the conversion take new ids
      Commit(h, RandomWrites(60));
      ASSERT_EQ(tree_->Root(), memory_.Root()) << "block " << h;
    }
    Reopen();
    for (const auto& [key, value] : model_) ASSERT_EQ(tree_->Get(key), value);
    EXPECT_TRUE(damage_.empty());
  }
  std::string dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<StateTree> tree_;
  StateTree memory_;
  std::map<std::string, std::string> model_;
  std::vector<std::string> damage_;
  std::mt19937 rng_{7};
};

TEST_F(StateStorageTest, StoredStateIsTheMemoryStateAcrossRestarts) {
  for (std::uint64_t h = 1; h <= 30; ++h) {
    Commit(h, RandomWrites(60));
    ASSERT_EQ(tree_->Root(), memory_.Root()) << "block " << h;
    for (int i = 0; i < 40; ++i) {  // reads between blocks (what the next block's execution does)
      const std::string& key = Keys()[rng_() % Keys().size()];
      ASSERT_EQ(tree_->Get(key), memory_.Get(key)) << key << " after block " << h;
    }
    if (h % 10 == 0) {
      Reopen();
      ASSERT_EQ(tree_->Root(), memory_.Root()) << "after reopening at block " << h;
    }
  }
  const auto all = tree_->Scan("", ~std::size_t{0});
  ASSERT_EQ(all.size(), model_.size());
  EXPECT_TRUE(std::equal(all.begin(), all.end(), model_.begin(), model_.end(),
                         [](const auto& a, const auto& b) { return a.first == b.first && a.second == b.second; }));
  EXPECT_EQ(tree_->Scan("loan/1", 5), memory_.Scan("loan/1", 5));
  ASSERT_GT(model_.size(), 100u);
  const std::string middle = std::next(model_.begin(), static_cast<long>(model_.size() / 2))->first;
  EXPECT_EQ(tree_->ScanAfter("loan/", middle, 7), memory_.ScanAfter("loan/", middle, 7));
  EXPECT_EQ(tree_->ScanAfter("loan/", middle, 7).front().first > middle, true);
  for (const auto& [key, value] : model_) {
    ASSERT_EQ(tree_->Get(key), value);
    const auto proof = tree_->Prove(key);
    ASSERT_TRUE(proof.has_value());
    ASSERT_EQ(proof->ToText(), memory_.Prove(key)->ToText());
  }
  EXPECT_FALSE(tree_->Get("loan/absent").has_value());
  EXPECT_FALSE(tree_->Prove("loan/absent").has_value());
  EXPECT_TRUE(damage_.empty());
}

// Opening reads the 65,536 bucket roots only: no bucket's entries are read (and checked) until
// something reads them, so start-up costs the same whatever the state's size.
TEST_F(StateStorageTest, OpeningReadsNoEntry) {
  StateWrites big;
  for (int i = 0; i < 20000; ++i) big["receipt/" + std::to_string(i)] = std::string(100, 'r');
  Commit(1, big);
  Reopen();
  auto* storage = dynamic_cast<LevelStateStorage*>(store_->state_storage());
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(storage->checked_buckets(), 0u);
  EXPECT_EQ(tree_->Root(), memory_.Root());
  EXPECT_EQ(tree_->Get("receipt/7"), std::string(100, 'r'));
  EXPECT_EQ(storage->checked_buckets(), 1u);
}

// A bucket the checked top tree has as empty is never read from the store, so a new key's absence
// costs no LevelDB iterator; what the store holds there is not part of the certified state. A leaf record
// planted in such a bucket is not taken for an entry, and is found as damage once the bucket,
// written by a block, is next read from the store. A block's write makes the bucket non-empty
// at once: the next block's root over it counts what the first wrote.
TEST_F(StateStorageTest, AnEmptyBucketIsNotReadFromTheStore) {
  Commit(1, RandomWrites(100));  // buckets 0-15 only
  constexpr std::uint32_t kBucket = 100;
  std::vector<std::string> keys;  // planted, then written by block 2, then by block 3
  for (int i = 0; keys.size() < 3; ++i) {
    std::string key = "receipt/" + std::to_string(i);
    if (contracts::StateBucket(key) == kBucket) keys.push_back(std::move(key));
  }
  leveldb::DB* db = Raw();
  const crypto::Hash256 leaf = StateTree::LeafHash(keys[0], "planted");
  ASSERT_TRUE(db->Put({}, StateLeafKey(kBucket, keys[0]), std::string(crypto::AsBytes(leaf))).ok());
  delete db;
  Reopen();
  auto* storage = dynamic_cast<LevelStateStorage*>(store_->state_storage());
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(tree_->Get(keys[0]), std::nullopt);
  EXPECT_EQ(tree_->Get(keys[1]), std::nullopt);
  EXPECT_FALSE(tree_->Prove(keys[0]).has_value());
  EXPECT_EQ(storage->checked_buckets(), 0u);
  EXPECT_TRUE(damage_.empty());

  Commit(2, {{keys[1], std::string("second")}});
  ASSERT_EQ(tree_->Root(), memory_.Root());
  Commit(3, {{keys[2], std::string("third")}});
  ASSERT_EQ(tree_->Root(), memory_.Root());
  EXPECT_EQ(tree_->Get(keys[1]), "second");
  EXPECT_EQ(tree_->Get(keys[2]), "third");
  EXPECT_EQ(tree_->Get(keys[0]), std::nullopt);
  ASSERT_EQ(tree_->Prove(keys[1])->ToText(), memory_.Prove(keys[1])->ToText());
  EXPECT_TRUE(damage_.empty());

  Reopen();  // now read from the store: the planted leaf is in the bucket's list
  EXPECT_THROW(tree_->Get(keys[1]), contracts::StateStorageError);
  ASSERT_EQ(damage_.size(), 1u);
  EXPECT_NE(damage_[0].find("does not give its recorded root"), std::string::npos) << damage_[0];
}

TEST_F(StateStorageTest, AChangedValueIsFoundWhenRead) {
  Commit(1, RandomWrites(200));
  const std::string key = model_.begin()->first;
  leveldb::DB* db = Raw();
  ASSERT_TRUE(db->Put({}, ValueRecord(db, key), "forged value").ok());
  delete db;
  Reopen();
  EXPECT_EQ(tree_->Root(), memory_.Root());  // the roots are untouched
  try {
    tree_->Get(key);
    FAIL() << "a forged value was read";
  } catch (const contracts::StateStorageError& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt-store"), std::string::npos) << e.what();
  }
  ASSERT_EQ(damage_.size(), 1u);
  EXPECT_NE(damage_[0].find(key), std::string::npos) << damage_[0];
}

TEST_F(StateStorageTest, AChangedValueIsFoundByAScan) {
  Commit(1, RandomWrites(200));
  const std::string key = std::next(model_.begin(), static_cast<long>(model_.size() / 2))->first;
  leveldb::DB* db = Raw();
  ASSERT_TRUE(db->Put({}, ValueRecord(db, key), "forged value").ok());
  delete db;
  Reopen();
  EXPECT_THROW(tree_->Scan("loan/", ~std::size_t{0}), contracts::StateStorageError);
  ASSERT_EQ(damage_.size(), 1u);
  EXPECT_NE(damage_[0].find("value of " + key + " does not hash to its leaf"), std::string::npos)
      << damage_[0];
}

TEST_F(StateStorageTest, AChangedValueWithItsLeafIsFoundByTheBucketRoot) {
  Commit(1, RandomWrites(200));
  const std::string key = model_.begin()->first;
  const std::uint32_t bucket = contracts::StateBucket(key);
  const crypto::Hash256 leaf = StateTree::LeafHash(key, "forged value");
  leveldb::DB* db = Raw();
  ASSERT_TRUE(db->Put({}, ValueRecord(db, key), "forged value").ok());
  ASSERT_TRUE(db->Put({}, StateLeafKey(bucket, key), std::string(crypto::AsBytes(leaf))).ok());
  delete db;
  Reopen();
  EXPECT_THROW(tree_->Get(key), contracts::StateStorageError);
  ASSERT_EQ(damage_.size(), 1u);
  EXPECT_NE(damage_[0].find("does not give its recorded root"), std::string::npos) << damage_[0];
}

TEST_F(StateStorageTest, AChangedBucketRootChangesTheStateRoot) {
  Commit(1, RandomWrites(200));
  leveldb::DB* db = Raw();
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator({}));
  it->Seek("r/");
  ASSERT_TRUE(it->Valid() && it->key().starts_with("r/"));
  const std::string k = it->key().ToString();
  it.reset();
  ASSERT_TRUE(db->Put({}, k, std::string(32, '\x01')).ok());
  delete db;
  Reopen();
  // The ledger compares this root with the tip header's (LedgerTest covers its refusal).
  EXPECT_NE(tree_->Root(), memory_.Root());
}

// A value no bucket lists is not part of the state: never read as present, and a scan that
// meets it stops on the damage.
TEST_F(StateStorageTest, AValueNoBucketListsIsNeverRead) {
  Commit(1, RandomWrites(200));
  leveldb::DB* db = Raw();
  ASSERT_TRUE(db->Put({}, StateIdKey("loan/planted"), std::string(7, '\0') + "\x01").ok());
  delete db;
  Reopen();
  EXPECT_EQ(tree_->Get("loan/planted"), std::nullopt);
  EXPECT_TRUE(damage_.empty());
  EXPECT_THROW(tree_->Scan("loan/", ~std::size_t{0}), contracts::StateStorageError);
  ASSERT_EQ(damage_.size(), 1u);
  EXPECT_NE(damage_[0].find("loan/planted"), std::string::npos) << damage_[0];
}

// A block that writes an entry not read since start deletes the value its "i/" record names:
// a damaged record must not make it delete another entry's value. The block is refused as damage
// and the other entry's value is still there.
TEST_F(StateStorageTest, AStrayIdRecordDoesNotDeleteAnotherEntrysValue) {
  Commit(1, RandomWrites(200));
  const std::string victim = model_.begin()->first;
  leveldb::DB* db = Raw();
  std::string victim_id;
  ASSERT_TRUE(db->Get({}, StateIdKey(victim), &victim_id).ok());
  ASSERT_TRUE(db->Put({}, StateIdKey("loan/planted"), victim_id).ok());  // no bucket lists it
  delete db;
  Reopen();
  ExpectRefusedAsDamage({{"loan/planted", std::string("new")}},
                        "loan/planted, which no bucket lists");
  ASSERT_EQ(damage_.size(), 1u);
  damage_.clear();
  Reopen();
  EXPECT_EQ(tree_->Get(victim), model_.at(victim));
  EXPECT_TRUE(damage_.empty());
}

TEST_F(StateStorageTest, AnIdRecordNamingAnotherEntrysValueDoesNotDeleteIt) {
  Commit(1, RandomWrites(200));
  const std::string victim = model_.begin()->first;
  const std::string written = std::prev(model_.end())->first;
  leveldb::DB* db = Raw();
  std::string victim_id;
  ASSERT_TRUE(db->Get({}, StateIdKey(victim), &victim_id).ok());
  ASSERT_TRUE(db->Put({}, StateIdKey(written), victim_id).ok());  // listed, but names the victim's
  delete db;
  Reopen();
  const std::string what = "value of " + written + " does not hash to its leaf";
  ExpectRefusedAsDamage({{written, std::string("new")}}, what);  // a replacement
  ExpectRefusedAsDamage({{written, std::nullopt}}, what);        // an erasure
  damage_.clear();
  Reopen();
  EXPECT_EQ(tree_->Get(victim), model_.at(victim));
  EXPECT_TRUE(damage_.empty());
}

TEST_F(StateStorageTest, AListedEntryWithoutItsIdRecordIsFoundWhenWritten) {
  Commit(1, RandomWrites(200));
  const std::string written = model_.begin()->first;
  leveldb::DB* db = Raw();
  ASSERT_TRUE(db->Delete({}, StateIdKey(written)).ok());
  delete db;
  Reopen();
  ExpectRefusedAsDamage({{written, std::string("new")}}, "has no value for " + written);
}

TEST_F(StateStorageTest, ADeletedValueIsFound) {
  Commit(1, RandomWrites(200));
  const std::string key = std::prev(model_.end())->first;
  leveldb::DB* db = Raw();
  ASSERT_TRUE(db->Delete({}, ValueRecord(db, key)).ok());
  delete db;
  Reopen();
  EXPECT_THROW(tree_->Get(key), contracts::StateStorageError);
  ASSERT_EQ(damage_.size(), 1u);
  EXPECT_NE(damage_[0].find("has no value"), std::string::npos) << damage_[0];
}

// Every value is one record: replacing or erasing an entry removes the record of its value, so
// the store holds as many values as the state has entries, however often they were rewritten.
TEST_F(StateStorageTest, AReplacedValueLeavesNoRecordBehind) {
  for (std::uint64_t h = 1; h <= 30; ++h) {
    Commit(h, RandomWrites(60));
    if (h % 10 == 0) Reopen();  // the cache forgotten: replaced values' ids read from the store
  }
  ASSERT_GT(model_.size(), 100u);
  leveldb::DB* db = Raw();
  EXPECT_EQ(Count(db, "v/"), model_.size());
  EXPECT_EQ(Count(db, "i/"), model_.size());
  EXPECT_EQ(Count(db, "k/"), model_.size());
  EXPECT_EQ(Count(db, "s/"), 0u);
  delete db;
}

// A store of layout "3" (values under "s/<key>", what nodes wrote until 2026-12-05) is converted
// once, in place.
TEST_F(StateStorageTest, TheKeyedLayoutIsConvertedToTheSameRoot) {
  Commit(1, RandomWrites(300));
  leveldb::DB* db = Raw();
  ToKeyedLayout(db);
  delete db;
  Reopen();
  ConvertAndCompare();
}

// A conversion cut short before its mark (some values already under ids) is done again; one cut
// short after its mark (some "s/" records left) finishes removing them.
TEST_F(StateStorageTest, AConversionCutShortIsDoneAgain) {
  Commit(1, RandomWrites(300));
  leveldb::DB* db = Raw();
  ToKeyedLayout(db);
  ASSERT_TRUE(db->Put({}, std::string("v/") + std::string(7, '\0') + "\x01", "half written").ok());
  ASSERT_TRUE(db->Put({}, StateIdKey(model_.begin()->first), std::string(7, '\0') + "\x01").ok());
  // ... and an id record of a key erased since (by an earlier version run in between).
  ASSERT_TRUE(db->Put({}, StateIdKey("loan/erased"), std::string(7, '\0') + "\x02").ok());
  delete db;
  Reopen();
  ConvertAndCompare();
  db = Raw();
  ASSERT_TRUE(db->Put({}, "s/" + model_.begin()->first, "left over").ok());
  delete db;
  Reopen();
  ASSERT_TRUE(store_->IndexState().ok());
  db = Raw();
  EXPECT_EQ(Count(db, "s/"), 0u);
  delete db;
}

// The next id must be above every stored value's id: lost or lowered, the next block would
// overwrite live values. The block is refused as a corrupt store and nothing is written.
TEST_F(StateStorageTest, ALostOrLoweredNextIdIsFound) {
  Commit(1, RandomWrites(100));
  for (const std::optional<std::string>& next : {std::optional<std::string>(),
                                                 std::optional<std::string>(std::string(7, '\0') + "\x03")}) {
    leveldb::DB* db = Raw();
    if (next) {
      ASSERT_TRUE(db->Put({}, "m/state-next", *next).ok());
    } else {
      ASSERT_TRUE(db->Delete({}, "m/state-next").ok());
    }
    const std::size_t values = Count(db, "v/");
    delete db;
    Reopen();
    const StateWrites writes = RandomWrites(20);
    const Status committed = TryCommit(2, writes, tree_->Prepare(writes));
    ASSERT_FALSE(committed.ok());
    EXPECT_EQ(committed.error().code, "corrupt-store") << committed.ToString();
    EXPECT_NE(committed.error().message.find("next value id"), std::string::npos) << committed.ToString();
    db = Raw();
    EXPECT_EQ(Count(db, "v/"), values);
    std::string tip;
    EXPECT_TRUE(db->Get({}, "m/tip", &tip).ok());
    EXPECT_EQ(tip.substr(0, 8), std::string(7, '\0') + "\x01");  // still block 1
    delete db;
    Reopen();
    damage_.clear();
  }
}

// A store with leaves or ids but no layout mark lost its mark: refused, not taken for the layout
// before "3" (whose conversion would number the values again from 1).
TEST_F(StateStorageTest, ALostLayoutMarkIsFound) {
  Commit(1, RandomWrites(100));
  leveldb::DB* db = Raw();
  ASSERT_TRUE(db->Delete({}, "m/state-layout").ok());
  delete db;
  Reopen();
  const Status indexed = store_->IndexState();
  ASSERT_FALSE(indexed.ok());
  EXPECT_EQ(indexed.error().code, "corrupt-store");
  EXPECT_NE(indexed.error().message.find("layout mark is missing"), std::string::npos) << indexed.ToString();
}

// A store of the layout before "3" (values under "s/" only) is converted once, in place.
TEST_F(StateStorageTest, TheEarlierLayoutIsConvertedToTheSameRoot) {
  const StateWrites writes = RandomWrites(300);
  Commit(1, writes);
  leveldb::DB* db = Raw();
  ToKeyedLayout(db);
  {
    // Back to the earlier layout: "s/<key>" -> value only, nothing under "k/" or "r/", no mark.
    std::unique_ptr<leveldb::Iterator> it(db->NewIterator({}));
    std::vector<std::string> drop;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string k = it->key().ToString();
      if (k.starts_with("k/") || k.starts_with("r/") || k == "m/state-layout") drop.push_back(k);
    }
    it.reset();
    ASSERT_FALSE(drop.empty());
    for (const auto& k : drop) ASSERT_TRUE(db->Delete({}, k).ok());
  }
  delete db;
  Reopen();
  EXPECT_NE(tree_->Root(), memory_.Root());  // nothing indexed yet
  ConvertAndCompare();
}

}  // namespace
}  // namespace colend::node
