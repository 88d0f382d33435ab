// The contract state: an ordered key/value map. Contracts read through StateReader and write into
// a StateOverlay; the node commits an overlay's writes with the block.
//
// The state root (a header field) is two levels of RFC 6962 trees, so that a block's root costs
// what its writes touch rather than the whole state:
//   - entry leaf = u32be(key length) || key || value;
//   - each entry belongs to bucket StateBucket(key) = the first two bytes of SHA-256(key),
//     big-endian (kStateBuckets = 65536 buckets);
//   - a bucket's root is the RFC 6962 root over its entries' leaves in key order (an empty
//     bucket: SHA-256 of the empty string);
//   - the state root is the RFC 6962 root over the 65536 bucket roots, as leaves, in bucket order.
// 65536 buckets keep a bucket small (about 30 entries with 2 million entries in the state), so
// both a block's root and an entry's proof cost little more on a long chain than on a new one.
// An entry's inclusion proof is two RFC 6962 audit paths: the entry in its bucket, then the bucket
// root (leaf data = the 32 root bytes) in the top tree.
//
// Invariants: keys are non-empty; iteration is always in key order (determinism).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/hash.h"

namespace colend::contracts {

using StateWrites = std::map<std::string, std::optional<std::string>, std::less<>>;

inline constexpr std::size_t kStateBuckets = 65536;
std::uint32_t StateBucket(std::string_view key);

class StateReader {
 public:
  virtual ~StateReader() = default;
  virtual std::optional<std::string> Get(std::string_view key) const = 0;
  // Every entry whose key starts with `prefix`, in key order (deterministic), at most `limit`.
  virtual std::vector<std::pair<std::string, std::string>> Scan(std::string_view prefix,
                                                                std::size_t limit) const = 0;
};

// Buffered writes over a base; reads see the writes first.
class StateOverlay : public StateReader {
 public:
  explicit StateOverlay(const StateReader* base) : base_(base) {}
  std::optional<std::string> Get(std::string_view key) const override;
  std::vector<std::pair<std::string, std::string>> Scan(std::string_view prefix,
                                                        std::size_t limit) const override;
  void Put(std::string key, std::string value) { writes_[std::move(key)] = std::move(value); }
  void Erase(std::string key) { writes_[std::move(key)] = std::nullopt; }
  const StateWrites& writes() const { return writes_; }
  // Applies another overlay's writes on top of ours (commit of a nested scope).
  void Absorb(const StateOverlay& child);

 private:
  const StateReader* base_;
  StateWrites writes_;
};

// An entry's inclusion proof (docs/evidence-bundle.md section 4): its RFC 6962 audit path in its
// bucket, then the bucket's audit path in the top tree (always kTopLevels hashes).
struct StateProof {
  std::string key;
  std::uint32_t bucket = 0;
  std::uint64_t index = 0;  // the key's position among the bucket's keys, in key order
  std::uint64_t size = 0;   // keys in the bucket
  std::vector<crypto::Hash256> path;
  std::vector<crypto::Hash256> top;
  // colend-state-proof/v1 text, as shipped in evidence bundles.
  std::string ToText() const;
};

// One bucket's keys and their leaf hashes, in key order.
using StateBucketLeaves = std::vector<std::pair<std::string, crypto::Hash256>>;
// Shared, never changed once made: a bucket read for a block, the bucket after the block's writes
// and the storage's cache of it are one list, not copies (never null).
using SharedBucketLeaves = std::shared_ptr<const StateBucketLeaves>;

// What applying a block's writes changes in a StateTree's hashes: each write's bucket and leaf
// hash (in the writes' order), the new roots of the buckets they touch, and the changed nodes of
// the top tree level by level (level 0: the leaves of the changed bucket roots; the last level:
// the root). Computed once when a block is executed (its root goes into the header), then
// written with the block and installed when it commits, instead of hashing everything again.
// Valid only on the tree it was computed on, unchanged (`version`).

struct StatePrepared {
  std::uint64_t version = 0;  // the tree's version() it was computed on
  std::vector<std::pair<std::uint32_t, crypto::Hash256>> writes;  // bucket, leaf hash (erase: zero)
  std::map<std::uint32_t, crypto::Hash256> bucket_roots;
  std::map<std::uint32_t, SharedBucketLeaves> bucket_leaves;  // the touched buckets, after the writes
  std::vector<std::map<std::size_t, crypto::Hash256>> top;  // kTopLevels + 1 levels
  crypto::Hash256 root;
};

// Raised by a StateStorage that cannot read what it holds (a damaged or tampered store): the
// computation in progress cannot go on; the node stops with "corrupt-store" rather than execute
// on wrong data. Never raised by the in-memory storage.
class StateStorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where a StateTree keeps its entries: each key's value, each bucket's keys with their leaf
// hashes, and the root of every non-empty bucket. The node keeps them in its LevelDB store (node/state_storage.h), written in
// the same synced batch as the block, so only the top tree is held in memory; tests, tools and
// the genesis computation keep them in memory (MemoryStateStorage).
class StateStorage {
 public:
  virtual ~StateStorage() = default;
  virtual std::optional<std::string> Get(std::string_view key) const = 0;
  // Entries whose key starts with `prefix` and is greater than `after` (ignored when empty or
  // below `prefix`), in key order, at most `limit`.
  virtual std::vector<std::pair<std::string, std::string>> Scan(std::string_view prefix,
                                                                std::string_view after,
                                                                std::size_t limit) const = 0;
  // One bucket's keys with their leaf hashes, in key order.
  virtual SharedBucketLeaves BucketLeaves(std::uint32_t bucket) const = 0;
  // The root of every non-empty bucket, in bucket order.
  virtual std::vector<std::pair<std::uint32_t, crypto::Hash256>> BucketRoots() const = 0;
  // The writes of a block and their prepared hashes (leaf hashes, bucket roots; an empty bucket's
  // root is SHA-256 of the empty string) are now the state: the memory storage applies them; the
  // node's store has written them with the block already and only refreshes what it caches.
  virtual void Committed(const StateWrites& writes, const StatePrepared& prepared) = 0;
};

// Every entry in memory (ordered maps: iteration in key order).
class MemoryStateStorage : public StateStorage {
 public:
  std::optional<std::string> Get(std::string_view key) const override;
  std::vector<std::pair<std::string, std::string>> Scan(std::string_view prefix,
                                                        std::string_view after,
                                                        std::size_t limit) const override;
  SharedBucketLeaves BucketLeaves(std::uint32_t bucket) const override;
  std::vector<std::pair<std::uint32_t, crypto::Hash256>> BucketRoots() const override;
  void Committed(const StateWrites& writes, const StatePrepared& prepared) override;
  std::size_t size() const { return values_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> values_;
  std::map<std::uint32_t, std::map<std::string, crypto::Hash256, std::less<>>> bucket_leaves_;
  std::map<std::uint32_t, crypto::Hash256> bucket_roots_;  // non-empty buckets only
};

// The committed state: entries in a StateStorage, the top tree over the 65536 bucket roots in
// memory (about 6 MiB whatever the state's size), so the root after a block's writes costs the
// buckets they touch, and opening a stored state reads the bucket roots, not every entry.
class StateTree : public StateReader {
 public:
  using Prepared = StatePrepared;
  StateTree();  // over its own, empty MemoryStateStorage
  // Over `storage` (which must outlive the tree), taking its bucket roots.
  explicit StateTree(StateStorage* storage);
  StateTree(const StateTree&) = delete;
  StateTree& operator=(const StateTree&) = delete;

