// Proves that the bytes members sign are canonical and pinned, and that a commit certificate is
// accepted only with a real quorum: the header text matches a golden vector (text and SHA-256
// checked independently with sha256sum), the strict parser accepts exactly one spelling of each
// header, vote and proposal texts have the documented layout, quorum sizes follow both rules,
// the validator set rotates proposers deterministically, and VerifyCommitCertificate rejects
// every tampered certificate with its documented error code.
#include "consensus/block.h"

#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "crypto/signature.h"

namespace colend::consensus {
namespace {

Hash256 Filled(std::uint8_t byte) {
  Hash256 h;
  h.fill(byte);
  return h;
}

BlockHeader GoldenHeader() {
  BlockHeader h;
  h.chain_id = "colend-test";
  h.height = 7;
  h.prev_block_hash = Filled(0x11);
  h.timestamp_ms = 1700000000123;
  h.proposer = "lead-bank";
  h.tx_count = 3;
  h.tx_root = Filled(0x22);
  h.state_root = Filled(0x33);
  h.ledger_size = 7;
  h.ledger_root = Filled(0x44);
  h.membership_epoch = 0;
  h.membership_sha256 = Filled(0x55);
  return h;
}

const std::string kGoldenText =
    "colend-block-header/v1\n"
    "chain-id: colend-test\n"
    "height: 7\n"
    "prev-block-hash: 1111111111111111111111111111111111111111111111111111111111111111\n"
    "timestamp-ms: 1700000000123\n"
    "proposer: lead-bank\n"
    "tx-count: 3\n"
    "tx-root: 2222222222222222222222222222222222222222222222222222222222222222\n"
    "state-root: 3333333333333333333333333333333333333333333333333333333333333333\n"
    "ledger-size: 7\n"
    "ledger-root: 4444444444444444444444444444444444444444444444444444444444444444\n"
    "membership-epoch: 0\n"
    "membership-sha256: 5555555555555555555555555555555555555555555555555555555555555555\n";
// printf '<kGoldenText>' | sha256sum
const std::string kGoldenHashHex =
    "871665cac5d1b977d055338c365d27aa19d9077269dbac611fd1e68c23d80140";

// Replaces the first occurrence of `from` in the golden text.
std::string Mutate(const std::string& from, const std::string& to) {
  std::string text = kGoldenText;
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

void ExpectRejected(const std::string& text, const std::string& line_hint) {
  auto parsed = BlockHeader::ParseText(text);
  ASSERT_FALSE(parsed.ok()) << text;
  EXPECT_EQ(parsed.error().code, "bad-header");
  EXPECT_NE(parsed.error().message.find(line_hint), std::string::npos)
      << "message \"" << parsed.error().message << "\" should name " << line_hint;
}

TEST(BlockHeaderTest, GoldenVector) {
  EXPECT_EQ(GoldenHeader().ToText(), kGoldenText);
  EXPECT_EQ(crypto::ToHex(BlockHash(kGoldenText)), kGoldenHashHex);
}

TEST(BlockHeaderTest, ParseRoundTrips) {
  auto parsed = BlockHeader::ParseText(kGoldenText);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->ToText(), kGoldenText);
  EXPECT_EQ(parsed->height, 7u);
  EXPECT_EQ(parsed->timestamp_ms, 1700000000123);
  EXPECT_EQ(parsed->proposer, "lead-bank");
  EXPECT_EQ(parsed->membership_sha256, Filled(0x55));

  BlockHeader extremes = GoldenHeader();
  extremes.height = std::numeric_limits<std::uint64_t>::max();
  extremes.timestamp_ms = std::numeric_limits<std::int64_t>::min();
  extremes.proposer = "银行 a";  // UTF-8 and spaces are fine; control characters are not
  auto again = BlockHeader::ParseText(extremes.ToText());
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->ToText(), extremes.ToText());
}

TEST(BlockHeaderTest, StrictParserRejectsNonCanonicalText) {
  // Reordered keys: height before chain-id.
  ExpectRejected(Mutate("chain-id: colend-test\nheight: 7\n", "height: 7\nchain-id: colend-test\n"),
                 "line 2");
  ExpectRejected(Mutate("1111111111111111111111111111111111111111111111111111111111111111",
                        "111111111111111111111111111111111111111111111111111111111111111A"),
                 "line 4");                                     // uppercase hex
  ExpectRejected(Mutate("height: 7", "height: 07"), "line 3");  // leading zero
  ExpectRejected(Mutate("height: 7", "height: +7"), "line 3");
  ExpectRejected(Mutate("height: 7", "height: 18446744073709551616"), "line 3");  // overflow
  ExpectRejected(Mutate("timestamp-ms: 1700000000123", "timestamp-ms: -0"), "line 5");
  ExpectRejected(kGoldenText.substr(0, kGoldenText.size() - 1), "line 13");  // missing final LF
  ExpectRejected(kGoldenText + "extra-key: 1\n", "line 14");                 // extra key
  ExpectRejected(Mutate("tx-count: 3\n", "tx-count: 3\r\n"), "line 7");      // CR
  ExpectRejected(Mutate("proposer: lead-bank\n", ""), "line 6");             // missing key
  ExpectRejected(Mutate("proposer: lead-bank", "proposer: "), "line 6");     // empty value
  ExpectRejected(Mutate("proposer: lead-bank", "proposer: lead\tbank"), "line 6");
  ExpectRejected(Mutate("proposer:", "author:"), "line 6");             // unknown key
  ExpectRejected(Mutate("tx-root: 2222", "tx-root:  2222"), "line 8");  // extra space
  ExpectRejected(Mutate("colend-block-header/v1", "colend-block-header/v2"), "line 1");
  ExpectRejected("", "line 1");
}

TEST(QuorumTest, QuorumSizeTable) {
  struct Row {
    std::size_t members, majority, two_thirds;
  };
  for (const Row& row : std::vector<Row>{{1, 1, 1}, {4, 3, 3}, {5, 3, 4}, {7, 4, 5}}) {
    EXPECT_EQ(QuorumSize(row.members, QuorumRule::kMajority), row.majority) << row.members;
    EXPECT_EQ(QuorumSize(row.members, QuorumRule::kTwoThirds), row.two_thirds) << row.members;
  }
}

TEST(QuorumTest, RuleNamesRoundTrip) {
  for (QuorumRule rule : {QuorumRule::kMajority, QuorumRule::kTwoThirds}) {
    auto parsed = ParseQuorumRule(QuorumRuleName(rule));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, rule);
  }
  auto bad = ParseQuorumRule("Majority");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "unknown-quorum-rule");
}

