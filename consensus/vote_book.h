// VoteBook: the votes a replica has seen at its current height, per (round, phase), one per
// member. It only counts; signatures are checked by the caller before Add. Internal to the
// consensus module (the replica's bookkeeping), exposed in a header so it can be unit-tested.
//
// Invariants: one first vote per (round, phase, member), which Find returns; a second, different
// one is reported by Add as a conflict (equivocation) and, once the caller has verified it and
// calls AddConflicting, counts for its own block too; a member counts at most once per block. Ordered containers only, so every iteration is deterministic.
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

// A member's conflicting votes kept at one (round, phase) besides its first: one proves the
// equivocation, and each is a signature to check and a vote to count on every later message.
inline constexpr std::size_t kConflictingVotesPerSlotMax = 4;

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
  // Records a second, different, validly signed vote of `member` at (round, phase) (an
  // equivocation, already reported by the caller). It counts for its block as well: a member
  // who signed both sides is on both sides, and a peer that saw the other vote first can still
  // check a proof of lock that contains this one. Find still returns the first vote. Beyond
  // kConflictingVotesPerSlotMax of them (ConflictingFull), further ones are not kept.
  void AddConflicting(std::uint32_t round, Phase phase, const std::string& member,
                      const std::optional<Hash256>& block_hash, std::string signature);
  bool ConflictingFull(std::uint32_t round, Phase phase, const std::string& member) const;
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
  // Every vote for `block_hash` at (round, phase), as (member, vote), sorted by member id.
  std::vector<std::pair<std::string, RecordedVote>> VotesFor(std::uint32_t round, Phase phase,
                                                             const Hash256& block_hash) const;

  void Clear();

 private:
  using Key = std::pair<std::uint32_t, Phase>;
  // Every vote of `member` at `key` that is for `block_hash`: the first, or a conflicting one.
  const RecordedVote* VoteOfMemberFor(const Key& key, const std::string& member,
                                      const std::optional<Hash256>& block_hash) const;
  std::map<Key, std::map<std::string, RecordedVote>> votes_;
  std::map<Key, std::map<std::string, std::vector<RecordedVote>>> conflicting_;
  std::map<std::uint32_t, std::set<std::string>> senders_;
};

}  // namespace colend::consensus
