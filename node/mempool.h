// Pending transactions, in arrival order, bounded. Pure bookkeeping: validation happens before
// Add, against the ledger.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "crypto/hash.h"

namespace colend::node {

class Mempool {
 public:
  explicit Mempool(std::size_t txs_max) : txs_max_(txs_max) {}
  bool Contains(const crypto::Hash256& id) const { return by_id_.count(id) > 0; }
  bool full() const { return by_id_.size() >= txs_max_; }
  std::size_t size() const { return by_id_.size(); }
  // False if present or full.
  bool Add(const crypto::Hash256& id, std::string wire);
  void Remove(const crypto::Hash256& id);
  // Up to `count` transactions, oldest first.
  std::vector<std::string> Oldest(std::size_t count) const;

 private:
  std::size_t txs_max_;
  std::uint64_t next_seq_ = 0;
  std::map<crypto::Hash256, std::uint64_t> by_id_;
  std::map<std::uint64_t, std::string> by_seq_;
};

}  // namespace colend::node
