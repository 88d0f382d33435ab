// The state storage's cache (node/lru_cache.h): bounded in bytes, least recently used out first,
// found by a string_view without a copy.
#include "node/lru_cache.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace colend::node {
namespace {

TEST(LruCache, EvictsTheLeastRecentlyUsedBeyondItsBytes) {
  LruCache<std::string, int> cache(30);
  cache.Put("a", 1, 10);
  cache.Put("b", 2, 10);
  cache.Put("c", 3, 10);
  ASSERT_NE(cache.Find(std::string_view("a")), nullptr);  // "a" is now the most recent
  cache.Put("d", 4, 10);                                   // 40 bytes: "b" goes, not "a"
  EXPECT_EQ(cache.Find(std::string_view("b")), nullptr);
  ASSERT_NE(cache.Find(std::string_view("a")), nullptr);
  EXPECT_EQ(*cache.Find(std::string_view("a")), 1);
  EXPECT_EQ(*cache.Find(std::string_view("c")), 3);
  EXPECT_EQ(*cache.Find(std::string_view("d")), 4);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.bytes(), 30u);
  // A larger entry evicts as many as it needs, oldest first ("a", then "c").
  cache.Put("e", 5, 20);
  EXPECT_EQ(cache.Find(std::string_view("a")), nullptr);
  EXPECT_EQ(cache.Find(std::string_view("c")), nullptr);
  EXPECT_NE(cache.Find(std::string_view("d")), nullptr);
  EXPECT_NE(cache.Find(std::string_view("e")), nullptr);
  EXPECT_EQ(cache.bytes(), 30u);
}

TEST(LruCache, ReplacingAKeyCountsItsNewCostOnceAndAnOversizedEntryIsNotKept) {
  LruCache<std::uint32_t, std::string> cache(100);
  cache.Put(7, "x", 40);
  cache.Put(7, "y", 60);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.bytes(), 60u);
  EXPECT_EQ(*cache.Find(7u), "y");
  cache.Put(9, "too big", 101);  // larger than the whole cache: not kept, nothing evicted
  EXPECT_EQ(cache.Find(9u), nullptr);
  EXPECT_EQ(*cache.Find(7u), "y");
  cache.Put(7, "z", 101);  // replacing with an oversized value drops the old one
  EXPECT_EQ(cache.Find(7u), nullptr);
  EXPECT_EQ(cache.bytes(), 0u);
  cache.Put(1, "one", 50);
  cache.Erase(1u);
  EXPECT_EQ(cache.Find(1u), nullptr);
  EXPECT_EQ(cache.bytes(), 0u);
  cache.Put(2, "two", 50);
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(LruCache, ManyKeysKeepTheMostRecentWithinTheLimit) {
  // The state storage's use on a smaller scale: thousands of keys, each looked up after others.
  LruCache<std::string, std::uint64_t> cache(1000 * 8);
  for (std::uint64_t i = 0; i < 5000; ++i) cache.Put("tx/" + std::to_string(i), i, 8);
  EXPECT_EQ(cache.size(), 1000u);
  for (std::uint64_t i = 0; i < 4000; ++i) {
    ASSERT_EQ(cache.Find(std::string_view("tx/" + std::to_string(i))), nullptr) << i;
  }
  for (std::uint64_t i = 4000; i < 5000; ++i) {
    const auto* found = cache.Find(std::string_view("tx/" + std::to_string(i)));
    ASSERT_NE(found, nullptr) << i;
    EXPECT_EQ(*found, i);
  }
}

}  // namespace
}  // namespace colend::node
