// The node's durable store over LevelDB. One synced write batch per committed block (block,
// certificate, transaction index, state writes, ledger accumulator, tip), so a crash leaves
// either the whole block or none of it. The replica's vote/lock state is written synced before
// any vote leaves the node.
//
// Keys: "g/genesis" genesis hash; "m/tip" height(8, big-endian) || block hash(32);
//       "m/ledger" MerkleAccumulator over header texts 0..tip; "m/replica" replica state;
//       "n/<level 1 byte><index 8 BE>" root of a perfect subtree of the ledger tree (the inner
//       nodes of the RFC 6962 tree over header texts, for O(log^2 n) ledger proofs);
//       "b/<height 8 BE>" StoredBlock; "h/<height 8 BE>" the same without its transactions
//       (header and certificate: what evidence exports and light reads need); "t/<tx id 32>" height(8) || index(4);
//       the state under "v/", "i/", "k/", "r/", "m/state-next" and "m/state-layout"
//       (node/state_storage.h).
//
// Thread safety: one thread (the node's io thread) uses a Store.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "contracts/state.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "crypto/result.h"
#include "node/node.pb.h"

namespace leveldb {
class Cache;
class DB;
class Env;
class FilterPolicy;
}

namespace colend::node {

class LevelStateStorage;

struct TxLocation {
  std::uint64_t height = 0;
  std::uint32_t index = 0;
};

struct Tip {
  std::uint64_t height = 0;
  crypto::Hash256 block_hash{};
};

// LevelDB's memory: its write buffer (memtable; up to two exist while one is flushed) and the
// cache of recently read file blocks. Together with the top of the state tree (about 6 MiB) they
// are most of a node's steady memory (docs/operations.md).
//
// The write buffer's size differs by member (StoreWriteBufferBytes): the nodes hold the same
// data, so buffers of one size fill at the same moment and every node flushes and merges its
// buffer at once. Where nodes share a disk or a machine, all of them then wait on that disk
// together and the chain slows for a few seconds (docs/operations.md, "Store memory").
inline constexpr std::size_t kStoreWriteBufferBytes = 16u << 20;  // when no member is named
inline constexpr std::size_t kStoreWriteBufferMinBytes = 12u << 20;
inline constexpr std::size_t kStoreWriteBufferStepBytes = 2u << 20;
inline constexpr std::size_t kStoreWriteBufferSizes = 5;  // 12, 14, 16, 18, 20 MiB
// The write buffer of the member at `place` (0-based) among the genesis members sorted by id:
// kStoreWriteBufferMinBytes + (place mod kStoreWriteBufferSizes) steps, so any five members in a
// row of that order have five different sizes.
std::size_t StoreWriteBufferBytes(std::size_t place);
inline constexpr std::size_t kStoreBlockCacheBytes = 32u << 20;
// Table files LevelDB keeps open (one descriptor each, read with pread; not mapped, so the
// database's size does not count in the node's resident memory); fewer if the process's
// descriptor limit is low (a quarter of it; colend-node raises its soft limit to the hard one).
inline constexpr int kStoreOpenFilesMax = 500;

class Store {
 public:
  // Opens (creating if needed) the database at `path`. A database created for another genesis
  // is refused ("wrong-chain-data"). `env`: LevelDB's file system (default: the host's; the
  // simulator gives an in-memory one that can lose unsynced writes). It must outlive the Store.
  // `write_buffer_bytes`: LevelDB's write buffer (see StoreWriteBufferBytes).
  static Result<std::unique_ptr<Store>> Open(
      const std::string& path, const crypto::Hash256& genesis_hash, leveldb::Env* env = nullptr,
      std::size_t write_buffer_bytes = kStoreWriteBufferBytes);
  ~Store();

  // Every read verifies LevelDB's block checksums (a damaged file is an error, never data), and
  // every LevelDB error other than NotFound is returned as "storage-error", never as "absent".

  // Empty until the genesis block is committed; "corrupt-store" if the record is malformed.
  Result<std::optional<Tip>> GetTip() const;
  Result<proto::StoredBlock> GetBlock(std::uint64_t height) const;
  // The block's header and certificate only (no transactions): cheap whatever the block's size.
  Result<proto::StoredBlock> GetBlockHeader(std::uint64_t height) const;
  std::optional<TxLocation> FindTx(const crypto::Hash256& tx_id) const;
  Result<crypto::MerkleAccumulator> GetLedgerAccumulator() const;
  // The contract state kept in this store (node/state_storage.h); lives as long as the Store.
  contracts::StateStorage* state_storage() const;
  // Called with the error's text when a read of the state finds damage (before it raises
  // contracts::StateStorageError); the node stops on it.
  void OnStateDamage(std::function<void(const std::string&)> fn);
  // Called after each synced write of a block (CommitBlock) or of the replica state
  // (SaveReplicaState) with how long LevelDB took (seconds, steady clock): the node's metrics.
  enum class Synced { kBlock, kReplicaState };
  void OnSynced(std::function<void(Synced, double seconds)> fn) { on_synced_ = std::move(fn); }
  // Converts a store written in an earlier state layout to the current one, once
  // (LevelStateStorage::ConvertLayout). Nothing to do for a store in the current layout or an
  // empty one.
  Status IndexState();

  struct BlockWrite {
    std::uint64_t height = 0;
    crypto::Hash256 block_hash{};
    proto::StoredBlock block;
    std::vector<crypto::Hash256> tx_ids;  // in block order
    const contracts::StateWrites* state_writes = nullptr;
    // The hashes of `state_writes` prepared on the committed state (required with any writes).
    const contracts::StatePrepared* state_prepared = nullptr;
    std::string ledger_accumulator;  // after appending this block's header
    std::vector<crypto::MerkleSubtree> ledger_nodes;  // the subtrees this header completes
  };
  // Writes the block and moves the tip, in one synced batch.
  Status CommitBlock(const BlockWrite& write);

  // The root of the ledger tree's perfect subtree (level, index); error "ledger-node-missing".
  Result<crypto::Hash256> GetLedgerNode(int level, std::uint64_t index) const;
  // Writes subtree roots outside a block (rebuilding them for a store made before they existed).
  Status PutLedgerNodes(const std::vector<crypto::MerkleSubtree>& nodes);
  // The replica's vote/lock state, framed with its length and SHA-256 so that a truncated,
  // emptied or damaged record is refused ("corrupt-store") instead of read as "signed nothing".
  Status SaveReplicaState(const std::string& bytes);  // synced
  Result<std::optional<std::string>> LoadReplicaState() const;

  // LevelDB's write buffer size this store was opened with.
  std::size_t write_buffer_bytes() const { return write_buffer_bytes_; }

  // Small synced node records outside the chain, under "x/<key>": the recovering marker of a
  // member whose data was wiped, and equivocation evidence waiting to be committed.
  Status PutAux(const std::string& key, const std::string& value);
  Status DeleteAux(const std::string& key);
  Result<std::optional<std::string>> GetAux(const std::string& key) const;
  // Every (key, value) whose key starts with `prefix`, in key order (keys without "x/").
  Result<std::vector<std::pair<std::string, std::string>>> ScanAux(const std::string& prefix) const;

 private:
  Store(std::unique_ptr<leveldb::Cache> cache, std::unique_ptr<const leveldb::FilterPolicy> filter,
        std::unique_ptr<leveldb::DB> db, std::size_t write_buffer_bytes);
  std::size_t write_buffer_bytes_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;
  std::unique_ptr<LevelStateStorage> state_;
  std::function<void(Synced, double)> on_synced_;
};

std::string HeightKey(std::uint64_t height);

}  // namespace colend::node
