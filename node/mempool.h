// Pending transactions, in arrival order, bounded in count and bytes, in total and per sender, so
// that one member flooding valid transactions cannot exhaust a node's memory or crowd the others
// out. Pure bookkeeping: validation happens before Add, against the ledger.
//
// Thread safety: none; the node's io thread owns it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "crypto/hash.h"

namespace colend::node {

struct MempoolLimits {
  std::size_t txs_max = 200000;
  std::size_t bytes_max = 256u << 20;
  std::size_t sender_txs_max = 50000;        // one member's pending transactions
  std::size_t sender_bytes_max = 64u << 20;  // one member's pending bytes
};

class Mempool {
 public:
  enum class Admission { kAdded, kDuplicate, kFull, kSenderQuota };

  explicit Mempool(MempoolLimits limits) : limits_(limits) {}
  bool Contains(const crypto::Hash256& id) const { return by_id_.count(id) > 0; }
  std::size_t size() const { return by_id_.size(); }
  std::size_t bytes() const { return bytes_; }
  const MempoolLimits& limits() const { return limits_; }
  Admission Add(const crypto::Hash256& id, const std::string& sender, std::string wire);
  void Remove(const crypto::Hash256& id);
  // The oldest transactions, at most `count` and at most `bytes_max` bytes of wire in total
  // (stops at the first that would not fit, so arrival order is kept).
  std::vector<std::string> Oldest(std::size_t count, std::size_t bytes_max) const;

 private:
  struct Entry {
    std::string sender;
    std::string wire;
  };
  struct Usage {
    std::size_t txs = 0;
    std::size_t bytes = 0;
  };
  MempoolLimits limits_;
  std::uint64_t next_seq_ = 0;
  std::size_t bytes_ = 0;
  std::map<crypto::Hash256, std::uint64_t> by_id_;
  std::map<std::uint64_t, Entry> by_seq_;
  std::map<std::string, Usage> by_sender_;
};

}  // namespace colend::node
