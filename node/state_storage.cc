#include "node/state_storage.h"

#include <leveldb/db.h>

#include <algorithm>
#include <memory>

namespace colend::node {
namespace {

leveldb::ReadOptions Checked() {
  leveldb::ReadOptions options;
  options.verify_checksums = true;
  return options;
}

std::string BucketKey(std::string_view tag, std::uint32_t bucket) {
  std::string out(tag);
  out.push_back(static_cast<char>(bucket >> 8));
  out.push_back(static_cast<char>(bucket));
  return out;
}

crypto::Hash256 HashAt(std::string_view bytes) {
  crypto::Hash256 h;
  std::copy(bytes.begin(), bytes.begin() + 32, h.begin());
  return h;
}

constexpr std::size_t kCacheOverheadBytes = 96;  // map and list nodes, the strings' own sizes

std::size_t ValueCost(std::string_view key, const std::optional<std::string>& value) {
  return key.size() + (value ? value->size() : 0) + kCacheOverheadBytes;
}

std::size_t LeavesCost(const contracts::StateBucketLeaves& leaves) {
  std::size_t cost = kCacheOverheadBytes;
  for (const auto& [key, leaf] : leaves) cost += key.size() + leaf.size() + kCacheOverheadBytes / 2;
  return cost;
}

auto FindKey(const contracts::StateBucketLeaves& leaves, std::string_view key) {
  return std::lower_bound(leaves.begin(), leaves.end(), key,
                          [](const auto& entry, std::string_view k) { return entry.first < k; });
}

}  // namespace

std::string StateValueKey(std::string_view key) { return std::string("s/").append(key); }
std::string StateLeafKey(std::uint32_t bucket, std::string_view key) {
  return BucketKey("k/", bucket).append(key);
}
std::string StateRootKey(std::uint32_t bucket) { return BucketKey("r/", bucket); }

Error StateStorageErrorOf(const contracts::StateStorageError& e) {
  const std::string what = e.what();
  const auto colon = what.find(": ");
  if (colon == std::string::npos) return MakeError("corrupt-store", what);
  return MakeError(what.substr(0, colon), what.substr(colon + 2));
}

void LevelStateStorage::Damaged(const std::string& what) const {
  if (on_damage_) on_damage_(what);
  throw contracts::StateStorageError(what);
}

void LevelStateStorage::Fail(const std::string& what) const {
  Damaged("corrupt-store: the stored state " + what);
}

void LevelStateStorage::ThrowIfBad(const leveldb::Status& s, const std::string& what) const {
  if (s.ok() || s.IsNotFound()) return;
  Damaged(std::string(s.IsCorruption() ? "corrupt-store" : "storage-error") + ": reading the state " +
          what + ": " + s.ToString());
}

void LevelStateStorage::ThrowIfIteratorBad(const leveldb::Status& s, const std::string& what) const {
  // An iterator reports a table file it could not open as NotFound and goes on without it:
  // for a scan that is lost data, never "nothing more".
  if (s.ok()) return;
  const std::string code = s.IsCorruption() || s.IsNotFound() ? "corrupt-store" : "storage-error";
  Damaged(code + ": reading the state " + what + ": " + s.ToString());
}

std::optional<std::string> LevelStateStorage::ReadValue(std::string_view key) const {
  std::string value;
  leveldb::Status s = db_->Get(Checked(), StateValueKey(key), &value);
  ThrowIfBad(s, "entry " + std::string(key));
  if (s.IsNotFound()) return std::nullopt;
  return value;
}

contracts::SharedBucketLeaves LevelStateStorage::Bucket(std::uint32_t bucket) const {
  if (const auto* cached = buckets_.Find(bucket)) return *cached;
  const std::string at = "bucket " + std::to_string(bucket);
  contracts::StateBucketLeaves leaves;
  {
    const std::string prefix = BucketKey("k/", bucket);
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(Checked()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (it->value().size() != 32) Fail(at + " has a malformed leaf");
      leaves.emplace_back(std::string(it->key().data() + prefix.size(), it->key().size() - prefix.size()),
                          HashAt(std::string_view(it->value().data(), 32)));
    }
    ThrowIfIteratorBad(it->status(), at);
  }
  if (!checked_[bucket]) {
    // Its keys and leaves against its root (each value is checked against its leaf whenever it
    // is read from the store: Get, Scan).
    std::string root;
    leveldb::Status s = db_->Get(Checked(), StateRootKey(bucket), &root);
    ThrowIfBad(s, at + "'s root");
    if (!s.IsNotFound() && root.size() != 32) Fail(at + "'s root is malformed");
    if (s.IsNotFound() != leaves.empty()) Fail(at + " has leaves without a root or a root without leaves");
    std::vector<crypto::Hash256> hashes;
    hashes.reserve(leaves.size());
    for (const auto& [key, leaf] : leaves) {
      if (contracts::StateBucket(key) != bucket) Fail(at + " lists " + key + ", of another bucket");
      hashes.push_back(leaf);
    }
    if (!leaves.empty() && contracts::StateTree::BucketRootOf(hashes) != HashAt(root)) {
      Fail(at + " does not give its recorded root");
    }
    checked_[bucket] = true;
  }
  const std::size_t cost = LeavesCost(leaves);
  auto shared = std::make_shared<const contracts::StateBucketLeaves>(std::move(leaves));
  buckets_.Put(bucket, shared, cost);  // not kept if larger than the whole cache
  return shared;
}

std::optional<crypto::Hash256> LevelStateStorage::LeafOf(std::string_view key) const {
  const contracts::SharedBucketLeaves leaves = Bucket(contracts::StateBucket(key));
  auto it = FindKey(*leaves, key);
  if (it == leaves->end() || it->first != key) return std::nullopt;
  return it->second;
}

void LevelStateStorage::CheckLeaf(std::string_view key, std::string_view value,
                                  const crypto::Hash256& leaf) const {
  if (contracts::StateTree::LeafHash(key, value) != leaf) {
    Fail("value of " + std::string(key) + " does not hash to its leaf");
  }
}

std::optional<std::string> LevelStateStorage::Get(std::string_view key) const {
  if (const auto* cached = values_.Find(key)) return *cached;
  std::optional<std::string> value;
  if (const auto leaf = LeafOf(key)) {
    value = ReadValue(key);
    if (!value) Fail("has no value for " + std::string(key) + ", which its bucket lists");
    CheckLeaf(key, *value, *leaf);
  }
  values_.Put(std::string(key), value, ValueCost(key, value));
  return value;
}

std::vector<std::pair<std::string, std::string>> LevelStateStorage::Scan(
    std::string_view prefix, std::string_view after, std::size_t limit) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(Checked()));
  const std::string value_prefix = StateValueKey(prefix);
  if (!after.empty() && after >= prefix) {
    it->Seek(StateValueKey(after));
    if (it->Valid() && std::string_view(it->key().data() + 2, it->key().size() - 2) == after) it->Next();
  } else {
    it->Seek(value_prefix);
  }
  for (; it->Valid() && it->key().starts_with(value_prefix) && out.size() < limit; it->Next()) {
    std::string key(it->key().data() + 2, it->key().size() - 2);
    const auto leaf = LeafOf(key);
    if (!leaf) Fail("has a value for " + key + ", which no bucket lists");
    std::string value = it->value().ToString();
    CheckLeaf(key, value, *leaf);
    out.emplace_back(std::move(key), std::move(value));
  }
  ThrowIfIteratorBad(it->status(), "entries under " + std::string(prefix));
  return out;
}

