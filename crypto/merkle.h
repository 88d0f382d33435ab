// Merkle trees exactly as RFC 6962 section 2.1 (Certificate Transparency): leaf hash
// SHA-256(0x00 || leaf), inner node SHA-256(0x01 || left || right), the empty tree hashes to
// SHA-256(""), and the split point is the largest power of two smaller than n.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/hash.h"
#include "crypto/result.h"

namespace colend::crypto {

Hash256 MerkleLeafHash(std::string_view leaf);
Hash256 MerkleNodeHash(const Hash256& left, const Hash256& right);
Hash256 MerkleRoot(std::span<const Hash256> leaf_hashes);
// RFC 6962 PATH(m, D[n]); requires index < leaf_hashes.size().
std::vector<Hash256> MerkleInclusionProof(std::span<const Hash256> leaf_hashes, std::uint64_t index);
bool VerifyMerkleInclusion(const Hash256& leaf_hash, std::uint64_t index, std::uint64_t tree_size,
                           std::span<const Hash256> proof, const Hash256& root);

// A perfect subtree of 2^level leaves starting at leaf index << level: how a growing tree's
// inner nodes are stored so that audit paths cost O(log^2 n) reads instead of every leaf.
struct MerkleSubtree {
  int level = 0;
  std::uint64_t index = 0;
  Hash256 hash{};
};

// RFC 6962 PATH(index, D[size]) computed from perfect subtree roots: `subtree(level, index)`
// returns the root of leaves [index << level, (index + 1) << level), which must be complete.
// Error when index >= size or when `subtree` fails.
using MerkleSubtreeFn = std::function<Result<Hash256>(int level, std::uint64_t index)>;
Result<std::vector<Hash256>> MerkleInclusionProofFromSubtrees(const MerkleSubtreeFn& subtree,
                                                              std::uint64_t index,
                                                              std::uint64_t size);

// Append-only accumulator: the right-edge subtree roots of a growing tree, O(log n) state,
// Root() equal to MerkleRoot over every appended leaf hash. Used for the ledger root over all
// earlier block headers.
class MerkleAccumulator {
 public:
  // Returns the perfect subtrees the new leaf completes: the leaf itself (level 0) and every
  // subtree it closes, smallest first.
  std::vector<MerkleSubtree> Append(const Hash256& leaf_hash);
  Hash256 Root() const;
  std::uint64_t size() const { return size_; }
  // Stable binary encoding: 8-byte big-endian size, then the subtree roots, largest first.
  std::string Serialize() const;
  static Result<MerkleAccumulator> Parse(std::string_view bytes);

 private:
  std::uint64_t size_ = 0;
  std::vector<Hash256> peaks_;  // one per set bit of size_, largest subtree first
};

}  // namespace colend::crypto
