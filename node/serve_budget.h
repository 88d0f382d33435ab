// How much serving work each peer may ask of this node: a token bucket per peer, in requests
// and in bytes served (block and document answers). A request over budget is not answered; the
// asker times out and asks another peer (docs/operations.md, "Resource limits"). Honest sync asks
// one batch at a time (catch-up measured 704 blocks/s = 11 requests/s), far below the rates here.
//
// Not consensus code: it reads the monotonic clock the caller passes. Thread safety: none (the
// node's io thread).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "node/token_bucket.h"

namespace colend::node {

struct ServeLimits {
  std::int64_t requests_per_second = 50;
  std::int64_t requests_burst = 100;
  std::int64_t bytes_per_second = 64ll << 20;
  std::int64_t bytes_burst = 128ll << 20;
};

class ServeBudget {
 public:
  explicit ServeBudget(ServeLimits limits = {}) : limits_(limits) {}

  // Whether `peer` may make one more request now (and takes it from the budget).
  bool TakeRequest(const std::string& peer, std::int64_t now_ms) {
    auto it = buckets_.find(peer);
    if (it == buckets_.end()) {
      it = buckets_
               .try_emplace(peer, Buckets{{{limits_.requests_per_second, limits_.requests_burst}, now_ms},
                                          {{limits_.bytes_per_second, limits_.bytes_burst}, now_ms}})
               .first;
    }
    Buckets& buckets = it->second;
    buckets.bytes.Refill(now_ms);
    if (!buckets.bytes.Positive()) return false;
    return buckets.requests.Take(now_ms);
  }
  // Charges the bytes of an answer sent to `peer` (the balance may go negative: the next requests
  // wait until it has refilled).
  void ChargeBytes(const std::string& peer, std::int64_t bytes) {
    auto it = buckets_.find(peer);
    if (it != buckets_.end()) it->second.bytes.Charge(bytes);
  }
  void Forget(const std::string& peer) { buckets_.erase(peer); }

 private:
  struct Buckets {
    TokenBucket requests;
    TokenBucket bytes;
  };
  ServeLimits limits_;
  std::map<std::string, Buckets> buckets_;
};

}  // namespace colend::node
