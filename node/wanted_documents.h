// The documents this node still lacks (of committed evidence.attach records), and which of them to
// ask peers for next (docs/operations.md, "Resource limits": documents still to fetch).
//
// Every wanted digest is kept on disk (the node's "doc-wanted/" records, unbounded: one per
// attach); at most `held_max` of them are held here. One that does not fit is noted, and the
// list is read again from disk once there is room. Requests go round the whole list: each tick
// asks for the next few after the last one asked, so a document no peer holds delays the others
// by one turn, never for good.
//
// Thread safety: none (the node's io thread).
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <vector>

#include "crypto/hash.h"

namespace colend::node {

class WantedDocuments {
 public:
  explicit WantedDocuments(std::size_t held_max) : held_max_(held_max) {}

  // Holds `sha` if there is room; otherwise notes that the disk has more (true when held).
  bool Want(const crypto::Hash256& sha) {
    if (held_.count(sha)) return true;
    if (held_.size() >= held_max_) {
      more_on_disk_ = true;
      return false;
    }
    held_.insert(sha);
    return true;
  }
  // The document arrived (or is held already): no longer wanted.
  void Got(const crypto::Hash256& sha) { held_.erase(sha); }
  bool Has(const crypto::Hash256& sha) const { return held_.count(sha) != 0; }

  // Whether the disk's list should be read again: some digest did not fit, and now one would.
  bool NeedsRefill() const { return more_on_disk_ && held_.size() < held_max_; }
  // Called with the disk's whole list (in any order; held ones and duplicates are skipped): holds
  // what fits and notes whether the rest still waits on disk.
  void Refill(const std::vector<crypto::Hash256>& on_disk) {
    more_on_disk_ = false;
    for (const crypto::Hash256& sha : on_disk) Want(sha);
  }

  // The next `count` digests to ask for, going round the list from after the last one asked.
  std::vector<crypto::Hash256> NextToAsk(std::size_t count) {
    std::vector<crypto::Hash256> next;
    if (held_.empty()) return next;
    auto it = asked_last_ ? held_.upper_bound(*asked_last_) : held_.begin();
    while (next.size() < count && next.size() < held_.size()) {
      if (it == held_.end()) it = held_.begin();
      next.push_back(*it++);
    }
    asked_last_ = next.back();
    return next;
  }

  std::size_t size() const { return held_.size(); }
  bool empty() const { return held_.empty(); }

 private:
  const std::size_t held_max_;
  std::set<crypto::Hash256> held_;
  std::optional<crypto::Hash256> asked_last_;
  bool more_on_disk_ = false;
};

}  // namespace colend::node
