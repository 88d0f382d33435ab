#include "node/store.h"

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/env.h>
#include <leveldb/write_batch.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "node/big_endian.h"
#include "node/metrics.h"
#include "node/state_storage.h"

namespace colend::node {
namespace {

// Reads verify the checksums LevelDB keeps for every block of its files.
leveldb::ReadOptions Checked() {
  leveldb::ReadOptions options;
  options.verify_checksums = true;
  return options;
}

// The replica state record: magic, length (8 bytes) and SHA-256 of the bytes, then the bytes.
constexpr std::string_view kVoteStateMagic = "colend-vote-state/v1\n";

Error StorageError(const leveldb::Status& s, const std::string& what) {
  // A failed checksum or a malformed file: the data is damaged, not merely unreachable.
  if (s.IsCorruption()) return MakeError("corrupt-store", what + ": " + s.ToString());
  return MakeError("storage-error", what + ": " + s.ToString());
}

std::string TxKey(const crypto::Hash256& id) {
  return "t/" + std::string(crypto::AsBytes(id));
}

// LevelDB's own file system reads table files through mmap, so every page of the database ever
// read stays counted in the node's resident memory, which then grows with the chain. Reading
// them with pread instead leaves those pages to the kernel's page cache; LevelDB's block cache
// (kStoreBlockCacheBytes) keeps the hot blocks.
class PreadFile : public leveldb::RandomAccessFile {
 public:
  PreadFile(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  ~PreadFile() override { ::close(fd_); }
  leveldb::Status Read(std::uint64_t offset, std::size_t n, leveldb::Slice* result,
                       char* scratch) const override {
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(fd_, scratch + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        *result = leveldb::Slice(scratch, 0);
        return leveldb::Status::IOError(name_, std::generic_category().message(errno));
      }
      if (r == 0) break;  // end of file: a short read, as LevelDB's own file gives
      got += static_cast<std::size_t>(r);
    }
    *result = leveldb::Slice(scratch, got);
    return leveldb::Status::OK();
  }

 private:
  int fd_;
  std::string name_;
};

class PreadEnv : public leveldb::EnvWrapper {
 public:
  PreadEnv() : leveldb::EnvWrapper(leveldb::Env::Default()) {}
  leveldb::Status NewRandomAccessFile(const std::string& name,
                                      leveldb::RandomAccessFile** result) override {
    const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      const std::string why = std::generic_category().message(errno);
      return errno == ENOENT ? leveldb::Status::NotFound(name, why) : leveldb::Status::IOError(name, why);
    }
    *result = new PreadFile(fd, name);
    return leveldb::Status::OK();
  }
};

// kStoreOpenFilesMax, or a quarter of the descriptors this process may open if that is less
// (sockets, logs and LevelDB's own files need the rest); at least LevelDB's minimum of 74.
int StoreOpenFiles() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return kStoreOpenFilesMax;
  const auto quarter = static_cast<long long>(limit.rlim_cur / 4);
  return static_cast<int>(std::clamp<long long>(quarter, 74, kStoreOpenFilesMax));
}

leveldb::Env* HostEnv() {
  static PreadEnv* env = new PreadEnv;  // lives as long as the process, as Env::Default()
  return env;
}

}  // namespace

std::string LedgerNodeKey(int level, std::uint64_t index) {
  std::string key = "n/";
  key.push_back(static_cast<char>(level));
  PutU64(&key, index);
  return key;
}

std::string HeaderKey(std::uint64_t height) {
  std::string key = "h/";
  PutU64(&key, height);
  return key;
}

std::string HeightKey(std::uint64_t height) {
  std::string key = "b/";
  PutU64(&key, height);
  return key;
}

std::size_t StoreWriteBufferBytes(std::size_t place) {
  return kStoreWriteBufferMinBytes + (place % kStoreWriteBufferSizes) * kStoreWriteBufferStepBytes;
}

