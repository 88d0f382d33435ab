#include "contracts/state.h"

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

std::optional<std::string> StateTree::Get(std::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second.value;
}

std::vector<std::pair<std::string, std::string>> StateTree::Scan(std::string_view prefix,
                                                                std::size_t limit) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = entries_.lower_bound(prefix);
       it != entries_.end() && it->first.starts_with(prefix) && out.size() < limit; ++it) {
    out.emplace_back(it->first, it->second.value);
  }
  return out;
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

void StateTree::Apply(const StateWrites& writes) {
  for (const auto& [key, value] : writes) {
    if (value) {
      entries_[key] = Entry{*value, LeafHash(key, *value)};
    } else {
      entries_.erase(key);
    }
  }
}

crypto::Hash256 StateTree::Root() const { return RootAfter({}); }

crypto::Hash256 StateTree::RootAfter(const StateWrites& writes) const {
  // Merge the two sorted sequences: entries_ and writes (a write replaces or erases an entry).
  std::vector<crypto::Hash256> leaves;
  leaves.reserve(entries_.size() + writes.size());
  auto e = entries_.begin();
  auto w = writes.begin();
  while (e != entries_.end() || w != writes.end()) {
    if (w == writes.end() || (e != entries_.end() && e->first < w->first)) {
      leaves.push_back(e->second.leaf_hash);
      ++e;
      continue;
    }
    if (e != entries_.end() && e->first == w->first) ++e;
    if (w->second) leaves.push_back(LeafHash(w->first, *w->second));
    ++w;
  }
  return crypto::MerkleRoot(leaves);
}

}  // namespace colend::contracts
