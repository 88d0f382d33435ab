// Proves that the state root depends on content only (not on write order), that overlays read
// through to their base, that RootAfter predicts the root Apply produces, and that hashes
// prepared for a block are installed only on the state they were computed on.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "contracts/state.h"
#include "crypto/merkle.h"

namespace colend::contracts {
namespace {

// The state root computed here from its definition (state.h), with nothing but RFC 6962 roots:
// entries grouped by the first two bytes of SHA-256(key) (65536 buckets), each bucket's root over
// its entries in key order, then the root over the 65536 bucket roots taken as leaf data.
crypto::Hash256 RootByDefinition(const std::map<std::string, std::string>& entries) {
  std::vector<std::vector<crypto::Hash256>> buckets(kStateBuckets);
  for (const auto& [key, value] : entries) {  // std::map: key order
    const crypto::Hash256 h = crypto::Sha256(key);
    const std::size_t bucket = (static_cast<std::size_t>(h[0]) << 8) | h[1];
    buckets[bucket].push_back(StateTree::LeafHash(key, value));
  }
  std::vector<crypto::Hash256> top;
  for (const auto& leaves : buckets) {
    const crypto::Hash256 root = crypto::MerkleRoot(leaves);
    top.push_back(crypto::MerkleLeafHash(std::string(root.begin(), root.end())));
  }
  return crypto::MerkleRoot(top);
}

// `count` writes to keys prefix + 0..keys-1; one in `erase_one_in` erases its key.
StateWrites RandomWrites(std::mt19937& rng, int count, const std::string& prefix, unsigned keys,
                         unsigned erase_one_in) {
  StateWrites writes;
  for (int i = 0; i < count; ++i) {
    std::string key = prefix + std::to_string(rng() % keys);
    if (rng() % erase_one_in == 0) {
      writes[key] = std::nullopt;
    } else {
      writes[key] = std::to_string(rng());
    }
  }
  return writes;
}

TEST(StateTree, EmptyRootIsTheRootOverEmptyBuckets) {
  StateTree tree;
  EXPECT_EQ(tree.Root(), RootByDefinition({}));
  EXPECT_NE(tree.Root(), crypto::MerkleRoot({}));
  EXPECT_EQ(tree.BucketRoot(0), crypto::MerkleRoot({}));
}

TEST(StateTree, RootFollowsItsDefinitionAsEntriesComeAndGo) {
  std::mt19937 rng(7);
  StateTree tree;
  std::map<std::string, std::string> model;
  for (int round = 0; round < 30; ++round) {
    StateWrites writes;
    for (int i = 0; i < 200; ++i) {
      std::string key = "loan/" + std::to_string(rng() % 3000);
      if (rng() % 5 == 0) {
        writes[key] = std::nullopt;
        model.erase(key);
      } else {
        writes[key] = std::to_string(rng());
        model[key] = *writes[key];
      }
    }
    tree.Apply(writes);
    ASSERT_EQ(tree.Root(), RootByDefinition(model)) << "round " << round;
  }
  EXPECT_GT(model.size(), 1000u);  // many entries per bucket on average would be no test
  // Two keys in one bucket: the bucket root is the RFC 6962 root over both, in key order.
  const std::uint32_t bucket = StateBucket(model.begin()->first);
  std::vector<crypto::Hash256> leaves;
  for (const auto& [key, value] : model) {
    if (StateBucket(key) == bucket) leaves.push_back(StateTree::LeafHash(key, value));
  }
  EXPECT_EQ(tree.BucketRoot(bucket), crypto::MerkleRoot(leaves));
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
    const StateWrites writes = RandomWrites(rng, 20, "k", 60, 4);
    crypto::Hash256 predicted = tree.RootAfter(writes);
    tree.Apply(writes);
    ASSERT_EQ(predicted, tree.Root()) << "round " << round;
  }
}

// A block's hashes are prepared when it is executed and installed when it commits. Two blocks
// prepared on the same state (two proposals at one height, or a block and the next one executed
// early): the second commits on a state the first changed, so its prepared hashes are stale and
// must not be installed; the root, the entries and each bucket follow the definition.
TEST(StateTree, PreparedHashesApplyOnlyToTheStateTheyWereComputedOn) {
  std::mt19937 rng(3);
  StateTree tree;
  std::map<std::string, std::string> model;
  auto random_writes = [&] { return RandomWrites(rng, 100, "loan/", 500, 5); };
  auto apply_to_model = [&](const StateWrites& writes) {
    for (const auto& [key, value] : writes) {
      if (value) {
        model[key] = *value;
      } else {
        model.erase(key);
      }
    }
  };
  for (int round = 0; round < 20; ++round) {
    const StateWrites first = random_writes(), second = random_writes();
    const StateTree::Prepared p1 = tree.Prepare(first), p2 = tree.Prepare(second);
    tree.Apply(first, p1);
    apply_to_model(first);
    ASSERT_EQ(tree.Root(), p1.root);
    ASSERT_EQ(tree.Root(), RootByDefinition(model)) << "round " << round;
    tree.Apply(second, p2);  // prepared before `first` changed the state
    apply_to_model(second);
    ASSERT_EQ(tree.Root(), RootByDefinition(model)) << "round " << round << ": stale hashes installed";
    ASSERT_EQ(tree.Scan("", ~std::size_t{0}).size(), model.size());
    for (const auto& [key, value] : model) ASSERT_EQ(tree.Get(key), value);
    const std::string& some = model.begin()->first;
    std::vector<crypto::Hash256> leaves;
    for (const auto& [key, value] : model) {
      if (StateBucket(key) == StateBucket(some)) leaves.push_back(StateTree::LeafHash(key, value));
    }
    ASSERT_EQ(tree.BucketRoot(StateBucket(some)), crypto::MerkleRoot(leaves));
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

// An entry's proof, folded here with RFC 9162 verification and the bucket index alone, leads to
// the state root for every key; it fails for another value, another key or a changed sibling.
TEST(StateTree, ProofOfEveryEntryLeadsToTheRoot) {
  std::mt19937 rng(11);
  StateTree tree;
  StateWrites writes;
  for (int i = 0; i < 9000; ++i) writes["k/" + std::to_string(rng() % 20000)] = std::to_string(i);
  tree.Apply(writes);
  auto root_of = [](const StateProof& p, const std::string& key, const std::string& value) {
    crypto::Hash256 bucket_root{};
    // Fold the bucket path up to the bucket root (RFC 9162 2.1.3.2), then the top path.
    std::uint64_t fn = p.index, sn = p.size - 1;
    crypto::Hash256 r = StateTree::LeafHash(key, value);
    for (const auto& s : p.path) {
      if ((fn & 1) || fn == sn) {
        r = crypto::MerkleNodeHash(s, r);
        while (!(fn & 1) && fn) fn >>= 1, sn >>= 1;
      } else {
        r = crypto::MerkleNodeHash(r, s);
      }
      fn >>= 1, sn >>= 1;
    }
    bucket_root = r;
    r = crypto::MerkleLeafHash(std::string(bucket_root.begin(), bucket_root.end()));
    std::uint32_t i = p.bucket;
    for (const auto& s : p.top) {
      r = (i & 1) ? crypto::MerkleNodeHash(s, r) : crypto::MerkleNodeHash(r, s);
      i >>= 1;
    }
    return r;
  };
  int checked = 0;
  for (const auto& [key, value] : writes) {
    if (++checked % 7) continue;
    auto proof = tree.Prove(key);
    ASSERT_TRUE(proof.has_value()) << key;
    EXPECT_EQ(proof->bucket, StateBucket(key));
    EXPECT_EQ(proof->top.size(), 16u);
    EXPECT_EQ(root_of(*proof, key, *value), tree.Root()) << key;
    EXPECT_NE(root_of(*proof, key, *value + "x"), tree.Root());
    StateProof bent = *proof;
    if (!bent.path.empty()) {
      bent.path[0][0] ^= 1;
      EXPECT_NE(root_of(bent, key, *value), tree.Root());
    }
  }
  EXPECT_FALSE(tree.Prove("absent").has_value());
  EXPECT_TRUE(tree.Prove("k/1").has_value() || !tree.Get("k/1"));
}

}  // namespace
}  // namespace colend::contracts
