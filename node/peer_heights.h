// What a node knows about its peers' chains, and how much of it it believes.
//
// A status announcement is a claim: "my tip is height h with hash x". It is only a hint where to
// sync from until this node has the block at h itself (each committed with a certificate it
// verified) and its hash is x: then the claim is certified. Certified heights are what the
// signing recovery of a wiped member counts (node/signing_recovery.h); uncertified ones only
// choose a sync peer. A peer whose claim turns out false (another hash at that height, or no
// block served when asked for one it claimed) is discredited for a while: its claims are
// ignored, so a liar can neither keep a node "syncing" forever nor hold the lead bank's clock.
// A peer that leaves several block requests in a row unanswered is marked unanswered until it
// answers one: its claims then do not make this node "syncing" (it may be slow, not lying, so it
// is still asked when its announcement arrives). A peer that disconnects is forgotten, but an
// unanswered mark stays.
//
// Pure and deterministic (no clock of its own: callers pass monotonic milliseconds), shared by
// colend-node and colend-sim. docs/consensus.md §9–§10.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "crypto/hash.h"

namespace colend::node {

// How long the claims of a peer that lied are ignored.
inline constexpr std::int64_t kDiscreditMs = 60'000;

class PeerHeights {
 public:
  // The hash of our committed block at `height` (nullopt above our tip or if unreadable).
  using HashAt = std::function<std::optional<crypto::Hash256>(std::uint64_t height)>;

  // A status announcement (or a consensus message implying a height). Claims from a discredited
  // peer are ignored. `hash` may be absent for an implied height (never certified then).
  void Claim(const std::string& peer, std::uint64_t height, std::optional<crypto::Hash256> hash,
             bool recovering, std::int64_t now_ms);
  void Forget(const std::string& peer);
  // The peer lied or failed to serve what it claimed: its claims are dropped and ignored for
  // kDiscreditMs.
  void Discredit(const std::string& peer, std::int64_t now_ms);
  // The peer left kSyncUnansweredMax requests in a row unanswered (node_impl.h) / answered one.
  void Unanswered(const std::string& peer) { unanswered_.insert(peer); }
  void Answered(const std::string& peer) { unanswered_.erase(peer); }
  bool IsUnanswered(const std::string& peer) const { return unanswered_.count(peer) != 0; }
  // Checks the claims at or below our tip against our chain: a match certifies the peer's
  // height, a mismatch discredits the peer. Call after each commit and each claim. Returns the
  // mismatches (peer, claimed height): a lie, or a peer on another branch of a fork.
  std::vector<std::pair<std::string, std::uint64_t>> Verify(std::uint64_t our_height, const HashAt& hash_at,
                                                            std::int64_t now_ms);

  // The highest claim of a peer in good standing and not unanswered (0 if none): what "syncing"
  // is measured by.
  std::uint64_t BestClaim() const;
  std::uint64_t ClaimOf(const std::string& peer) const;
  // The best peer to sync from above `our_height`: one not unanswered and other than `avoid` if
  // one will do, else the highest claim of any.
  std::optional<std::string> SyncPeer(std::uint64_t our_height, const std::string& avoid) const;

  struct Report {
    std::uint64_t certified_height = 0;  // highest claim of the peer we verified
    bool recovering = false;             // the peer's latest announcement said so
  };
  // Peers in good standing with a certified height.
  std::map<std::string, Report> CertifiedReports() const;
  // Peers in good standing with any claim (for asking documents, showing status).
  std::map<std::string, std::uint64_t> Claims() const;

 private:
  struct Peer {
    std::uint64_t claim = 0;
    std::optional<crypto::Hash256> claim_hash;
    std::optional<std::uint64_t> certified;
    bool recovering = false;
  };
  std::map<std::string, Peer> peers_;
  std::map<std::string, std::int64_t> discredited_until_;
  std::set<std::string> unanswered_;  // members only: peers are authenticated members
};

}  // namespace colend::node
