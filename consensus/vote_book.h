// VoteBook: the votes a replica has seen at its current height, per (round, phase), one per
// member. It only counts; signatures are checked by the caller before Add. Internal to the
// consensus module (the replica's bookkeeping), exposed in a header so it can be unit-tested.
//
// Invariants: at most one vote per (round, phase, member) — the first one seen wins, a second
// different one is reported as a conflict (equivocation) and not counted; counts are over
// distinct members. Ordered containers only, so every iteration is deterministic.
// Thread safety: none.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "consensus/block.h"
#include "consensus/consensus.pb.h"

namespace colend::consensus {

struct RecordedVote {
  std::optional<Hash256> block_hash;  // nullopt: a vote for nil
  std::string signature;              // over VoteText(...)
};

class VoteBook {
 public:
  enum class AddResult { kAdded, kDuplicate, kConflict };

  // Records `member`'s vote at (round, phase) unless one is already there: kDuplicate if the
  // recorded one has the same block hash (nothing changes), kConflict if it differs (the first
  // is kept). Also counts `member` as a sender in `round`.
  AddResult Add(std::uint32_t round, Phase phase, const std::string& member,
                const std::optional<Hash256>& block_hash, std::string signature);
  // Notes that `member` sent a valid message (e.g. a proposal) in `round`.
  void NoteSender(std::uint32_t round, const std::string& member);

  // The vote recorded for (round, phase, member), or nullptr.
  const RecordedVote* Find(std::uint32_t round, Phase phase, const std::string& member) const;
  // Distinct members that voted `block_hash` (nullopt = nil) at (round, phase).
  std::size_t Count(std::uint32_t round, Phase phase,
                    const std::optional<Hash256>& block_hash) const;
  // Distinct members that voted anything at (round, phase).
  std::size_t CountAll(std::uint32_t round, Phase phase) const;
  // Non-nil block hashes with at least `threshold` votes at (round, phase), in hash order.
  std::vector<Hash256> HashesWithAtLeast(std::uint32_t round, Phase phase,
                                         std::size_t threshold) const;
  // Every (round, hash) whose precommits reach `threshold`, in round order.
  std::vector<std::pair<std::uint32_t, Hash256>> PrecommitQuorums(std::size_t threshold) const;
  // The highest round above `above` in which at least `threshold` distinct members sent a
  // valid message, if any.
  std::optional<std::uint32_t> HighestRoundWithSenders(std::uint32_t above,
                                                       std::size_t threshold) const;
  // The precommits for `block_hash` at `round`, one per member, sorted by member id.
  std::vector<proto::Endorsement> Endorsements(std::uint32_t round,
                                               const Hash256& block_hash) const;

  void Clear();

 private:
  using Key = std::pair<std::uint32_t, Phase>;
  std::map<Key, std::map<std::string, RecordedVote>> votes_;
  std::map<std::uint32_t, std::set<std::string>> senders_;
};

}  // namespace colend::consensus
