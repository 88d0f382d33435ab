// Proves the replica's safety and liveness as a cluster, over the deterministic test network
// (real keys, fake ledger, manual clock; see test_network.h). Safety: at every height every
// replica that commits commits the same block, with a certificate VerifyCommitCertificate
// accepts; no member ever signs two different votes (or proposals) for one slot, also when it is
// destroyed and re-created from its persisted state mid-height, and also with messages dropped,
// duplicated and reordered (50 seeds). Liveness: with a quorum running the chain keeps growing
// (crashed followers, a silent proposer -> view change, n = 1, 4, 5, 7 in both quorum modes);
// without a quorum it halts, and it resumes when a member returns.
#include <gtest/gtest.h>

#include <iostream>
#include <random>
#include <string>

#include "test_network.h"

namespace colend::consensus::testing {
namespace {

void ExpectSafe(const Network& net) {
  for (const std::string& v : net.violations()) ADD_FAILURE() << v;
  for (const std::string& c : net.sign_log().conflicts()) ADD_FAILURE() << "double signing: " << c;
  EXPECT_EQ(net.equivocations_reported(), 0u) << "honest members reported as equivocating";
}

// Every running node's chain is the same up to `height`.
void ExpectIdenticalChains(const Network& net, std::uint64_t height) {
  const Ledger* reference = nullptr;
  for (const std::string& id : net.ids()) {
    if (!net.running(id)) continue;
    if (reference == nullptr) reference = &net.ledger(id);
    const Ledger& ledger = net.ledger(id);
    ASSERT_GE(ledger.next_height(), height + 1) << id;
    for (std::uint64_t h = 1; h <= height; ++h) {
      EXPECT_EQ(ledger.blocks[h].header(), reference->blocks[h].header()) << id << " height " << h;
      EXPECT_EQ(ledger.blocks[h].txs_size(), reference->blocks[h].txs_size());
    }
  }
}

TEST(ReplicaNetworkTest, FiveMembersMajorityCommitTwentyHeights) {
  Network net({.members = 5});
  net.StartAll();
  ASSERT_TRUE(net.RunUntilHeight(20, 60'000));
  ExpectSafe(net);
  ExpectIdenticalChains(net, 20);
  for (std::uint64_t h = 1; h <= 20; ++h) {
    EXPECT_EQ(net.Certificate(h).round(), 0u) << "no faults: every height commits in round 0";
    EXPECT_GE(net.Certificate(h).endorsements_size(), 3);
  }
}

TEST(ReplicaNetworkTest, MemberCountSweepBothRules) {
  for (std::size_t n : {1, 4, 5, 7}) {
    for (QuorumRule rule : {QuorumRule::kMajority, QuorumRule::kTwoThirds}) {
      SCOPED_TRACE("n=" + std::to_string(n) + " " + std::string(QuorumRuleName(rule)));
      Network net({.members = n, .rule = rule});
      net.StartAll();
      ASSERT_TRUE(net.RunUntilHeight(6, 60'000));
      ExpectSafe(net);
      ExpectIdenticalChains(net, 6);
    }
  }
}

TEST(ReplicaNetworkTest, TwoOfFiveCrashedMajorityKeepsCommitting) {
  Network net({.members = 5});
  net.Crash(net.MemberAt(1));
  net.Crash(net.MemberAt(3));
  net.StartAll();
  ASSERT_TRUE(net.RunUntilHeight(10, 600'000));
  ExpectSafe(net);
  ExpectIdenticalChains(net, 10);
  for (std::uint64_t h = 1; h <= 10; ++h) EXPECT_EQ(net.Certificate(h).endorsements_size(), 3);
}

TEST(ReplicaNetworkTest, FollowersCrashMidRunThenCatchUp) {
  Network net({.members = 5});
  net.StartAll();
  ASSERT_TRUE(net.RunUntilHeight(3, 60'000));
  net.Crash(net.MemberAt(0));
  net.Crash(net.MemberAt(4));
  ASSERT_TRUE(net.RunUntilHeight(8, 600'000));
  net.Restart(net.MemberAt(0));
  net.Restart(net.MemberAt(4));
  ASSERT_TRUE(net.RunUntilHeight(12, 600'000));
  ExpectSafe(net);
  ExpectIdenticalChains(net, 12);
}

TEST(ReplicaNetworkTest, ThreeOfFiveSilentHaltsThenResumes) {
  Network net({.members = 5});
  for (std::size_t i : {0, 2, 4}) net.Crash(net.MemberAt(i));
  net.StartAll();
  net.RunFor(300'000);
  EXPECT_EQ(net.HighestCommittedHeight(), 0u) << "2 of 5 must not commit";
  net.Restart(net.MemberAt(2));
  ASSERT_TRUE(net.RunUntilHeight(3, 600'000));
  ExpectSafe(net);
}

TEST(ReplicaNetworkTest, ThreeCrashMidRunHaltsThenResumes) {
  Network net({.members = 5});
  net.StartAll();
  ASSERT_TRUE(net.RunUntilHeight(4, 60'000));
  for (std::size_t i : {1, 2, 3}) net.Crash(net.MemberAt(i));
  net.RunFor(5'000);  // votes already in flight may still complete one height
  const std::uint64_t halted = net.HighestCommittedHeight();
  net.RunFor(300'000);
  EXPECT_EQ(net.HighestCommittedHeight(), halted);
  net.Restart(net.MemberAt(3));
  ASSERT_TRUE(net.RunUntilHeight(halted + 3, 600'000));
  ExpectSafe(net);
}

TEST(ReplicaNetworkTest, SilentRoundZeroProposerViewChange) {
  Network net({.members = 5});
  const std::string proposer = net.validators().ProposerFor(1, 0);
  bool timeout_logged = false;
  net.on_log = [&](const std::string& line) {
    if (line.find("height 1 round 0: timeout propose, prevote nil") != std::string::npos) {
      timeout_logged = true;
    }
  };
  net.Crash(proposer);
  net.StartAll();
  ASSERT_TRUE(net.RunUntilHeight(1, 60'000));
  EXPECT_EQ(net.Certificate(1).round(), 1u);
  EXPECT_TRUE(timeout_logged);
  ASSERT_TRUE(net.RunUntilHeight(8, 600'000));
  ExpectSafe(net);
}

TEST(ReplicaNetworkTest, TwoThirdsFourOfFiveCommits) {
  Network net({.members = 5, .rule = QuorumRule::kTwoThirds});
  net.Crash(net.MemberAt(2));
  net.StartAll();
  ASSERT_TRUE(net.RunUntilHeight(8, 600'000));
  ExpectSafe(net);
  for (std::uint64_t h = 1; h <= 8; ++h) EXPECT_EQ(net.Certificate(h).endorsements_size(), 4);
}

TEST(ReplicaNetworkTest, TwoThirdsThreeOfFiveHalts) {
  Network net({.members = 5, .rule = QuorumRule::kTwoThirds});
  net.Crash(net.MemberAt(0));
  net.Crash(net.MemberAt(1));
  net.StartAll();
  net.RunFor(300'000);
  EXPECT_EQ(net.HighestCommittedHeight(), 0u);
  net.Restart(net.MemberAt(1));
  ASSERT_TRUE(net.RunUntilHeight(2, 600'000));
  ExpectSafe(net);
}

TEST(ReplicaNetworkTest, ObserverCommitsWithoutSigning) {
  Network net({.members = 4, .observers = 1});
  net.StartAll();
  ASSERT_TRUE(net.RunUntilHeight(5, 60'000));
  ExpectSafe(net);
  ExpectIdenticalChains(net, 5);
  EXPECT_EQ(net.sign_log().SignedBy("observer-0"), 0u);
}

// Members are destroyed and re-created from their last persisted state at random moments (their
// in-flight messages are lost meanwhile); none may ever sign two different texts for one slot.
TEST(ReplicaNetworkTest, RestartFromPersistedStateNeverSignsConflicts) {
  for (std::uint32_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const QuorumRule rule = seed % 2 == 0 ? QuorumRule::kMajority : QuorumRule::kTwoThirds;
    Network net(
        {.members = 5, .rule = rule, .seed = seed, .latency_min_ms = 1, .latency_max_ms = 80});
    net.StartAll();
    std::mt19937 rng(seed);
    for (int restart = 0; restart < 30; ++restart) {
      net.RunFor(std::uniform_int_distribution<std::int64_t>(1, 1000)(rng));
      const std::string& id = net.MemberAt(rng() % 5);
      net.Crash(id);
      net.RunFor(std::uniform_int_distribution<std::int64_t>(0, 400)(rng));
      net.Restart(id);
    }
    const std::uint64_t reached = net.MinRunningCommittedHeight();
    EXPECT_TRUE(net.RunUntilHeight(reached + 2, 600'000)) << "stuck at " << reached;
    ExpectSafe(net);
  }
}

// Message loss, duplication and reordering from a seed: agreement at every height, no double
// signing, and with a quorum up the chain still grows (rebroadcast recovers lost messages).
TEST(ReplicaNetworkTest, RandomDropDuplicateReorderFiftySeeds) {
  for (std::uint32_t seed = 1; seed <= 50; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const QuorumRule rule = seed % 2 == 0 ? QuorumRule::kMajority : QuorumRule::kTwoThirds;
    Network net({.members = 5,
                 .rule = rule,
                 .seed = seed,
                 .drop_per_mille = 200,
                 .duplicate_per_mille = 100,
                 .latency_min_ms = 1,
                 .latency_max_ms = 400});
    if (seed % 5 == 0) net.Crash(net.MemberAt(seed / 5 % 5));  // one member down too
    net.StartAll();
    EXPECT_TRUE(net.RunUntilHeight(5, 1'200'000))
        << "only reached " << net.MinRunningCommittedHeight();
    ExpectSafe(net);
    if (::testing::Test::HasFailure()) {
      std::cerr << "failing seed: " << seed << "\n";
      break;
    }
  }
}

}  // namespace
}  // namespace colend::consensus::testing