Store::Store(std::unique_ptr<leveldb::Cache> cache, std::unique_ptr<const leveldb::FilterPolicy> filter,
             std::unique_ptr<leveldb::DB> db, std::size_t write_buffer_bytes)
    : write_buffer_bytes_(write_buffer_bytes),
      cache_(std::move(cache)),
      filter_(std::move(filter)),
      db_(std::move(db)),
      state_(std::make_unique<LevelStateStorage>(db_.get())) {}
Store::~Store() {
  state_.reset();
  db_.reset();  // before the cache and filter it uses
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path,
                                           const crypto::Hash256& genesis_hash, leveldb::Env* env,
                                           std::size_t write_buffer_bytes) {
  leveldb::Options options;
  options.env = env != nullptr ? env : HostEnv();
  options.max_open_files = StoreOpenFiles();
  options.create_if_missing = true;
  options.paranoid_checks = true;
  options.write_buffer_size = write_buffer_bytes;
  // The state is read from the store (node/state_storage.h): recently read blocks stay cached,
  // and a bloom filter answers most reads of absent keys without touching a file.
  std::unique_ptr<leveldb::Cache> cache(leveldb::NewLRUCache(kStoreBlockCacheBytes));
  std::unique_ptr<const leveldb::FilterPolicy> filter(leveldb::NewBloomFilterPolicy(10));
  options.block_cache = cache.get();
  options.filter_policy = filter.get();
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(options, path, &raw);
  if (!s.ok()) return StorageError(s, "cannot open the database at " + path);
  std::unique_ptr<leveldb::DB> db(raw);
  std::string stored;
  s = db->Get(leveldb::ReadOptions(), "g/genesis", &stored);
  std::string expected(crypto::AsBytes(genesis_hash));
  if (s.IsNotFound()) {
    leveldb::WriteOptions sync;
    sync.sync = true;
    s = db->Put(sync, "g/genesis", expected);
    if (!s.ok()) return StorageError(s, "cannot initialise the database");
  } else if (!s.ok()) {
    return StorageError(s, "cannot read the database");
  } else if (stored != expected) {
    return MakeError("wrong-chain-data",
                     "the data directory " + path + " belongs to the chain with genesis " +
                         crypto::ToHex(stored) + ", not " + crypto::ToHex(genesis_hash));
  }
  return std::unique_ptr<Store>(
      new Store(std::move(cache), std::move(filter), std::move(db), write_buffer_bytes));
}

Result<std::optional<Tip>> Store::GetTip() const {
  std::string value;
  leveldb::Status s = db_->Get(Checked(), "m/tip", &value);
  if (s.IsNotFound()) return std::optional<Tip>();
  if (!s.ok()) return StorageError(s, "reading the tip");
  if (value.size() != 40) {
    return MakeError("corrupt-store", "the tip record has " + std::to_string(value.size()) +
                                          " bytes, not 40");
  }
  Tip tip;
  tip.height = GetU64(value);
  std::copy(value.begin() + 8, value.end(), tip.block_hash.begin());
  return std::optional<Tip>(tip);
}

Result<proto::StoredBlock> Store::GetBlock(std::uint64_t height) const {
  std::string value;
  leveldb::Status s = db_->Get(Checked(), HeightKey(height), &value);
  if (s.IsNotFound()) {
    return MakeError("block-not-found", "no block at height " + std::to_string(height));
  }
  if (!s.ok()) return StorageError(s, "reading block " + std::to_string(height));
  proto::StoredBlock block;
  if (!block.ParseFromString(value)) {
    return MakeError("corrupt-store", "stored block " + std::to_string(height) + " is unreadable");
  }
  return block;
}

