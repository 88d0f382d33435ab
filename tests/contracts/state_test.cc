// Proves that the state root depends on content only (not on write order), that overlays read
// through to their base, and that RootAfter predicts the root Apply produces.
#include <gtest/gtest.h>

#include <random>

#include "contracts/state.h"
#include "crypto/merkle.h"

namespace colend::contracts {
namespace {

TEST(StateTree, EmptyRootIsEmptyMerkleTree) {
  StateTree tree;
  EXPECT_EQ(crypto::ToHex(tree.Root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(StateTree, RootIndependentOfWriteOrder) {
  StateTree a, b;
  a.Apply({{"k1", "v1"}});
  a.Apply({{"k2", "v2"}});
  b.Apply({{"k2", "v2"}, {"k1", "v1"}});
  EXPECT_EQ(a.Root(), b.Root());
  b.Apply({{"k2", "changed"}});
  EXPECT_NE(a.Root(), b.Root());
  b.Apply({{"k2", "v2"}});
  EXPECT_EQ(a.Root(), b.Root());
}

TEST(StateTree, LeafEncodingSeparatesKeyFromValue) {
  // "ab"="c" and "a"="bc" must not collide.
  EXPECT_NE(StateTree::LeafHash("ab", "c"), StateTree::LeafHash("a", "bc"));
}

TEST(StateTree, RootAfterMatchesApplyOnRandomWrites) {
  std::mt19937 rng(42);
  StateTree tree;
  for (int round = 0; round < 50; ++round) {
    StateWrites writes;
    for (int i = 0; i < 20; ++i) {
      std::string key = "k" + std::to_string(rng() % 60);
      if (rng() % 4 == 0) {
        writes[key] = std::nullopt;
      } else {
        writes[key] = std::to_string(rng());
      }
    }
    crypto::Hash256 predicted = tree.RootAfter(writes);
    tree.Apply(writes);
    ASSERT_EQ(predicted, tree.Root()) << "round " << round;
  }
}

TEST(StateOverlay, ReadsThroughAndErases) {
  StateTree base;
  base.Apply({{"a", "1"}, {"b", "2"}});
  StateOverlay overlay(&base);
  overlay.Put("a", "10");
  overlay.Erase("b");
  EXPECT_EQ(overlay.Get("a"), "10");
  EXPECT_EQ(overlay.Get("b"), std::nullopt);
  EXPECT_EQ(base.Get("b"), "2");  // the base is untouched until applied
  StateOverlay child(&overlay);
  child.Put("c", "3");
  EXPECT_EQ(child.Get("a"), "10");
  overlay.Absorb(child);
  EXPECT_EQ(overlay.Get("c"), "3");
}

}  // namespace
}  // namespace colend::contracts
