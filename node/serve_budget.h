// How much serving work each peer may ask of this node: a token bucket per peer, in requests
// and in bytes served (block and document answers). A request over budget is not answered; the
// asker times out and asks another peer (docs/operations.md, "Resource limits"). Honest sync asks
// one batch at a time (catch-up measured 704 blocks/s = 11 requests/s), far below the rates here.
//
// Not consensus code: it reads the monotonic clock the caller passes. Thread safety: none (the
// node's io thread).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

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
    Bucket& bucket = Refill(peer, now_ms);
    if (bucket.requests_milli < 1000 || bucket.bytes_milli <= 0) return false;
    bucket.requests_milli -= 1000;
    return true;
  }
  // Charges the bytes of an answer sent to `peer` (the balance may go negative: the next requests
  // wait until it has refilled).
  void ChargeBytes(const std::string& peer, std::int64_t bytes) {
    auto it = buckets_.find(peer);
    if (it != buckets_.end()) it->second.bytes_milli -= std::min(bytes, kBytesCap) * 1000;
  }
  void Forget(const std::string& peer) { buckets_.erase(peer); }

 private:
  static constexpr std::int64_t kBytesCap = 1ll << 40;  // keeps the milli-units far from overflow
  struct Bucket {
    std::int64_t requests_milli = 0;
    std::int64_t bytes_milli = 0;
    std::int64_t refilled_ms = 0;
  };
  Bucket& Refill(const std::string& peer, std::int64_t now_ms) {
    auto [it, fresh] = buckets_.try_emplace(peer);
    Bucket& bucket = it->second;
    if (fresh) {
      bucket = {limits_.requests_burst * 1000, limits_.bytes_burst * 1000, now_ms};
      return bucket;
    }
    const std::int64_t elapsed = std::clamp<std::int64_t>(now_ms - bucket.refilled_ms, 0, 60000);
    bucket.refilled_ms = std::max(bucket.refilled_ms, now_ms);  // never refill twice
    bucket.requests_milli = std::min(limits_.requests_burst * 1000,
                                     bucket.requests_milli + elapsed * limits_.requests_per_second);
    bucket.bytes_milli =
        std::min(limits_.bytes_burst * 1000, bucket.bytes_milli + elapsed * limits_.bytes_per_second);
    return bucket;
  }

  ServeLimits limits_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace colend::node
