#include "node/state_storage.h"

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <algorithm>
#include <memory>

#include "node/big_endian.h"

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
  return key.size() + (value ? value->size() : 0) + 8 + kCacheOverheadBytes;
}

std::string IdBytes(std::uint64_t id) {
  std::string out;
  PutU64(&out, id);
  return out;
}

std::string_view AsView(const leveldb::Slice& s) { return {s.data(), s.size()}; }

constexpr char kKeyedValuePrefix[] = "s/";  // layout "3"

Error ConversionError(const leveldb::Status& s, const std::string& what) {
  return MakeError(s.IsCorruption() ? "corrupt-store" : "storage-error",
                   "converting the state to layout 4: " + what + ": " + s.ToString());
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

std::string StateValueKey(std::uint64_t id) {
  std::string out("v/");
  PutU64(&out, id);
  return out;
}
std::string StateIdKey(std::string_view key) { return std::string("i/").append(key); }
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

std::optional<std::uint64_t> LevelStateStorage::ReadId(std::string_view key) const {
  std::string bytes;
  leveldb::Status s = db_->Get(Checked(), StateIdKey(key), &bytes);
  ThrowIfBad(s, "id of " + std::string(key));
  if (s.IsNotFound()) return std::nullopt;
  if (bytes.size() != 8) Fail("id of " + std::string(key) + " is malformed");
  return GetU64(bytes);
}

std::optional<std::string> LevelStateStorage::ReadValue(std::uint64_t id) const {
  std::string value;
  leveldb::Status s = db_->Get(Checked(), StateValueKey(id), &value);
  ThrowIfBad(s, "value " + std::to_string(id));
  if (s.IsNotFound()) return std::nullopt;
  return value;
}

std::string LevelStateStorage::ReadChecked(std::string_view key, std::uint64_t id,
                                           const crypto::Hash256& leaf) const {
  auto value = ReadValue(id);
  if (!value) {
    Fail("has no value for " + std::string(key) + " (value " + std::to_string(id) +
         "), which its bucket lists");
  }
  CheckLeaf(key, *value, leaf);
  return std::move(*value);
}

contracts::SharedBucketLeaves LevelStateStorage::Bucket(std::uint32_t bucket) const {
  if (roots_known_ && !rooted_[bucket]) {
    static const contracts::SharedBucketLeaves kEmpty =
        std::make_shared<const contracts::StateBucketLeaves>();
    return kEmpty;  // empty in the checked top tree (header comment)
  }
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
  if (const auto* cached = values_.Find(key)) return cached->value;
  CachedValue entry;
  if (const auto leaf = LeafOf(key)) {
    const auto id = ReadId(key);
    if (!id) Fail("has no value for " + std::string(key) + ", which its bucket lists");
    entry.value = ReadChecked(key, *id, *leaf);
    entry.id = *id;
  }
  const std::size_t cost = ValueCost(key, entry.value);
  values_.Put(std::string(key), entry, cost);
  return entry.value;
}

std::vector<std::pair<std::string, std::string>> LevelStateStorage::Scan(
    std::string_view prefix, std::string_view after, std::size_t limit) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(Checked()));
  const std::string id_prefix = StateIdKey(prefix);
  if (!after.empty() && after >= prefix) {
    it->Seek(StateIdKey(after));
    if (it->Valid() && AsView(it->key()).substr(2) == after) it->Next();
  } else {
    it->Seek(id_prefix);
  }
  for (; it->Valid() && it->key().starts_with(id_prefix) && out.size() < limit; it->Next()) {
    std::string key(AsView(it->key()).substr(2));
    const auto leaf = LeafOf(key);
    if (!leaf) Fail("has a value for " + key + ", which no bucket lists");
    if (it->value().size() != 8) Fail("id of " + key + " is malformed");
    std::string value = ReadChecked(key, GetU64(AsView(it->value())), *leaf);
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
  roots_known_ = false;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(Checked()));
  for (it->Seek("r/"); it->Valid() && it->key().starts_with("r/"); it->Next()) {
    if (it->key().size() != 4 || it->value().size() != 32) Fail("has a malformed bucket root");
    const auto* k = reinterpret_cast<const unsigned char*>(it->key().data());
    out.emplace_back((static_cast<std::uint32_t>(k[2]) << 8) | k[3],
                     HashAt(std::string_view(it->value().data(), 32)));
  }
  ThrowIfIteratorBad(it->status(), "bucket roots");
  rooted_.assign(rooted_.size(), false);
  for (const auto& [bucket, root] : out) rooted_[bucket] = true;
  roots_known_ = true;
  return out;
}

std::uint64_t LevelStateStorage::LastValueId() const {
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(Checked()));
  it->Seek("v0");  // the first key after every "v/..." ('0' follows '/')
  if (it->Valid()) {
    it->Prev();
  } else {
    it->SeekToLast();
  }
  ThrowIfIteratorBad(it->status(), "last value id");
  if (!it->Valid() || !it->key().starts_with("v/")) return 0;
  if (it->key().size() != 10) Fail("has a malformed value key");
  return GetU64(AsView(it->key()).substr(2));
}

