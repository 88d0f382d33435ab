// The contract state in the node's LevelDB store (contracts::StateStorage), so that a node holds
// only the top of the state tree in memory (docs/operations.md, Memory and start-up):
//   "v/<id 8 BE>"           -> value      every value, under an id given when it was written;
//   "i/<key>"               -> id (8 BE)  every entry's value id, in key order;
//   "k/<bucket 2 BE><key>"  -> leaf (32)  every entry's leaf hash, grouped by bucket, in key order;
//   "r/<bucket 2 BE>"       -> root (32)  the root of every non-empty bucket;
//   "m/state-next"          -> id (8 BE)  the next value's id;
//   "m/state-layout"        -> "4"        written with every block that writes state.
// Store::CommitBlock writes these in the block's synced batch (AddWrites) from the hashes
// prepared when the block was executed: a write costs its value, its id and one 32-byte leaf,
// whatever the bucket's size, and deletes the value it replaces. Ids only grow, so each value
// lands after every earlier one in LevelDB's key order and its compaction moves values down the
// levels instead of merging them among older ones (keyed by hash, every write was rewritten about
// ten times per level); only the small "i/" and "k/" records are keyed by the entry's key. Before
// its first write after start the storage checks that the next id is above the last stored one.
// A store of an earlier layout is converted once at start (ConvertLayout): "3" (values under
// "s/<key>", the rest as now) and the one before it ("s/" only).
//
// Checks: at start the ledger rebuilds the top tree from the "r/" roots and compares its root
// with the tip header's (certified) state root. The first time a bucket is read after start, its
// key list is checked against its root; every value read from the store is checked against its
// leaf. So every value a node uses has been checked against the certified root, start-up costs
// the same whatever the state's size, and a check never reads more than what is being read. A
// key is present only if its bucket lists it (an "i/" record the bucket does not list is damage).
// A block's write of an entry not read since start checks the id it deletes the same way.
// A bucket without a root in the checked top tree (BucketRoots, then each block's roots) is empty
// in the certified state: its key list is not read from the store, so a new key's absence (Get)
// and a state root over it cost no LevelDB iterator (a block's write of a new key still reads
// its "i/" record, above). A leaf record planted there is never used: it is found as damage when
// the bucket, once written, is next read from the store with keys in it (its list no longer gives
// its root); if a block erases every key of the bucket first, it stays unused garbage.
// A read that fails (LevelDB's checksums, a mismatch, a malformed record, an id without its value)
// calls the damage callback, then raises contracts::StateStorageError.
//
// Thread safety: one thread (the node's io thread).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "contracts/state.h"
#include "crypto/result.h"
#include "node/lru_cache.h"

namespace leveldb {
class DB;
class Slice;
class Status;
class WriteBatch;
}

namespace colend::node {

std::string StateValueKey(std::uint64_t id);
std::string StateIdKey(std::string_view key);
std::string StateLeafKey(std::uint32_t bucket, std::string_view key);
std::string StateRootKey(std::uint32_t bucket);
inline constexpr std::string_view kStateLayoutKey = "m/state-layout";
inline constexpr std::string_view kStateNextIdKey = "m/state-next";
// "4": this layout. "3": values under "s/<key>" (converted at start). (Layouts "1" and "2" were
// development builds that never shipped; a store marked with them is refused as an unknown
// layout: move data/ aside and let it re-sync.)
inline constexpr std::string_view kStateLayout = "4";
inline constexpr std::string_view kStateLayoutKeyed = "3";
// A conversion writes in batches of about this many bytes (its memory), then marks the layout in
// one synced write; a conversion cut short is done again from the start.
inline constexpr std::size_t kStateConvertBatchBytes = 4u << 20;
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
  explicit LevelStateStorage(leveldb::DB* db)
      : db_(db), checked_(contracts::kStateBuckets), rooted_(contracts::kStateBuckets) {}
  // Converts a store of an earlier layout (above) to this one, once; a store with a tip and no
  // layout mark is of the layout before "3". Also finishes removing the "s/" records of a
  // conversion that stopped after marking the layout. Clears the caches.
  Status ConvertLayout(bool has_tip);
  // Adds a block's state writes to its batch: each new value under the next id, its "i/" and
  // "k/" records, the bucket roots, the replaced values deleted. A replaced value not read since
  // start is checked first: its bucket lists the key and the value under its id hashes to its
  // leaf; a new key must have no "i/" record (a stray one may hold a live entry's id). Raises
  // StateStorageError (damage) otherwise, or if an id cannot be read, before deleting anything.
  // Committed then takes the ids into the cache.
  void AddWrites(leveldb::WriteBatch* batch, const contracts::StateWrites& writes,
                 const contracts::StatePrepared& prepared);
  std::optional<std::string> Get(std::string_view key) const override;
  std::vector<std::pair<std::string, std::string>> Scan(std::string_view prefix,
                                                        std::string_view after,
                                                        std::size_t limit) const override;
  contracts::SharedBucketLeaves BucketLeaves(std::uint32_t bucket) const override;
  // Also learns which buckets are empty (above), until the next ConvertLayout.
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
  // The id of the key's value, if an "i/" record gives one (not checked against the bucket).
  std::optional<std::uint64_t> ReadId(std::string_view key) const;
  std::optional<std::string> ReadValue(std::uint64_t id) const;
  // The key's value by its id, checked against its leaf; damage if it has none.
  std::string ReadChecked(std::string_view key, std::uint64_t id, const crypto::Hash256& leaf) const;
  // Calls `add` with each record under `prefix` (the key without it), writing `batch`
  // (unsynced) each time it reaches kStateConvertBatchBytes; the rest is left in it.
  using RecordFn = std::function<void(std::string_view key, const leveldb::Slice& value)>;
  Status EachRecord(std::string_view prefix, leveldb::WriteBatch* batch, const RecordFn& add,
                    const std::string& what);
  // The highest id under "v/" (0 if none).
  std::uint64_t LastValueId() const;
  Status WriteSynced(leveldb::WriteBatch* batch, const std::string& what);
  Status IndexKeyedValues();
  Status ConvertKeyedValues();
  Status RemoveKeyedValues();
  [[noreturn]] void Damaged(const std::string& what) const;
  [[noreturn]] void Fail(const std::string& what) const;
  void ThrowIfBad(const leveldb::Status& s, const std::string& what) const;
  void ThrowIfIteratorBad(const leveldb::Status& s, const std::string& what) const;

  leveldb::DB* db_;
  mutable std::vector<bool> checked_;
  // Buckets with a root (a non-empty key list), known once BucketRoots has read them all, then
  // kept by Committed: a bucket known to be empty is never read from the store.
  mutable bool roots_known_ = false;
  mutable std::vector<bool> rooted_;
  struct CachedValue {
    std::optional<std::string> value;
    std::uint64_t id = 0;  // of the value (ids start at 1)
  };
  mutable LruCache<std::string, CachedValue> values_{kStateValueCacheBytes};
  std::uint64_t next_id_ = 0;  // 0: not read from the store yet
  std::map<std::string, std::uint64_t, std::less<>> written_ids_;  // by the last AddWrites
  mutable LruCache<std::uint32_t, contracts::SharedBucketLeaves> buckets_{kStateBucketCacheBytes};
  std::function<void(const std::string&)> on_damage_;
};

}  // namespace colend::node
