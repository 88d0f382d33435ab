// A least-recently-used cache bounded in bytes (each entry's cost is given by the caller). Used by
// the state storage (node/state_storage.h) to keep hot entries and buckets out of LevelDB's read
// path. Entries are found through a hash table (a lookup is one or two cache misses; in an
// ordered map of 65,536 buckets it was about sixteen, measured with perf in docs/performance.md),
// and nothing it returns depends on hashing: it is never iterated, and which entry is evicted is
// decided by the recency list alone.
//
// Thread safety: none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace colend::node {

// The hash of LruCache's keys, with lookups by std::string_view for std::string keys (no copy).
struct LruHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
  std::size_t operator()(std::uint64_t key) const { return std::hash<std::uint64_t>{}(key); }
};

template <typename Key, typename Value>
class LruCache {
 public:
  explicit LruCache(std::size_t bytes_max) : bytes_max_(bytes_max) {}

  // The cached value, now the most recently used; nullptr if absent.
  template <typename K>
  const Value* Find(const K& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second.position);
    return &it->second.value;
  }
  // Inserts or replaces; evicts the least recently used entries beyond the byte limit (an entry
  // larger than the whole limit is not kept).
  void Put(const Key& key, Value value, std::size_t cost) {
    Erase(key);
    if (cost > bytes_max_) return;
    order_.push_front(key);
    map_.emplace(key, Slot{std::move(value), cost, order_.begin()});
    bytes_ += cost;
    while (bytes_ > bytes_max_) {
      const Key victim = order_.back();
      Erase(victim);
    }
  }
  template <typename K>
  void Erase(const K& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return;
    bytes_ -= it->second.cost;
    order_.erase(it->second.position);
    map_.erase(it);
  }
  void Clear() {
    map_.clear();
    order_.clear();
    bytes_ = 0;
  }
  std::size_t bytes() const { return bytes_; }
  std::size_t size() const { return map_.size(); }

 private:
  struct Slot {
    Value value;
    std::size_t cost;
    typename std::list<Key>::iterator position;
  };
  std::size_t bytes_max_;
  std::size_t bytes_ = 0;
  std::list<Key> order_;  // most recently used first
  std::unordered_map<Key, Slot, LruHash, std::equal_to<>> map_;
};

}  // namespace colend::node