TEST(SignedTextTest, VoteAndProposalLayout) {
  EXPECT_EQ(VoteText("c", 2, 7, 1, Phase::kPrevote, Filled(0xab)),
            "colend-vote/v1\nchain-id: c\nepoch: 2\nheight: 7\nround: 1\nphase: prevote\n"
            "block-hash: abababababababababababababababababababababababababababababababab\n");
  EXPECT_EQ(VoteText("c", 0, 9, 0, Phase::kPrecommit, std::nullopt),
            "colend-vote/v1\nchain-id: c\nepoch: 0\nheight: 9\nround: 0\nphase: precommit\n"
            "block-hash: nil\n");
  EXPECT_EQ(ProposalText("c", 0, 9, 3, -1, Filled(0x01)),
            "colend-proposal/v1\nchain-id: c\nepoch: 0\nheight: 9\nround: 3\nvalid-round: -1\n"
            "block-hash: " +
                crypto::ToHex(Filled(0x01)) + "\n");
}

// Members with real P-256 keys; index 5 is an outsider.
class CertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 6; ++i) {
      auto key = crypto::PrivateKey::Generate(crypto::Suite::kStd);
      ASSERT_TRUE(key.ok());
      keys_.push_back(*key);
    }
    std::vector<Member> members;
    // Given out of order: the set sorts them.
    for (int i : {3, 0, 4, 1, 2}) members.push_back({Id(i), keys_[i].Public()});
    set_.emplace("colend-test", 0, std::move(members), QuorumRule::kMajority);
  }
  static std::string Id(int i) { return "bank-" + std::string(1, static_cast<char>('a' + i)); }

  proto::Endorsement Endorse(int key_index, const std::string& member, std::uint64_t height,
                             std::uint32_t round, const Hash256& hash,
                             std::string_view chain = "colend-test", std::uint64_t epoch = 0) {
    proto::Endorsement e;
    e.set_member(member);
    e.set_signature(
        *keys_[key_index].Sign(VoteText(chain, epoch, height, round, Phase::kPrecommit, hash)));
    return e;
  }
  proto::CommitCertificate Cert(std::uint64_t height, std::uint32_t round, const Hash256& hash,
                                int endorsers) {
    proto::CommitCertificate c;
    c.set_height(height);
    c.set_round(round);
    c.set_block_hash(std::string(crypto::AsBytes(hash)));
    for (int i = 0; i < endorsers; ++i)
      *c.add_endorsements() = Endorse(i, Id(i), height, round, hash);
    return c;
  }
  std::string CodeOf(const proto::CommitCertificate& c, std::uint64_t height = 7) {
    const Status s = VerifyCommitCertificate(*set_, height, hash_, c);
    return s.ok() ? "ok" : s.error().code;
  }

  std::vector<crypto::PrivateKey> keys_;
  std::optional<ValidatorSet> set_;
  Hash256 hash_ = Filled(0x42);
};

