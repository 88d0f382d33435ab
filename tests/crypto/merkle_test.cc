// Proves crypto/merkle.h implements RFC 6962 section 2.1: the Certificate Transparency reference
// roots and audit paths for its 8 test leaves; RFC 9162 inclusion verification accepts every
// honest proof of random trees (sizes 1..70) and rejects a wrong index, sibling, size, length
// or an inner node presented as a leaf; the accumulator's root equals MerkleRoot for every size
// 0..300 and its encoding round-trips and rejects inconsistent input.
#include "crypto/merkle.h"

#include <gtest/gtest.h>

#include <map>

#include <random>

namespace colend::crypto {
namespace {

Hash256 H(std::string_view hex) {
  Result<Hash256> h = Hash256FromHex(hex);
  EXPECT_TRUE(h.ok()) << hex;
  return h.ok() ? *h : Hash256{};
}

// The leaves of the CT reference tests (google/certificate-transparency merkle_tree_test.cc,
// kInputs; roots kSHA256Roots, paths kSHA256Paths).
std::vector<Hash256> CtLeafHashes() {
  const std::string leaves[] = {
      "",
      std::string("\x00", 1),
      "\x10",
      "\x20\x21",
      "\x30\x31",
      "\x40\x41\x42\x43",
      "\x50\x51\x52\x53\x54\x55\x56\x57",
      "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
  };
  std::vector<Hash256> out;
  for (const std::string& leaf : leaves) out.push_back(MerkleLeafHash(leaf));
  return out;
}

TEST(MerkleTest, EmptyTreeAndLeafPrefix) {
  EXPECT_EQ(ToHex(MerkleRoot({})),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(MerkleLeafHash("abc"), Sha256(std::string("\x00", 1) + "abc"));
  const Hash256 a = Sha256("a");
  const Hash256 b = Sha256("b");
  EXPECT_EQ(MerkleNodeHash(a, b),
            Sha256(std::string("\x01", 1) + std::string(AsBytes(a)) + std::string(AsBytes(b))));
}

TEST(MerkleTest, CtReferenceRoots) {
  const char* const kRoots[] = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  };
  const std::vector<Hash256> leaves = CtLeafHashes();
  for (std::size_t n = 1; n <= 8; ++n) {
    EXPECT_EQ(ToHex(MerkleRoot(std::span(leaves).first(n))), kRoots[n - 1]) << "size " << n;
  }
}

TEST(MerkleTest, CtReferenceInclusionProofs) {
  struct Case {
    std::uint64_t index;  // 0-based (the CT test lists them 1-based)
    std::uint64_t size;
    std::vector<const char*> path;
  };
  const Case kCases[] = {
      {0, 1, {}},
      {0,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {5,
       8,
       {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
      {1,
       5,
       {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  const std::vector<Hash256> leaves = CtLeafHashes();
  for (const Case& c : kCases) {
    const auto tree = std::span(leaves).first(c.size);
    std::vector<Hash256> expected;
    for (const char* hex : c.path) expected.push_back(H(hex));
    EXPECT_EQ(MerkleInclusionProof(tree, c.index), expected) << c.index << "/" << c.size;
    EXPECT_TRUE(
        VerifyMerkleInclusion(leaves[c.index], c.index, c.size, expected, MerkleRoot(tree)));
  }
}

std::vector<Hash256> RandomLeaves(std::size_t n, std::mt19937_64& rng) {
  std::vector<Hash256> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(MerkleLeafHash(std::to_string(rng())));
  return out;
}

TEST(MerkleTest, RandomTreesProofsVerifyAndCorruptionsFail) {
  std::mt19937_64 rng(6962);
  for (std::uint64_t n = 1; n <= 70; ++n) {
    const std::vector<Hash256> leaves = RandomLeaves(n, rng);
    const Hash256 root = MerkleRoot(leaves);
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::vector<Hash256> proof = MerkleInclusionProof(leaves, i);
      ASSERT_TRUE(VerifyMerkleInclusion(leaves[i], i, n, proof, root)) << i << "/" << n;
      // Wrong index and wrong leaf.
      if (n > 1) {
        EXPECT_FALSE(VerifyMerkleInclusion(leaves[i], (i + 1) % n, n, proof, root));
        EXPECT_FALSE(VerifyMerkleInclusion(leaves[i], (i + n - 1) % n, n, proof, root));
        EXPECT_FALSE(VerifyMerkleInclusion(leaves[(i + 1) % n], i, n, proof, root));
      }
      EXPECT_FALSE(VerifyMerkleInclusion(leaves[i], i ^ 2, n, proof, root));
      EXPECT_FALSE(VerifyMerkleInclusion(leaves[i], n, n, proof, root));  // index == size
      // Wrong tree height (as the Trillian verifier tests do).
      EXPECT_FALSE(VerifyMerkleInclusion(leaves[i], i, 2 * n, proof, root));
      EXPECT_FALSE(VerifyMerkleInclusion(leaves[i], i, n / 2, proof, root));
      // Each sibling corrupted in turn, one dropped, one extra.
      for (std::size_t k = 0; k < proof.size(); ++k) {
        std::vector<Hash256> bad = proof;
        bad[k][0] ^= 0x01;
        EXPECT_FALSE(VerifyMerkleInclusion(leaves[i], i, n, bad, root));
      }
      if (!proof.empty()) {
        std::vector<Hash256> shorter(proof.begin(), proof.end() - 1);
        EXPECT_FALSE(VerifyMerkleInclusion(leaves[i], i, n, shorter, root));
      }
      std::vector<Hash256> longer = proof;
      longer.push_back(root);
      EXPECT_FALSE(VerifyMerkleInclusion(leaves[i], i, n, longer, root));
      std::vector<Hash256> prefixed = {root};
      prefixed.insert(prefixed.end(), proof.begin(), proof.end());
      EXPECT_FALSE(VerifyMerkleInclusion(leaves[i], i, n, prefixed, root));
      Hash256 other_root = root;
      other_root[31] ^= 0x80;
      EXPECT_FALSE(VerifyMerkleInclusion(leaves[i], i, n, proof, other_root));
    }
    EXPECT_TRUE(MerkleInclusionProof(leaves, n).empty());  // out of range
  }
}

TEST(MerkleTest, InnerNodeIsNotALeaf) {
  // In a 4-leaf tree, node (0,1) with sibling (2,3) hashes to the root. Presenting the inner
  // node's preimage as leaf data of a 2-leaf tree must fail: leaves are hashed with prefix 0x00.
  std::mt19937_64 rng(1);
  const std::vector<Hash256> leaves = RandomLeaves(4, rng);
  const Hash256 n01 = MerkleNodeHash(leaves[0], leaves[1]);
  const Hash256 n23 = MerkleNodeHash(leaves[2], leaves[3]);
  const Hash256 root = MerkleRoot(leaves);
  const std::vector<Hash256> proof = {n23};
  ASSERT_TRUE(VerifyMerkleInclusion(n01, 0, 2, proof, root));  // raw node hash: that is the node
  const std::string preimage = std::string(AsBytes(leaves[0])) + std::string(AsBytes(leaves[1]));
  EXPECT_FALSE(VerifyMerkleInclusion(MerkleLeafHash(preimage), 0, 2, proof, root));
  EXPECT_FALSE(VerifyMerkleInclusion(n01, 0, 4, MerkleInclusionProof(leaves, 0), root));
}

TEST(MerkleTest, AccumulatorMatchesMerkleRoot) {
  std::mt19937_64 rng(42);
  const std::vector<Hash256> leaves = RandomLeaves(300, rng);
  MerkleAccumulator acc;
  EXPECT_EQ(acc.Root(), MerkleRoot({}));
  for (std::size_t n = 0; n <= 300; ++n) {
    ASSERT_EQ(acc.size(), n);
    ASSERT_EQ(acc.Root(), MerkleRoot(std::span(leaves).first(n))) << "size " << n;
    const std::string bytes = acc.Serialize();
    ASSERT_EQ(bytes.size(), 8 + 32 * static_cast<std::size_t>(std::popcount(n)));
    Result<MerkleAccumulator> back = MerkleAccumulator::Parse(bytes);
    ASSERT_TRUE(back.ok()) << back.error().ToString();
    EXPECT_EQ(back->size(), n);
    EXPECT_EQ(back->Serialize(), bytes);
    if (n < 300) {
      back->Append(leaves[n]);
      acc.Append(leaves[n]);
      EXPECT_EQ(back->Root(), acc.Root());
    }
  }
}

TEST(MerkleTest, AccumulatorParseRejectsInconsistentInput) {
  MerkleAccumulator acc;
  for (int i = 0; i < 11; ++i) acc.Append(MerkleLeafHash(std::to_string(i)));  // 3 peaks
  const std::string bytes = acc.Serialize();
  ASSERT_EQ(bytes.size(), 8u + 3 * 32);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\0\0\0\0\0\0\0\x0b", 8));
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_FALSE(MerkleAccumulator::Parse(bytes.substr(0, len)).ok()) << "truncated to " << len;
  }
  EXPECT_EQ(MerkleAccumulator::Parse(bytes + "x").error().code, "bad-accumulator");
  std::string wrong_size = bytes;
  wrong_size[7] = 12;  // popcount 2, but 3 roots follow
  EXPECT_FALSE(MerkleAccumulator::Parse(wrong_size).ok());
  EXPECT_TRUE(MerkleAccumulator::Parse(std::string(8, '\0')).ok());     // the empty accumulator
  EXPECT_FALSE(MerkleAccumulator::Parse(std::string(8, '\xff')).ok());  // 2^64-1 needs 64 roots
}

// The subtrees Append reports are exactly the perfect subtrees of the tree (checked against
// MerkleRoot over their leaves), and audit paths built from them alone equal RFC 6962 PATH for
// every index of every size up to 70: the store keeps only these, so ledger proofs never read
// every header.
TEST(MerkleTest, AuditPathsFromStoredSubtreesEqualRfcPaths) {
  std::vector<Hash256> leaves;
  std::map<std::pair<int, std::uint64_t>, Hash256> stored;
  MerkleAccumulator acc;
  for (std::uint64_t n = 1; n <= 70; ++n) {
    leaves.push_back(MerkleLeafHash("header " + std::to_string(n)));
    for (const MerkleSubtree& t : acc.Append(leaves.back())) {
      const std::uint64_t width = std::uint64_t{1} << t.level;
      ASSERT_EQ(t.hash, MerkleRoot(std::span(leaves).subspan(t.index * width, width)))
          << "level " << t.level << " index " << t.index;
      ASSERT_TRUE(stored.emplace(std::make_pair(t.level, t.index), t.hash).second);
    }
    auto lookup = [&](int level, std::uint64_t index) -> Result<Hash256> {
      auto it = stored.find({level, index});
      if (it == stored.end()) return MakeError("missing", "no subtree");
      return it->second;
    };
    for (std::uint64_t i = 0; i < n; ++i) {
      auto path = MerkleInclusionProofFromSubtrees(lookup, i, n);
      ASSERT_TRUE(path.ok()) << path.error().ToString();
      EXPECT_EQ(*path, MerkleInclusionProof(leaves, i)) << "size " << n << " index " << i;
      EXPECT_TRUE(VerifyMerkleInclusion(leaves[i], i, n, *path, MerkleRoot(leaves)));
    }
    EXPECT_FALSE(MerkleInclusionProofFromSubtrees(lookup, n, n).ok());
  }
  // A missing subtree is an error, never a wrong path.
  auto empty = [](int, std::uint64_t) -> Result<Hash256> { return MakeError("missing", "none"); };
  EXPECT_FALSE(MerkleInclusionProofFromSubtrees(empty, 3, 10).ok());
}

}  // namespace
}  // namespace colend::crypto
