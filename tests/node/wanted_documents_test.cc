// The documents a node still lacks, and which it asks peers for (node/wanted_documents.h): every
// wanted one is asked in turn, whatever the others do, and one that did not fit in memory is
// taken back from disk when there is room.
#include "node/wanted_documents.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "crypto/hash.h"

namespace colend::node {
namespace {

crypto::Hash256 Doc(int i) { return crypto::Sha256("document " + std::to_string(i)); }

// Five documents; the four with the smallest hashes are held by no peer and never arrive. Asking
// four a tick, the fifth is asked within two ticks, and every one is asked as often as the others.
TEST(WantedDocuments, EveryDocumentIsAskedInTurn) {
  WantedDocuments wanted(100);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(wanted.Want(Doc(i)));
  std::map<crypto::Hash256, int> asked;
  for (int tick = 0; tick < 10; ++tick) {
    for (const auto& sha : wanted.NextToAsk(4)) ++asked[sha];
  }
  ASSERT_EQ(asked.size(), 5u);
  for (const auto& [sha, times] : asked) EXPECT_EQ(times, 8) << crypto::ToHex(sha);
  // Fewer wanted than asked per tick: each once a tick, none twice.
  WantedDocuments two(100);
  two.Want(Doc(1));
  two.Want(Doc(2));
  EXPECT_EQ(two.NextToAsk(4).size(), 2u);
  EXPECT_TRUE(WantedDocuments(1).NextToAsk(4).empty());
}

TEST(WantedDocuments, OneThatDidNotFitIsTakenBackFromDiskWhenThereIsRoom) {
  WantedDocuments wanted(2);
  std::vector<crypto::Hash256> disk;  // the node's doc-wanted/ records: every one
  for (int i = 0; i < 3; ++i) {
    disk.push_back(Doc(i));
    wanted.Want(Doc(i));
  }
  EXPECT_EQ(wanted.size(), 2u);
  EXPECT_FALSE(wanted.NeedsRefill()) << "no room yet";
  const crypto::Hash256 left_out = wanted.Has(Doc(0)) ? (wanted.Has(Doc(1)) ? Doc(2) : Doc(1)) : Doc(0);
  // One arrives: the one left out is read back from disk, and asked for.
  const crypto::Hash256 arrived = left_out == Doc(0) ? Doc(1) : Doc(0);
  wanted.Got(arrived);
  std::erase(disk, arrived);
  ASSERT_TRUE(wanted.NeedsRefill());
  wanted.Refill(disk);
  EXPECT_TRUE(wanted.Has(left_out));
  EXPECT_EQ(wanted.size(), 2u);
  EXPECT_FALSE(wanted.NeedsRefill()) << "everything on disk is held";
  bool asked = false;
  for (int tick = 0; tick < 2; ++tick) {
    for (const auto& sha : wanted.NextToAsk(1)) asked = asked || sha == left_out;
  }
  EXPECT_TRUE(asked);
}

}  // namespace
}  // namespace colend::node