Result<proto::StoredBlock> Store::GetBlockHeader(std::uint64_t height) const {
  std::string value;
  leveldb::Status s = db_->Get(Checked(), HeaderKey(height), &value);
  if (s.IsNotFound()) return GetBlock(height);  // a store written before headers were kept apart
  if (!s.ok()) return StorageError(s, "reading the header of block " + std::to_string(height));
  proto::StoredBlock block;
  if (!block.ParseFromString(value) || block.block().txs_size() != 0) {
    return MakeError("corrupt-store", "stored header " + std::to_string(height) + " is unreadable");
  }
  return block;
}

std::optional<TxLocation> Store::FindTx(const crypto::Hash256& tx_id) const {
  std::string value;
  if (!db_->Get(Checked(), TxKey(tx_id), &value).ok() || value.size() != 12) {
    return std::nullopt;
  }
  return TxLocation{GetU64(value), GetU32(std::string_view(value).substr(8))};
}

Result<crypto::MerkleAccumulator> Store::GetLedgerAccumulator() const {
  std::string value;
  leveldb::Status s = db_->Get(Checked(), "m/ledger", &value);
  if (!s.ok()) return StorageError(s, "reading the ledger accumulator");
  return crypto::MerkleAccumulator::Parse(value);
}

contracts::StateStorage* Store::state_storage() const { return state_.get(); }

void Store::OnStateDamage(std::function<void(const std::string&)> fn) {
  state_->set_on_damage(std::move(fn));
}

Status Store::IndexState() {
  auto tip = GetTip();
  if (!tip.ok()) return tip.error();
  return state_->ConvertLayout(tip->has_value());
}

Status Store::CommitBlock(const BlockWrite& write) {
  leveldb::WriteBatch batch;
  batch.Put(HeightKey(write.height), write.block.SerializeAsString());
  {
    proto::StoredBlock header_only;
    header_only.mutable_block()->set_header(write.block.block().header());
    if (write.block.has_certificate()) *header_only.mutable_certificate() = write.block.certificate();
    batch.Put(HeaderKey(write.height), header_only.SerializeAsString());
  }
  for (std::uint32_t i = 0; i < write.tx_ids.size(); ++i) {
    std::string loc;
    PutU64(&loc, write.height);
    PutU32(&loc, i);
    batch.Put(TxKey(write.tx_ids[i]), loc);
  }
  if (write.state_writes != nullptr && !write.state_writes->empty()) {
    const contracts::StatePrepared* prepared = write.state_prepared;
    if (prepared == nullptr || prepared->writes.size() != write.state_writes->size()) {
      return MakeError("internal-error", "block " + std::to_string(write.height) +
                                             ": state writes without their prepared hashes");
    }
    try {
      state_->AddWrites(&batch, *write.state_writes, *prepared);
    } catch (const contracts::StateStorageError& e) {
      return StateStorageErrorOf(e);
    }
  }
  for (const auto& node : write.ledger_nodes) {
    batch.Put(LedgerNodeKey(node.level, node.index), std::string(crypto::AsBytes(node.hash)));
  }
  batch.Put("m/ledger", write.ledger_accumulator);
  std::string tip;
  PutU64(&tip, write.height);
  tip.append(crypto::AsBytes(write.block_hash));
  batch.Put("m/tip", tip);
  leveldb::WriteOptions sync;
  sync.sync = true;
  const StopWatch watch;
  leveldb::Status s = db_->Write(sync, &batch);
  if (!s.ok()) return StorageError(s, "writing block " + std::to_string(write.height));
  if (on_synced_) on_synced_(Synced::kBlock, watch.Seconds());
  return Status::Ok();
}

Result<crypto::Hash256> Store::GetLedgerNode(int level, std::uint64_t index) const {
  std::string value;
  leveldb::Status s = db_->Get(Checked(), LedgerNodeKey(level, index), &value);
  if (s.IsNotFound() || (s.ok() && value.size() != 32)) {
    return MakeError("ledger-node-missing", "no ledger subtree at level " + std::to_string(level) +
                                                " index " + std::to_string(index));
  }
  if (!s.ok()) return StorageError(s, "reading a ledger subtree");
  crypto::Hash256 hash;
  std::copy(value.begin(), value.end(), hash.begin());
  return hash;
}

