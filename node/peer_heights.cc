#include "node/peer_heights.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace colend::node {

void PeerHeights::Claim(const std::string& peer, std::uint64_t height,
                        std::optional<crypto::Hash256> hash, bool recovering,
                        std::int64_t now_ms) {
  if (auto it = discredited_until_.find(peer); it != discredited_until_.end()) {
    if (now_ms < it->second) return;
    discredited_until_.erase(it);
  }
  Peer& p = peers_[peer];
  if (hash) {
    p.recovering = recovering;
    p.claim = height;  // an announcement is the peer's tip: it replaces the previous claim
    p.claim_hash = hash;
  } else if (height > p.claim) {
    p.claim = height;  // implied by a consensus message for a later height: a hint only
    p.claim_hash.reset();
  }
}

void PeerHeights::Forget(const std::string& peer) { peers_.erase(peer); }

void PeerHeights::Discredit(const std::string& peer, std::int64_t now_ms) {
  peers_.erase(peer);
  const std::int64_t until =
      now_ms > std::numeric_limits<std::int64_t>::max() - kDiscreditMs
          ? std::numeric_limits<std::int64_t>::max()
          : now_ms + kDiscreditMs;
  discredited_until_[peer] = until;
}

std::vector<std::pair<std::string, std::uint64_t>> PeerHeights::Verify(std::uint64_t our_height,
                                                                      const HashAt& hash_at,
                                                                      std::int64_t now_ms) {
  std::vector<std::pair<std::string, std::uint64_t>> liars;
  for (auto& [peer, p] : peers_) {
    if (!p.claim_hash || p.claim > our_height) continue;
    if (p.certified && *p.certified >= p.claim) continue;
    const std::optional<crypto::Hash256> ours = hash_at(p.claim);
    if (!ours) continue;
    if (*ours != *p.claim_hash) {
      liars.emplace_back(peer, p.claim);
      continue;
    }
    p.certified = std::max(p.certified.value_or(0), p.claim);
  }
  for (const auto& liar : liars) Discredit(liar.first, now_ms);
  return liars;
}

std::uint64_t PeerHeights::BestClaim() const {
  std::uint64_t best = 0;
  for (const auto& [peer, p] : peers_) {
    if (!IsUnanswered(peer)) best = std::max(best, p.claim);
  }
  return best;
}

std::uint64_t PeerHeights::ClaimOf(const std::string& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? 0 : it->second.claim;
}

std::optional<std::string> PeerHeights::SyncPeer(std::uint64_t our_height,
                                                 const std::string& avoid) const {
  std::optional<std::string> choice;
  std::uint64_t choice_height = 0;
  for (const auto& [peer, p] : peers_) {
    if (p.claim <= our_height || peer == avoid || IsUnanswered(peer)) continue;
    if (p.claim > choice_height) choice = peer, choice_height = p.claim;
  }
  if (choice) return choice;
  for (const auto& [peer, p] : peers_) {
    if (p.claim > our_height && p.claim > choice_height) choice = peer, choice_height = p.claim;
  }
  return choice;
}

std::map<std::string, PeerHeights::Report> PeerHeights::CertifiedReports() const {
  std::map<std::string, Report> out;
  for (const auto& [peer, p] : peers_) {
    if (p.certified) out[peer] = Report{*p.certified, p.recovering};
  }
  return out;
}

std::map<std::string, std::uint64_t> PeerHeights::Claims() const {
  std::map<std::string, std::uint64_t> out;
  for (const auto& [peer, p] : peers_) out[peer] = p.claim;
  return out;
}

}  // namespace colend::node
