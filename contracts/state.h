// The contract state: an ordered key/value map. Contracts read through StateReader and write into
// a StateOverlay; the node commits an overlay's writes with the block. The state root is the
// RFC 6962 root over the entries in key order, leaf = u32be(key length) || key || value.
//
// Invariants: keys are non-empty; iteration is always in key order (determinism).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/hash.h"

namespace colend::contracts {

using StateWrites = std::map<std::string, std::optional<std::string>, std::less<>>;

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

// The whole committed state in memory with each entry's leaf hash, so the root after a block's
// writes can be computed without touching disk.
class StateTree : public StateReader {
 public:
  std::optional<std::string> Get(std::string_view key) const override;
  std::vector<std::pair<std::string, std::string>> Scan(std::string_view prefix,
                                                        std::size_t limit) const override;
  void Apply(const StateWrites& writes);
  crypto::Hash256 Root() const;
  crypto::Hash256 RootAfter(const StateWrites& writes) const;  // without changing the tree
  std::size_t size() const { return entries_.size(); }
  const auto& entries() const { return entries_; }

  static crypto::Hash256 LeafHash(std::string_view key, std::string_view value);

 private:
  struct Entry {
    std::string value;
    crypto::Hash256 leaf_hash;
  };
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace colend::contracts
