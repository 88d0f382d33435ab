#include "node/state_storage.h"

#include <leveldb/db.h>

#include <memory>

namespace colend::node {
namespace {

leveldb::ReadOptions Checked() {
  leveldb::ReadOptions options;
  options.verify_checksums = true;
  return options;
}


std::string BucketPrefix(std::string_view tag, std::uint32_t bucket) {
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

}  // namespace

void LevelStateStorage::Damaged(const std::string& what) const {
  if (on_damage_) on_damage_(what);
  throw contracts::StateStorageError(what);
}

void LevelStateStorage::Fail(const std::string& what) const {
  Damaged("corrupt-store: the stored state " + what);
}

void LevelStateStorage::ThrowIfBad(const leveldb::Status& s, const std::string& what) const {
  if (s.ok() || s.IsNotFound()) return;
  const std::string code = s.IsCorruption() ? "corrupt-store" : "storage-error";
  Damaged(code + ": reading the state " + what + ": " + s.ToString());
}

std::string StateEntryKey(std::uint32_t bucket, std::string_view key) {
  return BucketPrefix("k/", bucket).append(key);
}
std::string StateIndexKey(std::string_view key) { return std::string("s/").append(key); }
std::string StateRootKey(std::uint32_t bucket) { return BucketPrefix("r/", bucket); }

std::vector<LevelStateStorage::Entry> LevelStateStorage::ReadBucket(std::uint32_t bucket) const {
  std::vector<Entry> out;
  const std::string prefix = BucketPrefix("k/", bucket);
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(Checked()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string_view value(it->value().data(), it->value().size());
    if (value.size() < 32) Fail("entry record in bucket " + std::to_string(bucket) + " is short");
    out.push_back({std::string(it->key().data() + prefix.size(), it->key().size() - prefix.size()),
                   HashAt(value), std::string(value.substr(32))});
  }
  ThrowIfBad(it->status(), "bucket " + std::to_string(bucket));
  if (!checked_[bucket]) {
    std::vector<crypto::Hash256> leaves;
    leaves.reserve(out.size());
    for (const auto& e : out) {
      if (contracts::StateTree::LeafHash(e.key, e.value) != e.leaf) {
        Fail("entry " + e.key + " does not hash to its leaf");
      }
      if (contracts::StateBucket(e.key) != bucket) Fail("entry " + e.key + " is in the wrong bucket");
      leaves.push_back(e.leaf);
    }
    std::string root;
    leveldb::Status s = db_->Get(Checked(), StateRootKey(bucket), &root);
    ThrowIfBad(s, "root of bucket " + std::to_string(bucket));
    const crypto::Hash256 expected = s.IsNotFound() ? crypto::Sha256("") : HashAt(root);
    if (!s.IsNotFound() && root.size() != 32) Fail("root of bucket " + std::to_string(bucket) + " is malformed");
    if (contracts::StateTree::BucketRootOf(leaves) != expected) {
      Fail("bucket " + std::to_string(bucket) + " does not give its recorded root");
    }
    checked_[bucket] = true;
  }
  return out;
}

void LevelStateStorage::Check(std::uint32_t bucket) const {
  if (!checked_[bucket]) ReadBucket(bucket);
}

std::optional<std::string> LevelStateStorage::Get(std::string_view key) const {
  const std::uint32_t bucket = contracts::StateBucket(key);
  Check(bucket);
  std::string record;
  leveldb::Status s = db_->Get(Checked(), StateEntryKey(bucket, key), &record);
  ThrowIfBad(s, "entry " + std::string(key));
  if (s.IsNotFound()) return std::nullopt;
  if (record.size() < 32) Fail("entry " + std::string(key) + " is short");
  record.erase(0, 32);
  return record;
}

std::vector<std::pair<std::string, std::string>> LevelStateStorage::Scan(
    std::string_view prefix, std::string_view after, std::size_t limit) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(Checked()));
  const std::string index_prefix = StateIndexKey(prefix);
  if (!after.empty() && after >= prefix) {
    it->Seek(StateIndexKey(after));
    if (it->Valid() && std::string_view(it->key().data() + 2, it->key().size() - 2) == after) it->Next();
  } else {
    it->Seek(index_prefix);
  }
  for (; it->Valid() && it->key().starts_with(index_prefix) && out.size() < limit; it->Next()) {
    std::string key(it->key().data() + 2, it->key().size() - 2);
    auto value = Get(key);
    if (!value) Fail("index names " + key + ", which has no entry");
    out.emplace_back(std::move(key), std::move(*value));
  }
  ThrowIfBad(it->status(), "index under " + std::string(prefix));
  return out;
}

std::vector<std::pair<std::string, crypto::Hash256>> LevelStateStorage::BucketLeaves(
    std::uint32_t bucket) const {
  std::vector<std::pair<std::string, crypto::Hash256>> out;
  for (auto& e : ReadBucket(bucket)) out.emplace_back(std::move(e.key), e.leaf);
  return out;
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
  ThrowIfBad(it->status(), "bucket roots");
  return out;
}

std::size_t LevelStateStorage::checked_buckets() const {
  std::size_t n = 0;
  for (bool b : checked_) n += b;
  return n;
}

}  // namespace colend::node