  std::optional<std::string> Get(std::string_view key) const override { return storage_->Get(key); }
  std::vector<std::pair<std::string, std::string>> Scan(std::string_view prefix,
                                                        std::size_t limit) const override {
    return storage_->Scan(prefix, {}, limit);
  }
  // Entries with `prefix` after the key `after` (paging), in key order, at most `limit`.
  std::vector<std::pair<std::string, std::string>> ScanAfter(std::string_view prefix,
                                                             std::string_view after,
                                                             std::size_t limit) const {
    return storage_->Scan(prefix, after, limit);
  }
  Prepared Prepare(const StateWrites& writes) const;
  void Apply(const StateWrites& writes) { Apply(writes, Prepare(writes)); }
  // Applies `writes` with what Prepare(writes) computed; recomputes it if the tree changed since.
  void Apply(const StateWrites& writes, const Prepared& prepared);
  crypto::Hash256 Root() const;
  crypto::Hash256 RootAfter(const StateWrites& writes) const { return Prepare(writes).root; }
  std::uint64_t version() const { return version_; }  // counts Apply calls

  static crypto::Hash256 LeafHash(std::string_view key, std::string_view value);
  // The proof of a present key against Root(); nullopt if the key is absent. Costs the size of
  // the key's bucket (about the state's entries / 65536).
  std::optional<StateProof> Prove(std::string_view key) const;
  // The root of one bucket and the cached roots of all (for proofs and tests).
  crypto::Hash256 BucketRoot(std::uint32_t bucket) const { return bucket_roots_[bucket]; }
  // The root over a bucket's leaf hashes (in key order); SHA-256 of "" for none.
  static crypto::Hash256 BucketRootOf(const std::vector<crypto::Hash256>& leaves);

 private:
  // A bucket's root over its entries with `writes` (key, new leaf hash or nullopt to erase; in
  // key order) merged in; every write must belong to the bucket (Prepare groups them).
  using BucketWrites = std::vector<std::pair<std::string_view, std::optional<crypto::Hash256>>>;
  // `after`: the bucket's keys and leaf hashes with the writes applied.
  crypto::Hash256 BucketRootAfter(std::uint32_t bucket, const BucketWrites& writes,
                                  StateBucketLeaves* after) const;
  // The top tree over 65536 = 2^16 bucket roots is a perfect binary tree (RFC 6962 splits at the
  // largest power of two below n), kept level by level: top_[0] holds the leaf hashes of the
  // bucket roots, top_[16][0] the state root. Changing a bucket rehashes its 16 ancestors.
  static constexpr int kTopLevels = 16;
  static const std::vector<std::vector<crypto::Hash256>>& EmptyTop();

  std::unique_ptr<MemoryStateStorage> owned_;
  StateStorage* storage_;
  std::vector<crypto::Hash256> bucket_roots_ =
      std::vector<crypto::Hash256>(kStateBuckets, crypto::Sha256(""));
  std::vector<std::vector<crypto::Hash256>> top_ = EmptyTop();
  std::uint64_t version_ = 0;
};

}  // namespace colend::contracts
