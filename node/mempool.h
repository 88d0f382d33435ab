// Pending transactions, in arrival order, bounded in count and in memory, in total and per sender,
// so that one member flooding valid transactions cannot exhaust a node's memory or crowd the
// others out. Pure bookkeeping: validation happens before Add, against the ledger.
//
// The memory limits count what an entry holds, not only its wire bytes (EntryBytes). Measured
// with jemalloc (the RSS growth over 200,000 entries, 20,000 of 4,097 bytes and 2,000 of 64 KiB):
// entries of 50, 120, 300, 450, 700, 2,000, 4,097 and 65,536 wire bytes took 227, 223, 234, 290,
// 289, 327, 1,375 and 5,696 bytes each beyond their wire (size classes, two map nodes, the
// sender's name, which needs no allocation of its own up to 15 bytes). A pool of small
// transactions held 1.6-5.5 times the wire bytes it counted before.
//
// Thread safety: none; the node's io thread owns it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "crypto/hash.h"

namespace colend::node {

// A full pool holds at most memory_max bytes of memory (docs/operations.md, *Transactions,
// mempool and blocks*); 96 MiB holds 100,000-114,000 loan transactions (350-450 wire bytes).
struct MempoolLimits {
  std::size_t txs_max = 200000;
  std::size_t memory_max = 96u << 20;
  std::size_t sender_txs_max = 50000;         // one member's pending transactions
  std::size_t sender_memory_max = 32u << 20;  // one member's pending memory

  bool operator==(const MempoolLimits&) const = default;
};

class Mempool {
 public:
  enum class Admission { kAdded, kDuplicate, kFull, kSenderQuota };

  // The memory counted for a pending transaction of `wire_bytes`: the wire, a quarter more for
  // jemalloc's size classes (each at most a quarter above the one below it) and 448 bytes of
  // bookkeeping. That is above every figure measured (header comment; 4,097 bytes by 97), and
  // still above with a sender's id of 64 bytes, the longest, which takes an 80-byte allocation.
  static constexpr std::size_t EntryBytes(std::size_t wire_bytes) {
    return wire_bytes + wire_bytes / 4 + 448;
  }

  explicit Mempool(MempoolLimits limits) : limits_(limits) {}
  bool Contains(const crypto::Hash256& id) const { return by_id_.count(id) > 0; }
  std::size_t size() const { return by_id_.size(); }
  std::size_t bytes() const { return bytes_; }    // wire bytes of the pending transactions
  std::size_t memory() const { return memory_; }  // their EntryBytes, what the limits bound
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
    std::size_t memory = 0;
  };
  MempoolLimits limits_;
  std::uint64_t next_seq_ = 0;
  std::size_t bytes_ = 0;
  std::size_t memory_ = 0;
  std::map<crypto::Hash256, std::uint64_t> by_id_;
  std::map<std::uint64_t, Entry> by_seq_;
  std::map<std::string, Usage> by_sender_;
};

}  // namespace colend::node
