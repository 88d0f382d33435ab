// Proves the vote bookkeeping counts distinct members only: a member's second vote at the same
// (round, phase) is a duplicate when identical and a conflict (not counted) when different;
// quorum queries, the round-skip sender count and the endorsement list (sorted by member) are
// computed from first votes only.
#include "consensus/vote_book.h"

#include <gtest/gtest.h>

namespace colend::consensus {
namespace {

Hash256 Filled(std::uint8_t byte) {
  Hash256 h;
  h.fill(byte);
  return h;
}

TEST(VoteBookTest, CountsDistinctMembersAndFlagsConflicts) {
  VoteBook book;
  const Hash256 a = Filled(1), b = Filled(2);
  EXPECT_EQ(book.Add(0, Phase::kPrevote, "m2", a, "s2"), VoteBook::AddResult::kAdded);
  EXPECT_EQ(book.Add(0, Phase::kPrevote, "m1", a, "s1"), VoteBook::AddResult::kAdded);
  EXPECT_EQ(book.Add(0, Phase::kPrevote, "m1", a, "s1-again"), VoteBook::AddResult::kDuplicate);
  EXPECT_EQ(book.Add(0, Phase::kPrevote, "m1", b, "s1-b"), VoteBook::AddResult::kConflict);
  EXPECT_EQ(book.Add(0, Phase::kPrevote, "m3", std::nullopt, "s3"), VoteBook::AddResult::kAdded);
  EXPECT_EQ(book.Count(0, Phase::kPrevote, a), 2u);
  EXPECT_EQ(book.Count(0, Phase::kPrevote, b), 0u);
  EXPECT_EQ(book.Count(0, Phase::kPrevote, std::nullopt), 1u);
  EXPECT_EQ(book.CountAll(0, Phase::kPrevote), 3u);
  EXPECT_EQ(book.CountAll(0, Phase::kPrecommit), 0u);
  EXPECT_EQ(book.HashesWithAtLeast(0, Phase::kPrevote, 2), std::vector<Hash256>{a});
  EXPECT_EQ(book.Find(0, Phase::kPrevote, "m1")->signature, "s1");
}

// A member flooding conflicting votes at one slot has at most kConflictingVotesPerSlotMax of them
// kept and counted; others' slots are not affected.
TEST(VoteBookTest, AMembersConflictingVotesAtOneSlotAreBounded) {
  VoteBook book;
  ASSERT_EQ(book.Add(0, Phase::kPrecommit, "m1", Filled(0), "first"), VoteBook::AddResult::kAdded);
  for (int i = 1; i <= 100; ++i) {
    book.AddConflicting(0, Phase::kPrecommit, "m1", Filled(static_cast<std::uint8_t>(i)), "s");
  }
  EXPECT_TRUE(book.ConflictingFull(0, Phase::kPrecommit, "m1"));
  EXPECT_FALSE(book.ConflictingFull(1, Phase::kPrecommit, "m1"));
  EXPECT_FALSE(book.ConflictingFull(0, Phase::kPrecommit, "m2"));
  std::size_t counted = 0;
  for (int i = 1; i <= 100; ++i) counted += book.Count(0, Phase::kPrecommit, Filled(static_cast<std::uint8_t>(i)));
  EXPECT_EQ(counted, kConflictingVotesPerSlotMax);
  EXPECT_EQ(book.Count(0, Phase::kPrecommit, Filled(1)), 1u) << "the first ones are kept";
}

TEST(VoteBookTest, PrecommitQuorumsAndSortedEndorsements) {
  VoteBook book;
  const Hash256 a = Filled(1);
  for (const char* m : {"m3", "m1", "m2"}) book.Add(4, Phase::kPrecommit, m, a, m);
  book.Add(4, Phase::kPrecommit, "m4", std::nullopt, "nil");
  book.Add(2, Phase::kPrecommit, "m1", a, "old");
  const auto quorums = book.PrecommitQuorums(3);
  ASSERT_EQ(quorums.size(), 1u);
  EXPECT_EQ(quorums[0].first, 4u);
  const auto endorsements = book.Endorsements(4, a);
  ASSERT_EQ(endorsements.size(), 3u);
  EXPECT_EQ(endorsements[0].member(), "m1");
  EXPECT_EQ(endorsements[1].member(), "m2");
  EXPECT_EQ(endorsements[2].member(), "m3");
}

TEST(VoteBookTest, HighestRoundWithSenders) {
  VoteBook book;
  book.Add(3, Phase::kPrevote, "m1", std::nullopt, "");
  book.NoteSender(3, "m2");                                // a proposal
  book.Add(3, Phase::kPrecommit, "m1", std::nullopt, "");  // same member again
  book.Add(5, Phase::kPrevote, "m1", std::nullopt, "");
  EXPECT_EQ(book.HighestRoundWithSenders(0, 2), 3u);
  EXPECT_EQ(book.HighestRoundWithSenders(0, 1), 5u);
  EXPECT_EQ(book.HighestRoundWithSenders(3, 2), std::nullopt);
  book.Clear();
  EXPECT_EQ(book.HighestRoundWithSenders(0, 1), std::nullopt);
}

}  // namespace
}  // namespace colend::consensus