Status Store::PutLedgerNodes(const std::vector<crypto::MerkleSubtree>& nodes) {
  leveldb::WriteBatch batch;
  for (const auto& node : nodes) {
    batch.Put(LedgerNodeKey(node.level, node.index), std::string(crypto::AsBytes(node.hash)));
  }
  leveldb::WriteOptions sync;
  sync.sync = true;
  leveldb::Status s = db_->Write(sync, &batch);
  if (!s.ok()) return StorageError(s, "writing ledger subtrees");
  return Status::Ok();
}

Status Store::SaveReplicaState(const std::string& bytes) {
  std::string record(kVoteStateMagic);
  PutU64(&record, bytes.size());
  record.append(crypto::AsBytes(crypto::Sha256(bytes)));
  record.append(bytes);
  leveldb::WriteOptions sync;
  sync.sync = true;
  const StopWatch watch;
  leveldb::Status s = db_->Put(sync, "m/replica", record);
  if (!s.ok()) return StorageError(s, "writing the replica state");
  if (on_synced_) on_synced_(Synced::kReplicaState, watch.Seconds());
  return Status::Ok();
}

Status Store::PutAux(const std::string& key, const std::string& value) {
  leveldb::WriteOptions sync;
  sync.sync = true;
  leveldb::Status s = db_->Put(sync, "x/" + key, value);
  if (!s.ok()) return StorageError(s, "writing " + key);
  return Status::Ok();
}

Status Store::DeleteAux(const std::string& key) {
  leveldb::WriteOptions sync;
  sync.sync = true;
  leveldb::Status s = db_->Delete(sync, "x/" + key);
  if (!s.ok()) return StorageError(s, "deleting " + key);
  return Status::Ok();
}

Result<std::optional<std::string>> Store::GetAux(const std::string& key) const {
  std::string value;
  leveldb::Status s = db_->Get(Checked(), "x/" + key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return StorageError(s, "reading " + key);
  return std::optional<std::string>(std::move(value));
}

Result<std::vector<std::pair<std::string, std::string>>> Store::ScanAux(
    const std::string& prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(Checked()));
  const std::string start = "x/" + prefix;
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    out.emplace_back(it->key().ToString().substr(2), it->value().ToString());
  }
  if (!it->status().ok()) return StorageError(it->status(), "reading " + prefix + " records");
  return out;
}

Result<std::optional<std::string>> Store::LoadReplicaState() const {
  std::string value;
  leveldb::Status s = db_->Get(Checked(), "m/replica", &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return StorageError(s, "reading the replica (vote) state");
  auto corrupt = [&](const std::string& why) {
    return MakeError("corrupt-store", "the replica (vote) state record is " + why +
                                          "; this member's signing history is unknown: restore "
                                          "the data directory or recover it as wiped "
                                          "(docs/operations.md)");
  };
  const std::size_t head = kVoteStateMagic.size() + 8 + 32;
  if (value.size() < head || std::string_view(value).substr(0, kVoteStateMagic.size()) != kVoteStateMagic) {
    return corrupt(value.empty() ? "empty" : "not in the framed format (truncated or damaged)");
  }
  const std::uint64_t size = GetU64(std::string_view(value).substr(kVoteStateMagic.size()));
  if (size != value.size() - head) {
    return corrupt("truncated: " + std::to_string(value.size() - head) + " of " +
                   std::to_string(size) + " bytes");
  }
  std::string bytes = value.substr(head);
  if (std::string(crypto::AsBytes(crypto::Sha256(bytes))) !=
      value.substr(kVoteStateMagic.size() + 8, 32)) {
    return corrupt("damaged: its SHA-256 does not match");
  }
  if (bytes.empty()) return corrupt("empty");
  return std::optional<std::string>(std::move(bytes));
}

}  // namespace colend::node
