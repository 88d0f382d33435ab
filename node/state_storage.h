// The contract state in the node's LevelDB store (contracts::StateStorage), so that a node holds
// only the top of the state tree in memory (docs/operations.md, Memory and start-up):
//   "k/<bucket 2 BE><key>" -> leaf hash (32) || value   the entry, grouped by bucket;
//   "s/<key>"              -> ""                          the key, in key order (prefix scans);
//   "r/<bucket 2 BE>"      -> bucket root (32)            every non-empty bucket;
//   "m/state-layout"       -> "2"                         written with every block.
// Store::CommitBlock writes all of these in the block's synced batch. A store written before
// this layout (values under "s/", nothing else) is converted once at start (Store::IndexState).
//
// Checks: at start the ledger rebuilds the top tree from the bucket roots and compares its root
// with the tip header's (certified) state root. The first time a bucket is read after start,
// every entry in it is checked (its leaf hash against its key and value, the leaves against the
// bucket's root); so every value a node uses has been checked against the certified root, and
// start-up costs the same whatever the state's size. A read that fails (LevelDB's checksums, a
// mismatch, an "s/" key without its entry) raises contracts::StateStorageError.
//
// Thread safety: one thread (the node's io thread).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "contracts/state.h"

namespace leveldb {
class DB;
class Status;
}

namespace colend::node {

std::string StateEntryKey(std::uint32_t bucket, std::string_view key);
std::string StateIndexKey(std::string_view key);
std::string StateRootKey(std::uint32_t bucket);
inline constexpr std::string_view kStateLayoutKey = "m/state-layout";
inline constexpr std::string_view kStateLayout = "2";

class LevelStateStorage : public contracts::StateStorage {
 public:
  explicit LevelStateStorage(leveldb::DB* db) : db_(db), checked_(contracts::kStateBuckets) {}
  std::optional<std::string> Get(std::string_view key) const override;
  std::vector<std::pair<std::string, std::string>> Scan(std::string_view prefix,
                                                        std::string_view after,
                                                        std::size_t limit) const override;
  std::vector<std::pair<std::string, crypto::Hash256>> BucketLeaves(
      std::uint32_t bucket) const override;
  std::vector<std::pair<std::uint32_t, crypto::Hash256>> BucketRoots() const override;
  void Committed(const contracts::StateWrites&, const contracts::StatePrepared&) override {}
  // Buckets checked since start (for tests and metrics).
  std::size_t checked_buckets() const;
  // Called with the error's text before a damaged read raises StateStorageError, so the node
  // stops (FATAL corrupt-store) whichever code path was reading.
  void set_on_damage(std::function<void(const std::string&)> fn) { on_damage_ = std::move(fn); }

 private:
  struct Entry {
    std::string key;
    crypto::Hash256 leaf;
    std::string value;
  };
  // Every entry of the bucket, checked against its root the first time it is read.
  std::vector<Entry> ReadBucket(std::uint32_t bucket) const;
  void Check(std::uint32_t bucket) const;

  [[noreturn]] void Damaged(const std::string& what) const;
  [[noreturn]] void Fail(const std::string& what) const;
  void ThrowIfBad(const leveldb::Status& s, const std::string& what) const;

  leveldb::DB* db_;
  mutable std::vector<bool> checked_;
  std::function<void(const std::string&)> on_damage_;
};

}  // namespace colend::node
