// State-root benchmark: the cost of the root after one block's writes, for the bucketed state
// commitment (contracts/state.h: 65536 buckets under a perfect top tree) against the flat RFC 6962
// root over every entry that colend used before, at growing state sizes, measured in one run.
//
//   build/bin/state_root_bench [--blocks B] [--writes W] [--sizes N1,N2,...]
//
// Prints per size: milliseconds per block for each and the ratio flat / bucketed. Both roots are
// computed from the same entries; the flat one rebuilds the leaf list and the whole tree, as
// StateTree::RootAfter did before the buckets.
#include <map>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "contracts/state.h"
#include "crypto/merkle.h"

namespace {

using colend::contracts::StateTree;
using colend::contracts::StateWrites;
using Clock = std::chrono::steady_clock;

std::string Key(std::uint64_t i) { return "tx/" + std::to_string(i * 2654435761u % 1000003u) + "/" + std::to_string(i); }

// The flat definition: leaves of every entry after `writes`, in key order, one RFC 6962 tree.
// `entries`: every key's leaf hash, kept by the benchmark as a flat tree would keep them.
using Leaves = std::map<std::string, colend::crypto::Hash256>;
colend::crypto::Hash256 FlatRootAfter(const Leaves& entries, const StateWrites& writes) {
  std::vector<colend::crypto::Hash256> leaves;
  leaves.reserve(entries.size() + writes.size());
  auto e = entries.begin();
  auto w = writes.begin();
  while (e != entries.end() || w != writes.end()) {
    if (w == writes.end() || (e != entries.end() && e->first < w->first)) {
      leaves.push_back(e->second);
      ++e;
      continue;
    }
    if (e != entries.end() && e->first == w->first) ++e;
    if (w->second) leaves.push_back(StateTree::LeafHash(w->first, *w->second));
    ++w;
  }
  return colend::crypto::MerkleRoot(leaves);
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  int blocks = 100, writes_per_block = 20;
  std::vector<std::size_t> sizes = {10000, 50000, 200000};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--blocks") {
      blocks = std::atoi(argv[i + 1]);
    } else if (arg == "--writes") {
      writes_per_block = std::atoi(argv[i + 1]);
    } else if (arg == "--sizes") {
      sizes.clear();
      for (char* p = argv[i + 1]; *p;) {
        sizes.push_back(std::strtoull(p, &p, 10));
        if (*p == ',') ++p;
      }
    } else {
      std::fprintf(stderr, "usage: state_root_bench [--blocks B] [--writes W] [--sizes N1,N2]\n");
      return 2;
    }
  }
  if (blocks <= 0 || writes_per_block <= 0 || sizes.empty()) {
    std::fprintf(stderr, "state_root_bench: --blocks and --writes must be positive\n");
    return 2;
  }
  std::printf("state root after a block of %d writes (%d blocks per size)\n", writes_per_block, blocks);
  std::printf("%10s %16s %16s %8s\n", "entries", "flat ms/block", "bucketed ms/block", "ratio");
  std::mt19937_64 rng(1);
  const std::string value(300, 'v');
  for (std::size_t n : sizes) {
    StateTree tree;
    StateWrites initial;
    for (std::size_t i = 0; i < n; ++i) initial[Key(i)] = value + std::to_string(i);
    tree.Apply(initial);
    Leaves flat_leaves;
    auto apply_flat = [&flat_leaves](const StateWrites& w) {
      for (const auto& [key, v] : w) flat_leaves[key] = StateTree::LeafHash(key, *v);
    };
    apply_flat(initial);
    Clock::duration flat{}, bucketed{};
    std::uint64_t next = n;
    for (int b = 0; b < blocks; ++b) {
      StateWrites writes;
      for (int w = 0; w < writes_per_block; ++w) {
        // New receipts and updates of existing records, as a block of transactions does.
        if (w % 2 == 0) {
          writes[Key(next++)] = value;
        } else {
          writes[Key(rng() % next)] = value + std::to_string(b);
        }
      }
      auto t0 = Clock::now();
      const auto flat_root = FlatRootAfter(flat_leaves, writes);
      auto t1 = Clock::now();
      const auto root = tree.RootAfter(writes);
      auto t2 = Clock::now();
      flat += t1 - t0;
      bucketed += t2 - t1;
      if (flat_root == root) {
        std::fprintf(stderr, "state_root_bench: the two definitions agree by accident\n");
        return 1;
      }
      tree.Apply(writes);
      apply_flat(writes);
      if (tree.Root() != root) {
        std::fprintf(stderr, "state_root_bench: RootAfter differs from Apply + Root\n");
        return 1;
      }
    }
    const double f = Ms(flat) / blocks, k = Ms(bucketed) / blocks;
    std::printf("%10zu %16.3f %16.3f %7.1fx\n", flat_leaves.size(), f, k, f / k);
  }
  return 0;
}
