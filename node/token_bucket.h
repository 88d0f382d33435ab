// A token bucket in thousandths of a token: `burst` tokens at most, refilled at `per_second`.
// Used for what peers may ask of a node (node/serve_budget.h) and for how fast one source address
// may open connections to the P2P port (node/transport.cc); docs/operations.md, "Resource limits".
//
// Not consensus code: it reads the monotonic clock the caller passes, in milliseconds. Thread
// safety: none (the node's io thread).
#pragma once

#include <algorithm>
#include <cstdint>

namespace colend::node {

struct TokenRate {
  std::int64_t per_second = 0;
  std::int64_t burst = 0;
};

class TokenBucket {
 public:
  // A full bucket, as of `now_ms`.
  TokenBucket(TokenRate rate, std::int64_t now_ms)
      : rate_(rate), milli_(rate.burst * 1000), refilled_ms_(now_ms) {}

  // Adds what `rate` gives since the last refill (a clock going back adds nothing; more than a
  // minute counts as one: the bucket is full long before).
  void Refill(std::int64_t now_ms) {
    const std::int64_t elapsed = std::clamp<std::int64_t>(now_ms - refilled_ms_, 0, 60000);
    refilled_ms_ = std::max(refilled_ms_, now_ms);  // never refill twice
    milli_ = std::min(rate_.burst * 1000, milli_ + elapsed * rate_.per_second);
  }
  // Whether one whole token is there after refilling (and takes it when so).
  bool Take(std::int64_t now_ms) {
    Refill(now_ms);
    if (milli_ < 1000) return false;
    milli_ -= 1000;
    return true;
  }
  // Takes `tokens` even past empty (the balance may go negative, so later takes wait longer).
  // Clamped to 2^40 tokens so the milli-units stay far from overflow.
  void Charge(std::int64_t tokens) { milli_ -= std::clamp<std::int64_t>(tokens, 0, 1ll << 40) * 1000; }
  bool Positive() const { return milli_ > 0; }
  // Whether the bucket is full as of `now_ms` (it then says nothing a new bucket would not).
  bool FullAt(std::int64_t now_ms) const {
    const std::int64_t elapsed = std::clamp<std::int64_t>(now_ms - refilled_ms_, 0, 60000);
    return milli_ + elapsed * rate_.per_second >= rate_.burst * 1000;
  }

 private:
  TokenRate rate_;
  std::int64_t milli_;
  std::int64_t refilled_ms_;
};

}  // namespace colend::node
