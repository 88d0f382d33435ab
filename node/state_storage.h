// The contract state in the node's LevelDB store (contracts::StateStorage), so that a node holds
// only the top of the state tree in memory (docs/operations.md, Memory and start-up):
//   "s/<key>"               -> value      every entry, in key order;
//   "k/<bucket 2 BE><key>"  -> leaf (32)  every entry's leaf hash, grouped by bucket, in key order;
//   "r/<bucket 2 BE>"       -> root (32)  the root of every non-empty bucket;
//   "m/state-layout"        -> "3"        written with every block.
// Store::CommitBlock writes these in the block's synced batch from the hashes prepared when the
// block was executed: a write costs its value and one 32-byte leaf, whatever the bucket's size.
// A store written before this layout ("s/" only) is given its "k/" and "r/" records once at
// start (Store::IndexState).
//
// Checks: at start the ledger rebuilds the top tree from the "r/" roots and compares its root
// with the tip header's (certified) state root. The first time a bucket is read after start, its
// key list is checked against its root; every value read from the store is checked against its
// leaf. So every value a node uses has been checked against the certified root, start-up costs
// the same whatever the state's size, and a check never reads more than what is being read. A
// key is present only if its bucket lists it (an "s/" record the bucket does not list is damage). A read that fails (LevelDB's checksums, a mismatch, a malformed record)
// calls the damage callback, then raises contracts::StateStorageError.
//
// Thread safety: one thread (the node's io thread).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "contracts/state.h"
#include "crypto/result.h"
#include "node/lru_cache.h"

namespace leveldb {
class DB;
class Status;
}

namespace colend::node {

std::string StateValueKey(std::string_view key);
std::string StateLeafKey(std::uint32_t bucket, std::string_view key);
std::string StateRootKey(std::uint32_t bucket);
inline constexpr std::string_view kStateLayoutKey = "m/state-layout";
// "3": this layout. (Layouts "1" and "2" were development builds that never shipped; a store
// marked with them is refused as an unknown layout: move data/ aside and let it re-sync.)
inline constexpr std::string_view kStateLayout = "3";
// Recently read or written values (and absent keys) and bucket key lists are kept in memory up
// to these sizes, so a block's reads and its state root seldom go to LevelDB; the caches are
// written through at each commit (Committed).
inline constexpr std::size_t kStateValueCacheBytes = 16u << 20;
inline constexpr std::size_t kStateBucketCacheBytes = 16u << 20;

// The error a StateStorageError raised here carries ("<code>: <message>": corrupt-store or
// storage-error), for the ledger, start-up and the RPC dispatcher to return.
Error StateStorageErrorOf(const contracts::StateStorageError& e);

class LevelStateStorage : public contracts::StateStorage {
 public:
  explicit LevelStateStorage(leveldb::DB* db) : db_(db), checked_(contracts::kStateBuckets) {}
  std::optional<std::string> Get(std::string_view key) const override;
  std::vector<std::pair<std::string, std::string>> Scan(std::string_view prefix,
                                                        std::string_view after,
                                                        std::size_t limit) const override;
  contracts::SharedBucketLeaves BucketLeaves(std::uint32_t bucket) const override;
  std::vector<std::pair<std::uint32_t, crypto::Hash256>> BucketRoots() const override;
  void Committed(const contracts::StateWrites& writes,
                 const contracts::StatePrepared& prepared) override;
  // Buckets checked since start (for tests).
  std::size_t checked_buckets() const;
  // Called with the error's text before a damaged read raises StateStorageError, so the node
  // stops (FATAL corrupt-store) whichever code path was reading.
  void set_on_damage(std::function<void(const std::string&)> fn) { on_damage_ = std::move(fn); }

 private:
  // The bucket's key list (cached), checked the first time it is read.
  contracts::SharedBucketLeaves Bucket(std::uint32_t bucket) const;
  // The key's leaf hash if its bucket lists it.
  std::optional<crypto::Hash256> LeafOf(std::string_view key) const;
  // Fails (damage) unless `value` hashes to `leaf`.
  void CheckLeaf(std::string_view key, std::string_view value, const crypto::Hash256& leaf) const;
  std::optional<std::string> ReadValue(std::string_view key) const;
  [[noreturn]] void Damaged(const std::string& what) const;
  [[noreturn]] void Fail(const std::string& what) const;
  void ThrowIfBad(const leveldb::Status& s, const std::string& what) const;
  void ThrowIfIteratorBad(const leveldb::Status& s, const std::string& what) const;

  leveldb::DB* db_;
  mutable std::vector<bool> checked_;
  mutable LruCache<std::string, std::optional<std::string>> values_{kStateValueCacheBytes};
  mutable LruCache<std::uint32_t, contracts::SharedBucketLeaves> buckets_{kStateBucketCacheBytes};
  std::function<void(const std::string&)> on_damage_;
};

}  // namespace colend::node
