// Vote tallies of one height; see vote_book.h.
#include "consensus/vote_book.h"

namespace colend::consensus {

VoteBook::AddResult VoteBook::Add(std::uint32_t round, Phase phase, const std::string& member,
                                  const std::optional<Hash256>& block_hash, std::string signature) {
  auto& by_member = votes_[{round, phase}];
  auto it = by_member.find(member);
  if (it != by_member.end()) {
    return it->second.block_hash == block_hash ? AddResult::kDuplicate : AddResult::kConflict;
  }
  by_member.emplace(member, RecordedVote{block_hash, std::move(signature)});
  senders_[round].insert(member);
  return AddResult::kAdded;
}

void VoteBook::AddConflicting(std::uint32_t round, Phase phase, const std::string& member,
                              const std::optional<Hash256>& block_hash, std::string signature) {
  if (VoteOfMemberFor({round, phase}, member, block_hash) != nullptr) return;
  if (ConflictingFull(round, phase, member)) return;
  conflicting_[{round, phase}][member].push_back(RecordedVote{block_hash, std::move(signature)});
}

bool VoteBook::ConflictingFull(std::uint32_t round, Phase phase, const std::string& member) const {
  auto slot = conflicting_.find({round, phase});
  if (slot == conflicting_.end()) return false;
  auto it = slot->second.find(member);
  return it != slot->second.end() && it->second.size() >= kConflictingVotesPerSlotMax;
}

const RecordedVote* VoteBook::VoteOfMemberFor(const Key& key, const std::string& member,
                                              const std::optional<Hash256>& block_hash) const {
  if (auto it = votes_.find(key); it != votes_.end()) {
    if (auto vote = it->second.find(member);
        vote != it->second.end() && vote->second.block_hash == block_hash) {
      return &vote->second;
    }
  }
  if (auto it = conflicting_.find(key); it != conflicting_.end()) {
    if (auto extra = it->second.find(member); extra != it->second.end()) {
      for (const RecordedVote& vote : extra->second) {
        if (vote.block_hash == block_hash) return &vote;
      }
    }
  }
  return nullptr;
}

void VoteBook::NoteSender(std::uint32_t round, const std::string& member) {
  senders_[round].insert(member);
}

const RecordedVote* VoteBook::Find(std::uint32_t round, Phase phase,
                                   const std::string& member) const {
  auto it = votes_.find({round, phase});
  if (it == votes_.end()) return nullptr;
  auto vote = it->second.find(member);
  return vote == it->second.end() ? nullptr : &vote->second;
}

std::size_t VoteBook::Count(std::uint32_t round, Phase phase,
                            const std::optional<Hash256>& block_hash) const {
  auto it = votes_.find({round, phase});
  if (it == votes_.end()) return 0;
  std::size_t count = 0;
  for (const auto& [member, vote] : it->second) {
    if (VoteOfMemberFor({round, phase}, member, block_hash) != nullptr) ++count;
  }
  return count;
}

std::size_t VoteBook::CountAll(std::uint32_t round, Phase phase) const {
  auto it = votes_.find({round, phase});
  return it == votes_.end() ? 0 : it->second.size();
}

std::vector<Hash256> VoteBook::HashesWithAtLeast(std::uint32_t round, Phase phase,
                                                 std::size_t threshold) const {
  std::vector<Hash256> result;
  auto it = votes_.find({round, phase});
  if (it == votes_.end()) return result;
  std::map<Hash256, std::size_t> counts;
  for (const auto& [member, vote] : it->second) {
    if (vote.block_hash) ++counts[*vote.block_hash];
  }
  if (auto extra = conflicting_.find({round, phase}); extra != conflicting_.end()) {
    for (const auto& [member, list] : extra->second) {
      for (const RecordedVote& vote : list) {
        if (vote.block_hash) ++counts[*vote.block_hash];  // differs from the member's first
      }
    }
  }
  for (const auto& [hash, count] : counts) {
    if (count >= threshold) result.push_back(hash);
  }
  return result;
}

std::vector<std::pair<std::uint32_t, Hash256>> VoteBook::PrecommitQuorums(
    std::size_t threshold) const {
  std::vector<std::pair<std::uint32_t, Hash256>> result;
  for (const auto& [key, by_member] : votes_) {
    if (key.second != Phase::kPrecommit || by_member.size() < threshold) continue;
    for (const Hash256& hash : HashesWithAtLeast(key.first, Phase::kPrecommit, threshold)) {
      result.emplace_back(key.first, hash);
    }
  }
  return result;
}

std::optional<std::uint32_t> VoteBook::HighestRoundWithSenders(std::uint32_t above,
                                                               std::size_t threshold) const {
  for (auto it = senders_.rbegin(); it != senders_.rend() && it->first > above; ++it) {
    if (it->second.size() >= threshold) return it->first;
  }
  return std::nullopt;
}

std::vector<proto::Endorsement> VoteBook::Endorsements(std::uint32_t round,
                                                       const Hash256& block_hash) const {
  std::vector<proto::Endorsement> result;
  for (const auto& [member, vote] : VotesFor(round, Phase::kPrecommit, block_hash)) {
    proto::Endorsement& e = result.emplace_back();
    e.set_member(member);
    e.set_signature(vote.signature);
  }
  return result;
}

std::vector<std::pair<std::string, RecordedVote>> VoteBook::VotesFor(
    std::uint32_t round, Phase phase, const Hash256& block_hash) const {
  std::vector<std::pair<std::string, RecordedVote>> result;
  auto it = votes_.find({round, phase});
  if (it == votes_.end()) return result;
  for (const auto& [member, first] : it->second) {  // std::map: sorted by member id
    if (const RecordedVote* vote = VoteOfMemberFor({round, phase}, member, block_hash)) {
      result.emplace_back(member, *vote);
    }
  }
  return result;
}

void VoteBook::Clear() {
  votes_.clear();
  senders_.clear();
  conflicting_.clear();
}

}  // namespace colend::consensus