TEST_F(CertificateTest, ValidatorSetIsSortedAndRotates) {
  ASSERT_EQ(set_->size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(set_->members()[i].id, Id(i));
  EXPECT_EQ(set_->quorum(), 3u);
  EXPECT_NE(set_->Find("bank-c"), nullptr);
  EXPECT_EQ(set_->Find("bank-z"), nullptr);
  EXPECT_EQ(set_->ProposerFor(0, 0), "bank-a");
  EXPECT_EQ(set_->ProposerFor(7, 0), "bank-c");
  EXPECT_EQ(set_->ProposerFor(7, 1), "bank-d");
  EXPECT_EQ(set_->ProposerFor(7, 4), "bank-b");
  EXPECT_EQ(set_->ProposerFor(std::numeric_limits<std::uint64_t>::max(), 1),
            set_->members()[(std::numeric_limits<std::uint64_t>::max() % 5 + 1) % 5].id);
}

TEST_F(CertificateTest, ValidQuorumAccepted) {
  EXPECT_EQ(CodeOf(Cert(7, 0, hash_, 3)), "ok");
  EXPECT_EQ(CodeOf(Cert(7, 2, hash_, 5)), "ok");
}

TEST_F(CertificateTest, OneShortOfQuorumRejected) {
  EXPECT_EQ(CodeOf(Cert(7, 0, hash_, 2)), "insufficient-endorsements");
  EXPECT_EQ(CodeOf(Cert(7, 0, hash_, 0)), "insufficient-endorsements");
}

TEST_F(CertificateTest, DuplicateMemberCountedOnce) {
  auto c = Cert(7, 0, hash_, 2);
  *c.add_endorsements() = c.endorsements(0);
  EXPECT_EQ(CodeOf(c), "duplicate-endorsement");
  // A second, freshly made signature by the same member is still one member.
  auto d = Cert(7, 0, hash_, 2);
  *d.add_endorsements() = Endorse(0, Id(0), 7, 0, hash_);
  EXPECT_EQ(CodeOf(d), "duplicate-endorsement");
}

TEST_F(CertificateTest, NonMemberRejected) {
  auto c = Cert(7, 0, hash_, 2);
  *c.add_endorsements() = Endorse(5, "bank-mallory", 7, 0, hash_);
  EXPECT_EQ(CodeOf(c), "unknown-member");
  // The outsider's key under a member's name does not verify.
  auto d = Cert(7, 0, hash_, 2);
  *d.add_endorsements() = Endorse(5, Id(2), 7, 0, hash_);
  EXPECT_EQ(CodeOf(d), "bad-endorsement-signature");
}

TEST_F(CertificateTest, SignatureCopiedFromElsewhereRejected) {
  auto from_other_height = Cert(7, 0, hash_, 2);
  *from_other_height.add_endorsements() = Endorse(2, Id(2), 8, 0, hash_);
  EXPECT_EQ(CodeOf(from_other_height), "bad-endorsement-signature");
  auto from_other_round = Cert(7, 0, hash_, 2);
  *from_other_round.add_endorsements() = Endorse(2, Id(2), 7, 1, hash_);
  EXPECT_EQ(CodeOf(from_other_round), "bad-endorsement-signature");
  auto from_other_block = Cert(7, 0, hash_, 2);
  *from_other_block.add_endorsements() = Endorse(2, Id(2), 7, 0, Filled(0x43));
  EXPECT_EQ(CodeOf(from_other_block), "bad-endorsement-signature");
  auto from_other_chain = Cert(7, 0, hash_, 2);
  *from_other_chain.add_endorsements() = Endorse(2, Id(2), 7, 0, hash_, "other-chain");
  EXPECT_EQ(CodeOf(from_other_chain), "bad-endorsement-signature");
  auto from_other_epoch = Cert(7, 0, hash_, 2);
  *from_other_epoch.add_endorsements() = Endorse(2, Id(2), 7, 0, hash_, "colend-test", 1);
  EXPECT_EQ(CodeOf(from_other_epoch), "bad-endorsement-signature");
}

TEST_F(CertificateTest, BadSignatureRejected) {
  auto c = Cert(7, 0, hash_, 3);
  std::string sig = c.endorsements(1).signature();
  sig[sig.size() - 1] ^= 0x01;
  c.mutable_endorsements(1)->set_signature(sig);
  EXPECT_EQ(CodeOf(c), "bad-endorsement-signature");
  c.mutable_endorsements(1)->set_signature("");
  EXPECT_EQ(CodeOf(c), "bad-endorsement-signature");
}

TEST_F(CertificateTest, WrongHeightHashOrSizeRejected) {
  EXPECT_EQ(CodeOf(Cert(7, 0, hash_, 3), 8), "bad-certificate");
  EXPECT_EQ(CodeOf(Cert(7, 0, Filled(0x43), 3)), "bad-certificate");
  auto truncated = Cert(7, 0, hash_, 3);
  truncated.set_block_hash(truncated.block_hash().substr(0, 31));
  EXPECT_EQ(CodeOf(truncated), "bad-certificate");
  auto too_many = Cert(7, 0, hash_, 5);
  *too_many.add_endorsements() = too_many.endorsements(0);
  EXPECT_EQ(CodeOf(too_many), "bad-certificate");
}

}  // namespace
}  // namespace colend::consensus