void LevelStateStorage::AddWrites(leveldb::WriteBatch* batch, const contracts::StateWrites& writes,
                                  const contracts::StatePrepared& prepared) {
  if (next_id_ == 0) {
    // Must be above every stored value's id (a lost or lowered one would overwrite live values).
    std::string bytes;
    leveldb::Status s = db_->Get(Checked(), std::string(kStateNextIdKey), &bytes);
    ThrowIfBad(s, "next value id");
    if (!s.IsNotFound() && bytes.size() != 8) Fail("next value id is malformed");
    const std::uint64_t next = s.IsNotFound() ? 1 : GetU64(bytes);
    const std::uint64_t last = LastValueId();
    if (next == 0 || next <= last) {
      Fail(s.IsNotFound() ? "next value id is missing, yet values up to id " + std::to_string(last) +
                                " are stored"
                          : "next value id " + std::to_string(next) +
                                " is not above the last stored value's id " + std::to_string(last));
    }
    next_id_ = next;
  }
  written_ids_.clear();
  std::size_t k = 0;
  for (const auto& [key, value] : writes) {
    const auto& [bucket, leaf] = prepared.writes[k++];
    std::optional<std::uint64_t> replaced;
    if (const auto* cached = values_.Find(key)) {
      if (cached->value) replaced = cached->id;  // read through Get (checked) or written here
    } else if (const auto old_leaf = LeafOf(key)) {
      // Not read since start: the id its "i/" record gives must be that of its own value (its
      // value hashes to its old leaf), or deleting it would delete another entry's value.
      replaced = ReadId(key);
      if (!replaced) Fail("has no value for " + key + ", which its bucket lists");
      ReadChecked(key, *replaced, *old_leaf);
    } else if (ReadId(key)) {
      // A new key with an "i/" record: a stray record, whose id may be a live entry's.
      Fail("has a value for " + key + ", which no bucket lists");
    }
    if (replaced) batch->Delete(StateValueKey(*replaced));
    if (value) {
      const std::uint64_t id = next_id_++;
      batch->Put(StateValueKey(id), *value);
      batch->Put(StateIdKey(key), IdBytes(id));
      batch->Put(StateLeafKey(bucket, key), std::string(crypto::AsBytes(leaf)));
      written_ids_.emplace(key, id);
    } else {
      batch->Delete(StateIdKey(key));
      batch->Delete(StateLeafKey(bucket, key));
    }
    values_.Erase(key);  // Committed puts it back with its new id
  }
  const crypto::Hash256 empty = crypto::Sha256("");
  for (const auto& [bucket, root] : prepared.bucket_roots) {
    if (root == empty) {
      batch->Delete(StateRootKey(bucket));
    } else {
      batch->Put(StateRootKey(bucket), std::string(crypto::AsBytes(root)));
    }
  }
  batch->Put(std::string(kStateNextIdKey), IdBytes(next_id_));
  batch->Put(std::string(kStateLayoutKey), std::string(kStateLayout));
}

void LevelStateStorage::Committed(const contracts::StateWrites& writes,
                                  const contracts::StatePrepared& prepared) {
  // The store has written these with the block (AddWrites): the caches take them as they are now.
  for (const auto& [key, value] : writes) {
    CachedValue entry{value, 0};
    if (value) {
      auto id = written_ids_.find(key);
      if (id == written_ids_.end()) {  // not written through AddWrites: read when needed
        values_.Erase(key);
        continue;
      }
      entry.id = id->second;
    }
    const std::size_t cost = ValueCost(key, entry.value);
    values_.Put(key, std::move(entry), cost);
  }
  written_ids_.clear();
  for (const auto& [bucket, leaves] : prepared.bucket_leaves) {
    buckets_.Put(bucket, leaves, LeavesCost(*leaves));
    rooted_[bucket] = !leaves->empty();
  }
}

Status LevelStateStorage::ConvertLayout(bool has_tip) {
  values_.Clear();
  buckets_.Clear();
  roots_known_ = false;
  written_ids_.clear();
  next_id_ = 0;
  std::string layout;
  leveldb::Status s = db_->Get(Checked(), std::string(kStateLayoutKey), &layout);
  if (!s.ok() && !s.IsNotFound()) return ConversionError(s, "reading the layout mark");
  if (s.ok() && layout == kStateLayout) return RemoveKeyedValues();
  if (s.ok() && layout != kStateLayoutKeyed) {
    return MakeError("corrupt-store", "unknown state layout " + layout);
  }
  if (s.IsNotFound()) {
    if (!has_tip) return Status::Ok();  // empty: the genesis block writes the current layout
    // The layout before "3" had values only: leaves or ids without a mark are a lost mark.
    for (const char* prefix : {"k/", "i/", "v/"}) {
      std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(Checked()));
      it->Seek(prefix);
      if (it->Valid() && it->key().starts_with(prefix)) {
        return MakeError("corrupt-store", std::string("the state layout mark is missing from a store "
                                                      "with ") + prefix + " records");
      }
      if (!it->status().ok()) return ConversionError(it->status(), "reading the layout");
    }
    COLEND_RETURN_IF_ERROR(IndexKeyedValues());
  }
  COLEND_RETURN_IF_ERROR(ConvertKeyedValues());
  return RemoveKeyedValues();
}

