// A page of the RPC `state` listing (node/node_impl.h, StatePage): bounded in entries and in bytes,
// and "more" says whenever an entry was left for the next page, so a client following the pages
// sees every entry once.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "node/node_impl.h"

namespace colend::node::detail {
namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

Entries Loans(int count, std::size_t value_bytes) {
  Entries entries;
  for (int i = 0; i < count; ++i) {
    entries.emplace_back("loan/L" + std::to_string(1000 + i), std::string(value_bytes, 'v'));
  }
  return entries;
}

TEST(StatePage, APageEndsAfterTheEntryThatTakesItPastItsBytes) {
  // Ten records of 100 bytes (plus 10-byte keys) with a bound of 250 bytes: three per page.
  const nlohmann::json page = StatePage(Loans(10, 100), 1000, 250);
  EXPECT_EQ(page["entries"].size(), 3u);
  EXPECT_TRUE(page["more"]);
  // Following the pages, as colend does, gives every entry once, in order.
  const Entries all = Loans(10, 100);
  std::vector<std::string> seen;
  std::size_t from = 0;
  for (int pages = 0; pages < 20; ++pages) {
    const Entries rest(all.begin() + static_cast<std::ptrdiff_t>(from), all.end());
    const nlohmann::json next = StatePage(rest, 1000, 250);
    for (const auto& e : next["entries"]) seen.push_back(e["key"]);
    from += next["entries"].size();
    if (!next["more"]) break;
  }
  ASSERT_EQ(seen.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(seen[i], all[i].first);
}

TEST(StatePage, CountAndSizeBoundsAndTheLastPage) {
  EXPECT_EQ(StatePage(Loans(5, 10), 4, 1 << 20)["entries"].size(), 4u);
  EXPECT_TRUE(StatePage(Loans(5, 10), 4, 1 << 20)["more"]);
  EXPECT_FALSE(StatePage(Loans(4, 10), 4, 1 << 20)["more"]);  // scanned one more than asked: none
  // One record larger than the bound still comes, alone.
  const nlohmann::json big = StatePage(Loans(2, 1000), 10, 100);
  EXPECT_EQ(big["entries"].size(), 1u);
  EXPECT_TRUE(big["more"]);
  // The node's bound: 10,000 loan records of 120 periods (~7.3 KB) would be ~73 MB in one page.
  const nlohmann::json real = StatePage(Loans(10001, 7300), kStateScanMax, kStatePageBytesMax);
  EXPECT_LT(real["entries"].size(), 2400u);
  EXPECT_TRUE(real["more"]);
}

}  // namespace
}  // namespace colend::node::detail
