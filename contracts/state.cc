#include "contracts/state.h"

#include <set>
#include <vector>

#include "crypto/merkle.h"

namespace colend::contracts {

std::optional<std::string> StateOverlay::Get(std::string_view key) const {
  auto it = writes_.find(key);
  if (it != writes_.end()) return it->second;
  return base_ ? base_->Get(key) : std::nullopt;
}

std::vector<std::pair<std::string, std::string>> StateOverlay::Scan(std::string_view prefix,
                                                                   std::size_t limit) const {
  // The base's entries with our writes merged over them, then cut to `limit`.
  std::map<std::string, std::string, std::less<>> merged;
  if (base_) {
    for (auto& [k, v] : base_->Scan(prefix, static_cast<std::size_t>(-1))) merged[k] = v;
  }
  for (auto it = writes_.lower_bound(prefix); it != writes_.end() && it->first.starts_with(prefix);
       ++it) {
    if (it->second) {
      merged[it->first] = *it->second;
    } else {
      merged.erase(it->first);
    }
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [k, v] : merged) {
    if (out.size() >= limit) break;
    out.emplace_back(k, v);
  }
  return out;
}

void StateOverlay::Absorb(const StateOverlay& child) {
  for (const auto& [key, value] : child.writes()) writes_[key] = value;
}

std::optional<std::string> MemoryStateStorage::Get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<std::string, std::string>> MemoryStateStorage::Scan(
    std::string_view prefix, std::string_view after, std::size_t limit) const {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = !after.empty() && after >= prefix ? values_.upper_bound(after) : values_.lower_bound(prefix);
  for (; it != values_.end() && it->first.starts_with(prefix) && out.size() < limit; ++it) {
    out.emplace_back(it->first, it->second);
  }
  return out;
}

SharedBucketLeaves MemoryStateStorage::BucketLeaves(std::uint32_t bucket) const {
  auto out = std::make_shared<StateBucketLeaves>();
  auto it = bucket_leaves_.find(bucket);
  if (it == bucket_leaves_.end()) return out;
  out->reserve(it->second.size());
  for (const auto& [key, leaf] : it->second) out->emplace_back(key, leaf);
  return out;
}

std::vector<std::pair<std::uint32_t, crypto::Hash256>> MemoryStateStorage::BucketRoots() const {
  return {bucket_roots_.begin(), bucket_roots_.end()};
}

void MemoryStateStorage::Committed(const StateWrites& writes, const StatePrepared& prepared) {
  std::size_t k = 0;
  for (const auto& [key, value] : writes) {
    const auto& [bucket, leaf] = prepared.writes[k++];
    if (value) {
      values_.insert_or_assign(key, *value);
      bucket_leaves_[bucket].insert_or_assign(key, leaf);
    } else if (values_.erase(key) > 0) {
      auto it = bucket_leaves_.find(bucket);
      it->second.erase(key);
      if (it->second.empty()) bucket_leaves_.erase(it);
    }
  }
  const crypto::Hash256 empty = crypto::Sha256("");
  for (const auto& [bucket, root] : prepared.bucket_roots) {
    if (root == empty) {
      bucket_roots_.erase(bucket);
    } else {
      bucket_roots_[bucket] = root;
    }
  }
}

crypto::Hash256 StateTree::LeafHash(std::string_view key, std::string_view value) {
  std::string leaf;
  leaf.reserve(4 + key.size() + value.size());
  auto n = static_cast<std::uint32_t>(key.size());
  leaf.push_back(static_cast<char>(n >> 24));
  leaf.push_back(static_cast<char>(n >> 16));
  leaf.push_back(static_cast<char>(n >> 8));
  leaf.push_back(static_cast<char>(n));
  leaf.append(key);
  leaf.append(value);
  return crypto::MerkleLeafHash(leaf);
}

std::uint32_t StateBucket(std::string_view key) {
  const crypto::Hash256 h = crypto::Sha256(key);
  return ((static_cast<std::uint32_t>(h[0]) << 8) | h[1]) % kStateBuckets;
}

static_assert(kStateBuckets == (std::size_t{1} << 16), "the top tree is perfect over 2^16 buckets");

namespace {

crypto::Hash256 TopLeaf(const crypto::Hash256& bucket_root) {
  return crypto::MerkleLeafHash(
      std::string_view(reinterpret_cast<const char*>(bucket_root.data()), bucket_root.size()));
}

}  // namespace

const std::vector<std::vector<crypto::Hash256>>& StateTree::EmptyTop() {
  static const std::vector<std::vector<crypto::Hash256>> kEmpty = [] {
    std::vector<std::vector<crypto::Hash256>> top(kTopLevels + 1);
    top[0].assign(kStateBuckets, TopLeaf(crypto::MerkleRoot({})));
    for (int level = 1; level <= kTopLevels; ++level) {
      for (std::size_t i = 0; i < top[level - 1].size() / 2; ++i) {
        top[level].push_back(crypto::MerkleNodeHash(top[level - 1][2 * i], top[level - 1][2 * i + 1]));
      }
    }
    return top;
  }();
  return kEmpty;
}

StateTree::StateTree() : owned_(std::make_unique<MemoryStateStorage>()), storage_(owned_.get()) {}

StateTree::StateTree(StateStorage* storage) : storage_(storage) {
  // Only the non-empty buckets are stored; the top tree is rebuilt over all 65536 roots.
  for (const auto& [bucket, root] : storage_->BucketRoots()) {
    bucket_roots_[bucket] = root;
    top_[0][bucket] = TopLeaf(root);
  }
  for (int level = 1; level <= kTopLevels; ++level) {
    for (std::size_t i = 0; i < top_[level].size(); ++i) {
      top_[level][i] = crypto::MerkleNodeHash(top_[level - 1][2 * i], top_[level - 1][2 * i + 1]);
    }
  }
}

void StateTree::Apply(const StateWrites& writes, const Prepared& given) {
  if (given.version != version_) {
    Apply(writes, Prepare(writes));
    return;
  }
  storage_->Committed(writes, given);
  for (const auto& [bucket, root] : given.bucket_roots) bucket_roots_[bucket] = root;
  for (int level = 0; level <= kTopLevels; ++level) {
    for (const auto& [i, hash] : given.top[level]) top_[level][i] = hash;
  }
  ++version_;
}

crypto::Hash256 StateTree::BucketRootOf(const std::vector<crypto::Hash256>& leaves) {
  return crypto::MerkleRoot(leaves);
}

crypto::Hash256 StateTree::BucketRootAfter(std::uint32_t bucket, const BucketWrites& writes,
                                           StateBucketLeaves* after) const {
  // Merge the bucket's sorted keys with the (sorted) writes that fall into it.
  std::vector<crypto::Hash256> leaves;
  const SharedBucketLeaves stored = storage_->BucketLeaves(bucket);
  const StateBucketLeaves& entries = *stored;
  leaves.reserve(entries.size() + writes.size());
  after->reserve(entries.size() + writes.size());
  auto e = entries.begin();
  auto w = writes.begin();
  while (e != entries.end() || w != writes.end()) {
    if (w == writes.end() || (e != entries.end() && e->first < w->first)) {
      leaves.push_back(e->second);
      after->push_back(*e);
      ++e;
      continue;
    }
    if (e != entries.end() && e->first == w->first) ++e;
    if (w->second) {
      leaves.push_back(*w->second);
      after->emplace_back(std::string(w->first), *w->second);
    }
    ++w;
  }
  return crypto::MerkleRoot(leaves);
}

crypto::Hash256 StateTree::Root() const { return top_[kTopLevels][0]; }

std::optional<StateProof> StateTree::Prove(std::string_view key) const {
  StateProof proof;
  proof.key = std::string(key);
  proof.bucket = StateBucket(key);
  const SharedBucketLeaves bucket = storage_->BucketLeaves(proof.bucket);
  std::vector<crypto::Hash256> leaves;
  leaves.reserve(bucket->size());
  bool present = false;
  for (const auto& [k, leaf] : *bucket) {
    if (k == key) {
      proof.index = leaves.size();
      present = true;
    }
    leaves.push_back(leaf);
  }
  if (!present) return std::nullopt;
  proof.size = leaves.size();
  proof.path = crypto::MerkleInclusionProof(leaves, proof.index);
  // The top tree is perfect: the audit path is the sibling at each level, bottom up.
  std::size_t i = proof.bucket;
  for (int level = 0; level < kTopLevels; ++level, i >>= 1) proof.top.push_back(top_[level][i ^ 1]);
  return proof;
}

std::string StateProof::ToText() const {
  std::string out = "colend-state-proof/v1\nkey: " + key;
  out += "\nbucket: " + std::to_string(bucket);
  out += "\nindex: " + std::to_string(index);
  out += "\nsize: " + std::to_string(size) + "\n";
  for (const auto& h : path) out += "path: " + crypto::ToHex(h) + "\n";
  for (const auto& h : top) out += "top: " + crypto::ToHex(h) + "\n";
  return out;
}

StateTree::Prepared StateTree::Prepare(const StateWrites& writes) const {
  // Only the buckets the writes touch are recomputed, then their ancestors in the top tree.
  Prepared p;
  p.version = version_;
  p.writes.reserve(writes.size());
  std::map<std::uint32_t, BucketWrites> by_bucket;  // each in key order, as `writes` is
  for (const auto& [key, value] : writes) {
    const std::uint32_t bucket = StateBucket(key);
    std::optional<crypto::Hash256> leaf;
    if (value) leaf = LeafHash(key, *value);
    p.writes.emplace_back(bucket, leaf.value_or(crypto::Hash256{}));
    by_bucket[bucket].emplace_back(key, leaf);
  }
  p.top.resize(kTopLevels + 1);
  for (const auto& [bucket, bucket_writes] : by_bucket) {
    StateBucketLeaves after;
    const crypto::Hash256 root = BucketRootAfter(bucket, bucket_writes, &after);
    p.bucket_leaves[bucket] = std::make_shared<const StateBucketLeaves>(std::move(after));
    p.bucket_roots[bucket] = root;
    p.top[0][bucket] = TopLeaf(root);
  }
  if (p.top[0].empty()) {
    p.root = Root();
    return p;
  }
  for (int level = 1; level <= kTopLevels; ++level) {
    const auto& changed = p.top[level - 1];
    auto& parents = p.top[level];
    for (const auto& [i, hash] : changed) {
      const std::size_t parent = i >> 1;
      if (parents.count(parent)) continue;
      auto child = [&](std::size_t index) {
        auto it = changed.find(index);
        return it != changed.end() ? it->second : top_[level - 1][index];
      };
      parents[parent] = crypto::MerkleNodeHash(child(2 * parent), child(2 * parent + 1));
    }
  }
  p.root = p.top[kTopLevels].begin()->second;
  return p;
}

}  // namespace colend::contracts