contracts::SharedBucketLeaves LevelStateStorage::BucketLeaves(std::uint32_t bucket) const {
  return Bucket(bucket);
}

std::vector<std::pair<std::uint32_t, crypto::Hash256>> LevelStateStorage::BucketRoots() const {
  std::vector<std::pair<std::uint32_t, crypto::Hash256>> out;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(Checked()));
  for (it->Seek("r/"); it->Valid() && it->key().starts_with("r/"); it->Next()) {
    if (it->key().size() != 4 || it->value().size() != 32) Fail("has a malformed bucket root");
    const auto* k = reinterpret_cast<const unsigned char*>(it->key().data());
    out.emplace_back((static_cast<std::uint32_t>(k[2]) << 8) | k[3],
                     HashAt(std::string_view(it->value().data(), 32)));
  }
  ThrowIfIteratorBad(it->status(), "bucket roots");
  return out;
}

void LevelStateStorage::Committed(const contracts::StateWrites& writes,
                                  const contracts::StatePrepared& prepared) {
  // The store has written these with the block: the caches take them as they are now.
  for (const auto& [key, value] : writes) values_.Put(key, value, ValueCost(key, value));
  for (const auto& [bucket, leaves] : prepared.bucket_leaves) {
    buckets_.Put(bucket, leaves, LeavesCost(*leaves));
  }
}

std::size_t LevelStateStorage::checked_buckets() const {
  std::size_t n = 0;
  for (bool b : checked_) n += b;
  return n;
}

}  // namespace colend::node
