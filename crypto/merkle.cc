// RFC 6962 section 2.1 Merkle Tree Hash and audit paths, RFC 9162 section 2.1.3.2 inclusion
// verification, and an append-only accumulator over the same tree.
#include "crypto/merkle.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <string>

namespace colend::crypto {
namespace {

// Largest power of two strictly smaller than n (n >= 2): the RFC 6962 split point k.
std::uint64_t SplitPoint(std::uint64_t n) {
  assert(n >= 2);
  return std::bit_floor(n - 1);
}

void AppendPath(std::span<const Hash256> leaves, std::uint64_t m, std::vector<Hash256>& out) {
  // PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])     for m < k
  //               = PATH(m - k, D[k:n]) : MTH(D[0:k]) for m >= k
  // The recursion appends deepest sibling first, as the RFC orders the path.
  const std::uint64_t n = leaves.size();
  if (n <= 1) return;
  const std::uint64_t k = SplitPoint(n);
  if (m < k) {
    AppendPath(leaves.first(k), m, out);
    out.push_back(MerkleRoot(leaves.subspan(k)));
  } else {
    AppendPath(leaves.subspan(k), m - k, out);
    out.push_back(MerkleRoot(leaves.first(k)));
  }
}

}  // namespace

Hash256 MerkleLeafHash(std::string_view leaf) {
  std::string buf;
  buf.reserve(1 + leaf.size());
  buf.push_back('\x00');
  buf.append(leaf);
  return Sha256(buf);
}

Hash256 MerkleNodeHash(const Hash256& left, const Hash256& right) {
  std::string buf;
  buf.reserve(1 + 2 * left.size());
  buf.push_back('\x01');
  buf.append(AsBytes(left));
  buf.append(AsBytes(right));
  return Sha256(buf);
}

Hash256 MerkleRoot(std::span<const Hash256> leaf_hashes) {
  const std::uint64_t n = leaf_hashes.size();
  if (n == 0) return Sha256("");
  if (n == 1) return leaf_hashes[0];
  const std::uint64_t k = SplitPoint(n);
  return MerkleNodeHash(MerkleRoot(leaf_hashes.first(k)), MerkleRoot(leaf_hashes.subspan(k)));
}

// Out-of-range index: returns an empty path (never a valid proof for such an index).
std::vector<Hash256> MerkleInclusionProof(std::span<const Hash256> leaf_hashes,
                                          std::uint64_t index) {
  std::vector<Hash256> path;
  if (index >= leaf_hashes.size()) return path;
  AppendPath(leaf_hashes, index, path);
  return path;
}

bool VerifyMerkleInclusion(const Hash256& leaf_hash, std::uint64_t index, std::uint64_t tree_size,
                           std::span<const Hash256> proof, const Hash256& root) {
  // RFC 9162 section 2.1.3.2, step by step.
  if (index >= tree_size) return false;
  std::uint64_t fn = index;
  std::uint64_t sn = tree_size - 1;
  Hash256 r = leaf_hash;
  for (const Hash256& p : proof) {
    if (sn == 0) return false;  // path longer than the tree is deep
    if ((fn & 1) == 1 || fn == sn) {
      r = MerkleNodeHash(p, r);
      // fn == sn with LSB clear: skip the levels where this node is the lone right-edge child
      // (it has no sibling there and is carried up unchanged).
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = MerkleNodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

std::vector<MerkleSubtree> MerkleAccumulator::Append(const Hash256& leaf_hash) {
  assert(size_ != UINT64_MAX);
  // Each trailing one bit of size_ is a full subtree of the new leaf's size that now merges.
  std::vector<MerkleSubtree> completed;
  Hash256 h = leaf_hash;
  completed.push_back({0, size_, h});
  int level = 0;
  for (std::uint64_t s = size_; (s & 1) == 1; s >>= 1) {
    h = MerkleNodeHash(peaks_.back(), h);
    peaks_.pop_back();
    ++level;
    completed.push_back({level, size_ >> level, h});
  }
  peaks_.push_back(h);
  ++size_;
  return completed;
}

namespace {

// MTH(D[start : start + n]) from perfect subtrees; RFC 6962 ranges are always aligned so that
// each power-of-two part starts at a multiple of its size.
Result<Hash256> RangeRoot(const MerkleSubtreeFn& subtree, std::uint64_t start, std::uint64_t n) {
  assert(n >= 1);
  if (std::has_single_bit(n)) {
    const int level = std::countr_zero(n);
    assert(start % n == 0);
    return subtree(level, start >> level);
  }
  const std::uint64_t k = SplitPoint(n);
  auto left = RangeRoot(subtree, start, k);
  if (!left.ok()) return left;
  auto right = RangeRoot(subtree, start + k, n - k);
  if (!right.ok()) return right;
  return MerkleNodeHash(*left, *right);
}

}  // namespace

Result<std::vector<Hash256>> MerkleInclusionProofFromSubtrees(const MerkleSubtreeFn& subtree,
                                                              std::uint64_t index,
                                                              std::uint64_t size) {
  if (index >= size) {
    return MakeError("bad-proof-request", "leaf " + std::to_string(index) +
                                              " is not in a tree of " + std::to_string(size));
  }
  // The same recursion as AppendPath, iterated from the root down; siblings are collected root
  // first and reversed at the end (the RFC orders the path leaf first).
  std::vector<Hash256> path;
  std::uint64_t start = 0;
  std::uint64_t n = size;
  std::uint64_t m = index;
  while (n > 1) {
    const std::uint64_t k = SplitPoint(n);
    if (m < k) {
      auto sibling = RangeRoot(subtree, start + k, n - k);
      if (!sibling.ok()) return sibling.error();
      path.push_back(*sibling);
      n = k;
    } else {
      auto sibling = RangeRoot(subtree, start, k);
      if (!sibling.ok()) return sibling.error();
      path.push_back(*sibling);
      start += k;
      m -= k;
      n -= k;
    }
  }
  std::reverse(path.begin(), path.end());
  return path;
}

Hash256 MerkleAccumulator::Root() const {
  // MTH splits at the largest power of two, i.e. the largest peak, and recurses on the rest:
  // a right fold over the peaks.
  if (peaks_.empty()) return Sha256("");
  Hash256 r = peaks_.back();
  for (auto it = peaks_.rbegin() + 1; it != peaks_.rend(); ++it) r = MerkleNodeHash(*it, r);
  return r;
}

std::string MerkleAccumulator::Serialize() const {
  std::string out;
  out.reserve(8 + 32 * peaks_.size());
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((size_ >> shift) & 0xff));
  }
  for (const Hash256& peak : peaks_) out.append(AsBytes(peak));
  return out;
}

Result<MerkleAccumulator> MerkleAccumulator::Parse(std::string_view bytes) {
  if (bytes.size() < 8) {
    return MakeError("bad-accumulator", "accumulator shorter than its 8-byte size");
  }
  std::uint64_t size = 0;
  for (int i = 0; i < 8; ++i) size = (size << 8) | static_cast<unsigned char>(bytes[i]);
  const std::size_t peaks = static_cast<std::size_t>(std::popcount(size));
  if (bytes.size() != 8 + 32 * peaks) {
    return MakeError("bad-accumulator", "accumulator of size " + std::to_string(size) + " needs " +
                                            std::to_string(peaks) + " subtree roots (" +
                                            std::to_string(8 + 32 * peaks) + " bytes), got " +
                                            std::to_string(bytes.size()) + " bytes");
  }
  MerkleAccumulator acc;
  acc.size_ = size;
  acc.peaks_.resize(peaks);
  for (std::size_t i = 0; i < peaks; ++i) {
    const std::string_view chunk = bytes.substr(8 + 32 * i, 32);
    std::copy(chunk.begin(), chunk.end(), acc.peaks_[i].begin());
  }
  return acc;
}

}  // namespace colend::crypto