Status LevelStateStorage::IndexKeyedValues() {
  // The layout before "3": "s/<key>" -> value only. Hash it all once, as a memory tree would,
  // and write each entry's leaf hash and each bucket's root, marked "3".
  contracts::StateWrites writes;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(Checked()));
  for (it->Seek(kKeyedValuePrefix); it->Valid() && it->key().starts_with(kKeyedValuePrefix); it->Next()) {
    writes.emplace(std::string(AsView(it->key()).substr(2)), it->value().ToString());
  }
  if (!it->status().ok()) return ConversionError(it->status(), "reading the values");
  contracts::StateTree tree;
  const contracts::StatePrepared prepared = tree.Prepare(writes);
  leveldb::WriteBatch batch;
  std::size_t k = 0;
  for (const auto& [key, value] : writes) {
    const auto& [bucket, leaf] = prepared.writes[k++];
    batch.Put(StateLeafKey(bucket, key), std::string(crypto::AsBytes(leaf)));
  }
  for (const auto& [bucket, root] : prepared.bucket_roots) {
    batch.Put(StateRootKey(bucket), std::string(crypto::AsBytes(root)));
  }
  batch.Put(std::string(kStateLayoutKey), std::string(kStateLayoutKeyed));
  return WriteSynced(&batch, "writing the leaves and bucket roots");
}

Status LevelStateStorage::WriteSynced(leveldb::WriteBatch* batch, const std::string& what) {
  leveldb::WriteOptions sync;
  sync.sync = true;
  leveldb::Status s = db_->Write(sync, batch);
  if (!s.ok()) return ConversionError(s, what);
  return Status::Ok();
}

Status LevelStateStorage::EachRecord(std::string_view prefix, leveldb::WriteBatch* batch,
                                     const RecordFn& add, const std::string& what) {
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(Checked()));
  const leveldb::Slice start(prefix.data(), prefix.size());
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    add(AsView(it->key()).substr(prefix.size()), it->value());
    if (batch->ApproximateSize() >= kStateConvertBatchBytes) {
      leveldb::Status s = db_->Write({}, batch);
      if (!s.ok()) return ConversionError(s, what);
      batch->Clear();
    }
  }
  if (!it->status().ok()) return ConversionError(it->status(), "reading the " + std::string(prefix) + " records");
  return Status::Ok();
}

Status LevelStateStorage::ConvertKeyedValues() {
  // Layout "3" to "4": each "s/<key>" value is copied under an id (in key order from 1) with its
  // "i/" record, in batches; then the next id and the mark in one synced write. Cut short before
  // the mark, it is done again from the start and writes the same records.
  leveldb::WriteBatch batch;
  // First whatever a conversion cut short left (the state may have changed since, if an earlier
  // version ran in between: its ids would not be ours).
  for (const std::string_view prefix : {"i/", "v/"}) {
    COLEND_RETURN_IF_ERROR(EachRecord(
        prefix, &batch,
        [&](std::string_view key, const leveldb::Slice&) {
          batch.Delete(std::string(prefix).append(key));
        },
        "removing a cut-short conversion's records"));
  }
  std::uint64_t id = 1;
  COLEND_RETURN_IF_ERROR(EachRecord(
      kKeyedValuePrefix, &batch,
      [&](std::string_view key, const leveldb::Slice& value) {
        batch.Put(StateValueKey(id), value);
        batch.Put(StateIdKey(key), IdBytes(id));
        ++id;
      },
      "writing the values under ids"));
  batch.Put(std::string(kStateNextIdKey), IdBytes(id));
  batch.Put(std::string(kStateLayoutKey), std::string(kStateLayout));
  return WriteSynced(&batch, "marking the layout");
}

Status LevelStateStorage::RemoveKeyedValues() {
  // After the mark: the "s/" records are no longer read; removed in batches (whatever is left
  // when this is cut short is removed at the next start).
  leveldb::WriteBatch batch;
  COLEND_RETURN_IF_ERROR(EachRecord(
      kKeyedValuePrefix, &batch,
      [&](std::string_view key, const leveldb::Slice&) {
        batch.Delete(std::string(kKeyedValuePrefix).append(key));
      },
      "removing the values under their keys"));
  leveldb::Status s = db_->Write({}, &batch);
  if (!s.ok()) return ConversionError(s, "removing the values under their keys");
  return Status::Ok();
}

std::size_t LevelStateStorage::checked_buckets() const {
  std::size_t n = 0;
  for (bool b : checked_) n += b;
  return n;
}

}  // namespace colend::node
