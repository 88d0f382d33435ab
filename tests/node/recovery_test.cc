// Proves the signing recovery of a member whose history is unknown (docs/consensus.md §10):
// only heights this node verified on its own chain count (a forged or enormous height never
// sets the floor), the reports needed and who may give them come from the epoch at the tip,
// recovering peers do not count, a disconnected peer is forgotten, a liar is discredited, and
// every arithmetic step saturates. And the start-up judgement: a data directory that is emptied,
// restored from an older backup, or was killed between creating the store and writing its
// "history complete" record is never trusted to know what this member signed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "crypto/signature.h"
#include "node/config.h"
#include "node/peer_heights.h"
#include "node/signing_lease.h"
#include "node/signing_recovery.h"

namespace colend::node {
namespace {

crypto::Hash256 HashOf(std::uint64_t height) { return crypto::Sha256("block " + std::to_string(height)); }

// Our chain: blocks 0..tip hash to HashOf(h).
PeerHeights::HashAt ChainTo(std::uint64_t tip) {
  return [tip](std::uint64_t h) -> std::optional<crypto::Hash256> {
    if (h > tip) return std::nullopt;
    return HashOf(h);
  };
}

consensus::ValidatorSet Epoch(std::size_t members, std::uint64_t number = 0,
                              consensus::QuorumRule rule = consensus::QuorumRule::kMajority) {
  static const crypto::PublicKey key = crypto::PrivateKey::Generate(crypto::Suite::kStd)->Public();
  std::vector<consensus::Member> list;
  for (std::size_t i = 0; i < members; ++i) list.push_back({"m" + std::to_string(i), key});
  return consensus::ValidatorSet("chain", number, std::move(list), rule);
}

RecoveryProgress Floor(const PeerHeights& peers, std::uint64_t our_height,
                       const consensus::ValidatorSet& epoch, std::uint64_t lease_floor = 0) {
  RecoveryInput input;
  input.self = "m0";
  input.our_height = our_height;
  input.epoch = &epoch;
  input.best_claim = peers.BestClaim();
  input.reports = peers.CertifiedReports();
  input.lease_floor = lease_floor;
  return ComputeSigningFloor(input);
}

// Another hash at a height we hold is a lie or the other branch of a fork: the peer is
// discredited and the mismatch is reported, so the node can ask for its block there and, if it
// comes with a certificate, turn the fork into evidence (node/node_fork.cc).
TEST(PeerHeights, AnotherHashAtAHeightWeHoldIsReportedAsAMismatch) {
  PeerHeights peers;
  peers.Claim("m1", 30, HashOf(30), false, 0);
  peers.Claim("m2", 31, crypto::Sha256("the other branch"), false, 0);
  peers.Claim("m3", 45, crypto::Sha256("above our tip"), false, 0);
  const auto mismatches = peers.Verify(40, ChainTo(40), 0);
  ASSERT_EQ(mismatches.size(), 1u);
  EXPECT_EQ(mismatches[0].first, "m2");
  EXPECT_EQ(mismatches[0].second, 31u);
  EXPECT_EQ(peers.ClaimOf("m2"), 0u) << "discredited";
  EXPECT_EQ(peers.ClaimOf("m1"), 30u);
  EXPECT_EQ(peers.ClaimOf("m3"), 45u) << "above our tip: not checkable yet";
  EXPECT_TRUE(peers.Verify(40, ChainTo(40), 0).empty()) << "reported once";
}

TEST(SigningRecovery, CertifiedReportsFromTheEpochSetTheFloor) {
  const auto epoch = Epoch(5);  // q = 3: n - q + 1 = 3 reports
  PeerHeights peers;
  for (const char* p : {"m1", "m2"}) peers.Claim(p, 40, HashOf(40), false, 0);
  peers.Verify(40, ChainTo(40), 0);
  EXPECT_FALSE(Floor(peers, 40, epoch).floor) << "two reports of three";
  peers.Claim("m3", 39, HashOf(39), false, 0);
  peers.Verify(40, ChainTo(40), 0);
  const RecoveryProgress progress = Floor(peers, 40, epoch);
  ASSERT_TRUE(progress.floor);
  EXPECT_EQ(*progress.floor, 43u);
  EXPECT_EQ(progress.counted, 3u);
  EXPECT_EQ(*Floor(peers, 40, epoch, /*lease_floor=*/90).floor, 90u) << "a lease raises it";
}

// Two of five members lose their data in two-thirds mode (q = 4) and keep their leases. With the
// floor at tip + 3 neither could sign tip + 1 or tip + 2, so those heights never had a quorum and
// the chain stopped for good (found by colend-sim --real-node, seed 27, two-thirds). A lease is
// an exact bound of what the member signed: it signs again from the next height it leaves free.
TEST(SigningRecovery, ASurvivingLeaseLetsTheMemberSignTheNextFreeHeight) {
  const auto epoch = Epoch(5, 0, consensus::QuorumRule::kTwoThirds);  // n - q + 1 = 2 reports
  PeerHeights peers;
  for (const char* p : {"m1", "m2", "m3"}) peers.Claim(p, 13, HashOf(13), false, 0);
  peers.Verify(13, ChainTo(13), 0);
  EXPECT_EQ(*Floor(peers, 13, epoch, /*lease_floor=*/15).floor, 15u) << "leased up to 14";
  EXPECT_EQ(*Floor(peers, 13, epoch, /*lease_floor=*/9).floor, 14u) << "an old lease: tip + 1";
  EXPECT_EQ(*Floor(peers, 13, epoch).floor, 16u) << "no lease: tip + 3";
  EXPECT_EQ(*Floor(peers, UINT64_MAX, epoch, /*lease_floor=*/3).floor, UINT64_MAX) << "saturates";
}

// Today a status of 2^64-3 set the floor to 0 (top + 3 wrapped) and one of 10^15 silenced the
// member for good: an uncertified claim now counts for nothing, and a claim the node cannot
// verify keeps it from finishing only until the liar is found out.
TEST(SigningRecovery, AForgedHeightNeverSetsTheFloor) {
  const auto epoch = Epoch(5);
  for (std::uint64_t forged : {UINT64_MAX - 2, std::uint64_t{1'000'000'000'000'000}}) {
    PeerHeights peers;
    for (const char* p : {"m1", "m2", "m3"}) peers.Claim(p, 40, HashOf(40), false, 0);
    peers.Claim("m4", forged, crypto::Sha256("made up"), false, 0);
    peers.Verify(40, ChainTo(40), 0);
    EXPECT_EQ(peers.CertifiedReports().count("m4"), 0u);
    EXPECT_FALSE(Floor(peers, 40, epoch).floor) << "not caught up with a claim yet";
    peers.Discredit("m4", 1000);  // it served nothing when asked (node_sync.cc)
    const auto progress = Floor(peers, 40, epoch);
    ASSERT_TRUE(progress.floor) << forged;
    EXPECT_EQ(*progress.floor, 43u) << forged;
    peers.Claim("m4", forged, crypto::Sha256("made up"), false, 2000);
    EXPECT_EQ(peers.BestClaim(), 40u) << "a discredited peer's claims are ignored for a while";
    peers.Claim("m4", 40, HashOf(40), false, 1000 + kDiscreditMs);
    EXPECT_EQ(peers.ClaimOf("m4"), 40u) << "and heard again afterwards";
  }
  PeerHeights peers;
  peers.Claim("m1", 30, crypto::Sha256("another block 30"), false, 0);
  peers.Verify(40, ChainTo(40), 0);
  EXPECT_EQ(peers.ClaimOf("m1"), 0u) << "a hash that is not ours at that height discredits";
  EXPECT_EQ(SaturatingAdd(UINT64_MAX - 1, 3), UINT64_MAX);
}

TEST(SigningRecovery, RecoveringPeersAndStrangersDoNotCount) {
  const auto epoch = Epoch(5);
  PeerHeights peers;
  peers.Claim("m1", 40, HashOf(40), false, 0);
  peers.Claim("m2", 40, HashOf(40), false, 0);
  peers.Claim("m3", 40, HashOf(40), /*recovering=*/true, 0);
  peers.Claim("outsider", 40, HashOf(40), false, 0);
  peers.Claim("m0", 40, HashOf(40), false, 0);  // ourselves, echoed back
  peers.Verify(40, ChainTo(40), 0);
  EXPECT_EQ(Floor(peers, 40, epoch).counted, 2u);
  EXPECT_FALSE(Floor(peers, 40, epoch).floor);
  peers.Claim("m3", 40, HashOf(40), false, 0);  // m3 finished its own recovery
  peers.Verify(40, ChainTo(40), 0);
  EXPECT_TRUE(Floor(peers, 40, epoch).floor);
}

// The genesis epoch had 3 members (2 reports would do); the epoch at the tip has 7 (4 needed).
TEST(SigningRecovery, TheEpochAtTheTipDecidesHowManyReports) {
  PeerHeights peers;
  for (const char* p : {"m1", "m2", "m3"}) peers.Claim(p, 80, HashOf(80), false, 0);
  peers.Verify(80, ChainTo(80), 0);
  EXPECT_TRUE(Floor(peers, 80, Epoch(3)).floor);
  EXPECT_FALSE(Floor(peers, 80, Epoch(7, 2)).floor);
  EXPECT_EQ(Floor(peers, 80, Epoch(7, 2)).needed, 4u);
  peers.Claim("m4", 80, HashOf(80), false, 0);
  peers.Verify(80, ChainTo(80), 0);
  EXPECT_TRUE(Floor(peers, 80, Epoch(7, 2)).floor);
  EXPECT_EQ(Floor(peers, 80, Epoch(7, 2, consensus::QuorumRule::kTwoThirds)).needed, 3u);
}

TEST(SigningRecovery, ADisconnectedPeerIsForgottenAndFarClaimsWaitForSync) {
  const auto epoch = Epoch(5);
  PeerHeights peers;
  for (const char* p : {"m1", "m2", "m3"}) peers.Claim(p, 40, HashOf(40), false, 0);
  peers.Verify(40, ChainTo(40), 0);
  peers.Forget("m3");
  EXPECT_FALSE(Floor(peers, 40, epoch).floor);
  EXPECT_EQ(peers.ClaimOf("m3"), 0u);
  // Claims far ahead: certified only once our chain has those blocks.
  PeerHeights ahead;
  for (const char* p : {"m1", "m2", "m3"}) ahead.Claim(p, 500, HashOf(500), false, 0);
  ahead.Verify(10, ChainTo(10), 0);
  EXPECT_TRUE(ahead.CertifiedReports().empty());
  EXPECT_EQ(*ahead.SyncPeer(10, ""), "m1");
  ahead.Verify(500, ChainTo(500), 0);
  ASSERT_TRUE(Floor(ahead, 500, epoch).floor);
  EXPECT_EQ(*Floor(ahead, 500, epoch).floor, 503u);
}

// ----- start-up: is the data directory's signing history known? -----

TEST(SigningHistory, ACompleteCurrentDirectoryIsTrusted) {
  DataHistory data{.complete_marker = true, .legacy_recovering = false, .stored = {120, 2, 1}};
  EXPECT_FALSE(JudgeSigningHistory(data, LeaseMark{120, 2, 1}).recovering);
  EXPECT_FALSE(JudgeSigningHistory(data, LeaseMark{119, 0, 2}).recovering);
  EXPECT_FALSE(JudgeSigningHistory(data, std::nullopt).recovering) << "no lease yet";
}

TEST(SigningHistory, AnEmptiedOrHalfInitialisedDirectoryRecovers) {
  // A store that was created but never got its record (emptied directory, or SIGKILL between
  // creating the store and writing the record): recovering, whatever else it holds.
  DataHistory data{.complete_marker = false, .legacy_recovering = false, .stored = {1, 0, 0}};
  EXPECT_TRUE(JudgeSigningHistory(data, std::nullopt).recovering);
  const HistoryVerdict with_lease = JudgeSigningHistory(data, LeaseMark{300, 1, 0});
  EXPECT_TRUE(with_lease.recovering);
  EXPECT_EQ(with_lease.lease_floor, 301u) << "never again at or below the leased height";
}

TEST(SigningHistory, ADirectoryRestoredFromAnOlderBackupRecovers) {
  DataHistory restored{.complete_marker = true, .legacy_recovering = false, .stored = {100, 0, 0}};
  const HistoryVerdict verdict = JudgeSigningHistory(restored, LeaseMark{110, 0, 0});
  EXPECT_TRUE(verdict.recovering);
  EXPECT_EQ(verdict.lease_floor, 111u);
  // Same height, later round: the backup lacks votes of round 3.
  DataHistory same_height{.complete_marker = true, .legacy_recovering = false, .stored = {110, 1, 2}};
  EXPECT_TRUE(JudgeSigningHistory(same_height, LeaseMark{110, 3, 0}).recovering);
  // Same height and round, a later step (colend-sim seed 346, two-thirds): a copy taken when the
  // replica had started height 5 round 0 lacks the prevote it signed after; restored, it would
  // have signed a nil prevote for the same slot.
  DataHistory same_round{.complete_marker = true, .legacy_recovering = false, .stored = {5, 0, 0}};
  EXPECT_TRUE(JudgeSigningHistory(same_round, LeaseMark{5, 0, 1}).recovering);
}

TEST(SigningHistory, TheLeaseFileIsReadBackAndEditsAreRefused) {
  const auto dir = std::filesystem::temp_directory_path() / ("colend-lease-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "signing-lease").string();
  EXPECT_FALSE(ReadSigningLease(path, "abc", "m0")->has_value());
  ASSERT_TRUE(WriteSigningLease(path, "abc", "m0", {77, 4, 2}).ok());
  EXPECT_EQ(**ReadSigningLease(path, "abc", "m0"), (LeaseMark{77, 4, 2}));
  EXPECT_FALSE(ReadSigningLease(path, "abc", "m1").ok()) << "another member's lease";
  EXPECT_FALSE(ReadSigningLease(path, "def", "m0").ok()) << "another chain's lease";
  std::string text = *ReadFile(path);
  ASSERT_NE(text.find("height 00000000000000000077\n"), std::string::npos) << text;
  ASSERT_TRUE(WriteFile(path, std::string(text).replace(text.find("height 0"), 9, "height 7")).ok());
  EXPECT_FALSE(ReadSigningLease(path, "abc", "m0").ok()) << "not canonical";
  std::filesystem::remove_all(dir);
}

// The lease is rewritten before every vote for a later (height, round, step). Overwriting the
// file in place (one pwrite, one fdatasync) instead of writing a new file and renaming it (two
// fsyncs, each waiting on a file-system journal commit) takes two journal commits per step off
// every node's consensus path.
TEST(SigningHistory, ALeaseIsOverwrittenInPlaceAndAnyTornOrEditedCopyIsRefused) {
  const auto dir = std::filesystem::temp_directory_path() / ("colend-lease2-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "signing-lease").string();
  ASSERT_TRUE(WriteSigningLease(path, "abc", "m0", {9, 0, 0}).ok());
  const std::string first = *ReadFile(path);
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  for (const LeaseMark mark : {LeaseMark{10, 0, 1}, LeaseMark{10, 12, 2}, LeaseMark{11, 0, 0},
                               LeaseMark{UINT64_MAX, UINT32_MAX, UINT32_MAX}}) {
    ASSERT_TRUE(WriteSigningLease(path, "abc", "m0", mark).ok());
    struct stat after {};
    ASSERT_EQ(::stat(path.c_str(), &after), 0);
    EXPECT_EQ(after.st_ino, before.st_ino) << "the same file, overwritten in place (height "
                                           << mark.height << ")";
    EXPECT_EQ(after.st_size, before.st_size) << "every lease of a member has the same length";
    EXPECT_EQ(**ReadSigningLease(path, "abc", "m0"), mark);
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  // A write torn by a crash (the new lease's first half over the old one's second half), a digit
  // changed, or the checksum changed: each is refused, never read as some other mark.
  const std::string last = *ReadFile(path);
  ASSERT_EQ(first.size(), last.size());
  const std::string torn = last.substr(0, last.size() / 2) + first.substr(first.size() / 2);
  const std::string digit = std::string(first).replace(first.find("height ") + 26, 1, "8");
  const std::string sum = std::string(first).replace(first.find("sha256 ") + 7, 1,
                                                     first[first.find("sha256 ") + 7] == 'a' ? "b" : "a");
  for (const auto& [what, bytes] : {std::pair{"torn", torn}, std::pair{"digit", digit},
                                    std::pair{"checksum", sum}}) {
    ASSERT_TRUE(WriteFile(path, bytes).ok());
    auto read = ReadSigningLease(path, "abc", "m0");
    EXPECT_FALSE(read.ok()) << what << ": read as height " << (read.ok() && *read ? (*read)->height : 0);
    if (!read.ok()) {
      EXPECT_EQ(read.error().code, "bad-signing-lease");
    }
  }
  std::filesystem::remove_all(dir);
}

// A node upgraded from a build that wrote v1 leases (plain decimal, no checksum) keeps its lease:
// it is read as before, and the next write replaces it by a v2 lease through a new file.
TEST(SigningHistory, AVersionOneLeaseIsReadAndItsNextWriteIsVersionTwo) {
  const auto dir = std::filesystem::temp_directory_path() / ("colend-lease1-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "signing-lease").string();
  ASSERT_TRUE(WriteFile(path, "colend-signing-lease/v1\nchain-genesis abc\nmember m0\nheight 300\n"
                              "round 1\nstep 2\n").ok());
  auto read = ReadSigningLease(path, "abc", "m0");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(**read, (LeaseMark{300, 1, 2}));
  ASSERT_TRUE(WriteFile(path, "colend-signing-lease/v1\nchain-genesis abc\nmember m0\nheight 0300\n"
                              "round 1\nstep 2\n").ok());
  EXPECT_FALSE(ReadSigningLease(path, "abc", "m0").ok()) << "a v1 lease not in its canonical form";
  ASSERT_TRUE(WriteSigningLease(path, "abc", "m0", {301, 0, 0}).ok());
  EXPECT_EQ(ReadFile(path)->rfind("colend-signing-lease/v2\n", 0), 0u);
  EXPECT_EQ(**ReadSigningLease(path, "abc", "m0"), (LeaseMark{301, 0, 0}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace colend::node
