// docs/consensus.md §7 on the real ledger and store: membership and quorum changes are
// approved by a quorum of the current epoch, committed in a block certified under the old rules,
// and in force from the next height (header epoch and hash, certificates, senders); a restart at
// the boundary resumes in the right epoch; what does not qualify is refused with a reason and
// changes nothing.
#include <gtest/gtest.h>

#include <filesystem>

#include "consensus/block.h"
#include "contracts/system/membership.h"
#include "genesis/builder.h"
#include "node/ledger.h"

namespace colend::node {
namespace {

constexpr std::int64_t kNow = 1764316800000;

class MembershipTest : public ::testing::Test {
 protected:
  void SetUp() override { Build("majority"); }
  void TearDown() override {
    ledger_.reset();
    store_.reset();
    for (const auto& d : dirs_) std::filesystem::remove_all(d);
  }

  void Build(const std::string& quorum) {
    genesis::ConsortiumOptions options;
    options.chain_id = "colend-membership-test";
    options.now_ms = kNow - 60000;
    options.quorum = quorum;
    options.spare_members = 1;
    auto built = genesis::BuildConsortium(options);
    ASSERT_TRUE(built.ok()) << built.error().ToString();
    built_ = std::make_unique<genesis::BuiltConsortium>(std::move(built).value());
    auto g = genesis::ParseGenesis(built_->genesis_text);
    ASSERT_TRUE(g.ok()) << g.error().ToString();
    genesis_ = std::make_unique<genesis::Genesis>(std::move(g).value());
    for (const auto& m : built_->members) keys_.emplace(m.id, &m.signing_key);
    for (const auto& m : built_->spares) keys_.emplace(m.id, &m.signing_key);
    Reopen();
  }

  void Reopen() {
    ledger_.reset();
    store_.reset();
    if (dir_.empty()) {
      dir_ = (std::filesystem::temp_directory_path() /
              ("colend-membership-" + std::to_string(::getpid()) + "-" +
               std::to_string(dirs_.size())))
                 .string();
      dirs_.push_back(dir_);
    }
    auto store = Store::Open(dir_, genesis_->hash);
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(store).value();
    ledger_ = std::make_unique<Ledger>(*genesis_, store_.get());
    Status opened = ledger_->Open();
    ASSERT_TRUE(opened.ok()) << opened.ToString();
  }

  std::string Tx(const std::string& sender, const std::string& type,
                 std::map<std::string, std::string> fields) {
    contracts::TxBody body;
    body.chain_id = genesis_->chain_id;
    body.sender = sender;
    body.nonce = ++nonce_;
    body.timestamp_ms = kNow;
    body.type = type;
    body.fields = std::move(fields);
    return contracts::SignTx(body, *keys_.at(sender))->Encode();
  }
  std::string Propose(const std::string& sender, const std::string& id,
                      std::map<std::string, std::string> change) {
    change["proposal"] = id;
    return Tx(sender, "member.propose", std::move(change));
  }
  std::string Approve(const std::string& sender, const std::string& id) {
    return Tx(sender, "member.approve", {{"proposal", id}});
  }

  // Precommits of `signers` over the block at the epoch of `epoch`.
  consensus::proto::CommitCertificate Certify(const consensus::proto::Block& block,
                                              const std::vector<std::string>& signers,
                                              std::uint64_t epoch) {
    auto header = consensus::BlockHeader::ParseText(block.header());
    consensus::proto::CommitCertificate cert;
    const crypto::Hash256 hash = consensus::BlockHash(block.header());
    cert.set_height(header->height);
    cert.set_round(0);
    cert.set_block_hash(std::string(crypto::AsBytes(hash)));
    const std::string text = consensus::VoteText(genesis_->chain_id, epoch, header->height, 0,
                                                 consensus::Phase::kPrecommit, hash);
    for (const auto& id : signers) {
      auto* e = cert.add_endorsements();
      e->set_member(id);
      e->set_signature(keys_.at(id)->Sign(text).value());
    }
    return cert;
  }

  // Builds the next block of `txs` (proposed by the lead bank), commits it with `signers`.
  consensus::proto::Block CommitNext(const std::vector<std::string>& txs,
                                     const std::vector<std::string>& signers) {
    const std::uint64_t height = ledger_->height() + 1;
    std::vector<Ledger::Dropped> dropped;
    auto block = ledger_->BuildBlock(height, kNow + static_cast<std::int64_t>(height) * 1000,
                                     "lead-bank", txs, &dropped);
    for (const auto& d : dropped) ADD_FAILURE() << "dropped: " << d.error.ToString();
    Status committed = ledger_->CommitBlock(block, Certify(block, signers, ledger_->membership().epoch));
    EXPECT_TRUE(committed.ok()) << committed.ToString();
    return block;
  }

  std::string Code(const std::string& wire) {
    auto tx = contracts::DecodeTx(wire);
    auto text = ledger_->state().Get(contracts::ReceiptKey(tx->id));
    if (!text) return "no receipt";
    return contracts::Receipt::ParseText(*text)->code;
  }
  std::string Message(const std::string& wire) {
    auto tx = contracts::DecodeTx(wire);
    return contracts::Receipt::ParseText(*ledger_->state().Get(contracts::ReceiptKey(tx->id)))->message;
  }
  std::string Output(const std::string& wire, const std::string& key) {
    auto tx = contracts::DecodeTx(wire);
    auto receipt = contracts::Receipt::ParseText(*ledger_->state().Get(contracts::ReceiptKey(tx->id)));
    auto it = receipt->outputs.find(key);
    return it == receipt->outputs.end() ? "" : it->second;
  }
  consensus::BlockHeader Header(const consensus::proto::Block& block) {
    return *consensus::BlockHeader::ParseText(block.header());
  }

  const std::vector<std::string> kFirstThree{"lead-bank", "partner-bank", "payee-bank"};
  std::unique_ptr<genesis::BuiltConsortium> built_;
  std::unique_ptr<genesis::Genesis> genesis_;
  std::map<std::string, const crypto::PrivateKey*> keys_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Ledger> ledger_;
  std::string dir_;
  std::vector<std::string> dirs_;
  std::uint64_t nonce_ = 0;
};

TEST_F(MembershipTest, QuorumRuleAgreesWithConsensus) {
  for (std::size_t n = 1; n <= 64; ++n) {
    EXPECT_EQ(contracts::MembershipQuorum(n, "majority"),
              consensus::QuorumSize(n, consensus::QuorumRule::kMajority));
    EXPECT_EQ(contracts::MembershipQuorum(n, "two-thirds"),
              consensus::QuorumSize(n, consensus::QuorumRule::kTwoThirds));
  }
}

TEST_F(MembershipTest, RemovalTakesEffectAtTheNextHeightAndSurvivesARestart) {
  // Two approvals of five are not enough: nothing changes.
  auto propose = Propose("lead-bank", "drop-arb", {{"change", "remove"}, {"member-id", "arbitration"}});
  auto second = Approve("partner-bank", "drop-arb");
  auto b1 = CommitNext({propose, second}, kFirstThree);
  EXPECT_EQ(Code(propose), "ok");
  EXPECT_EQ(Output(second, "proposal-status"), "proposed");
  EXPECT_EQ(ledger_->membership().epoch, 0u);
  EXPECT_EQ(ledger_->validators().size(), 5u);

  // The third approval (a quorum of 3 of 5) decides; that block is still epoch 0.
  auto third = Approve("credit-bureau", "drop-arb");
  auto b2 = CommitNext({third}, kFirstThree);
  EXPECT_EQ(Code(third), "ok");
  EXPECT_EQ(Output(third, "epoch"), "1");
  EXPECT_EQ(Output(third, "start-height"), "3");
  EXPECT_EQ(Header(b2).membership_epoch, 0u);
  EXPECT_EQ(Header(b2).membership_sha256, genesis_->hash);
  EXPECT_EQ(ledger_->membership().epoch, 1u);
  EXPECT_EQ(ledger_->membership().start_height, 3u);
  EXPECT_EQ(ledger_->validators().size(), 4u);
  EXPECT_EQ(ledger_->validators().quorum(), 3u);
  EXPECT_EQ(ledger_->validators().Find("arbitration"), nullptr);
  const auto doc = ledger_->state().Get(contracts::MembershipEpochKey(1));
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(ledger_->membership().sha256, crypto::Sha256(*doc));
  EXPECT_EQ(Output(third, "membership-sha256"), crypto::ToHex(crypto::Sha256(*doc)));

  // A restart exactly at the boundary: the tip (epoch 0) verifies, the next height is epoch 1.
  Reopen();
  EXPECT_EQ(ledger_->height(), 2u);
  EXPECT_EQ(ledger_->membership().epoch, 1u);
  EXPECT_EQ(ledger_->validators().size(), 4u);

  // Height 3 names epoch 1 and its document hash; a header still naming epoch 0 is invalid.
  std::vector<Ledger::Dropped> dropped;
  auto b3 = ledger_->BuildBlock(3, kNow + 3000, "lead-bank",
                                {Tx("arbitration", "evidence.anchor",
                                    {{"document-sha256", crypto::ToHex(crypto::Sha256("x"))}})},
                                &dropped);
  ASSERT_EQ(dropped.size(), 1u);  // the removed member can no longer send transactions
  EXPECT_EQ(dropped[0].error.code, "unknown-sender");
  EXPECT_EQ(Header(b3).membership_epoch, 1u);
  EXPECT_EQ(Header(b3).membership_sha256, crypto::Sha256(*doc));
  auto stale = Header(b3);
  stale.membership_epoch = 0;
  stale.membership_sha256 = genesis_->hash;
  consensus::proto::Block old_epoch = b3;
  old_epoch.set_header(stale.ToText());
  Status invalid = ledger_->ValidateBlock(3, old_epoch, kNow + 3000, true);
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code, "invalid-block");
  EXPECT_NE(invalid.error().message.find("membership epoch 0"), std::string::npos);

  // Certificates of height 3 count epoch-1 precommits of epoch-1 members only.
  EXPECT_EQ(ledger_->CommitBlock(b3, Certify(b3, {"lead-bank", "partner-bank", "arbitration"}, 1))
                .error()
                .code,
            "unknown-member");
  EXPECT_FALSE(ledger_->CommitBlock(b3, Certify(b3, kFirstThree, 0)).ok());  // epoch-0 votes
  EXPECT_EQ(ledger_->height(), 2u);
  Status committed = ledger_->CommitBlock(b3, Certify(b3, kFirstThree, 1));
  ASSERT_TRUE(committed.ok()) << committed.ToString();
  Reopen();
  EXPECT_EQ(ledger_->height(), 3u);
  EXPECT_EQ(ledger_->membership().epoch, 1u);
  (void)b1;
}

TEST_F(MembershipTest, AddedMemberSignsTransactionsAndEndorsesFromItsEpoch) {
  const auto& spare = built_->spares.at(0);
  const std::string member = genesis::MemberJson(spare).dump();
  // Before the change the spare institution is not a member: its transactions are refused.
  auto early = Tx(spare.id, "evidence.anchor", {{"document-sha256", crypto::ToHex(crypto::Sha256("e"))}});
  std::vector<Ledger::Dropped> dropped;
  ledger_->BuildBlock(1, kNow + 1000, "lead-bank", {early}, &dropped);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].error.code, "unknown-sender");

  auto add = Propose("partner-bank", "join-6", {{"change", "add"}, {"member", member}});
  auto b1 = CommitNext({add, Approve("lead-bank", "join-6"), Approve("arbitration", "join-6")},
                       kFirstThree);
  EXPECT_EQ(Header(b1).membership_epoch, 0u);
  EXPECT_EQ(ledger_->membership().epoch, 1u);
  EXPECT_EQ(ledger_->validators().size(), 6u);
  EXPECT_EQ(ledger_->validators().quorum(), 4u);
  ASSERT_NE(ledger_->validators().Find(spare.id), nullptr);
  EXPECT_EQ(ledger_->state().Get("member/" + spare.id), "partner_bank");

  // Epoch 1: the new member sends a transaction and its precommit counts; three are too few.
  auto anchor = Tx(spare.id, "evidence.anchor", {{"document-sha256", crypto::ToHex(crypto::Sha256("n"))}});
  auto b2 = ledger_->BuildBlock(2, kNow + 2000, "lead-bank", {anchor}, nullptr);
  ASSERT_EQ(b2.txs_size(), 1);
  EXPECT_EQ(ledger_->CommitBlock(b2, Certify(b2, kFirstThree, 1)).error().code,
            "insufficient-endorsements");
  Status committed =
      ledger_->CommitBlock(b2, Certify(b2, {"lead-bank", "partner-bank", spare.id, "payee-bank"}, 1));
  ASSERT_TRUE(committed.ok()) << committed.ToString();
  EXPECT_EQ(Code(anchor), "ok");
}

TEST_F(MembershipTest, QuorumRuleChangeRaisesTheCertificateThreshold) {
  auto change = Propose("lead-bank", "two-thirds", {{"change", "quorum"}, {"quorum", "two-thirds"}});
  CommitNext({change, Approve("payee-bank", "two-thirds"), Approve("credit-bureau", "two-thirds")},
             kFirstThree);
  EXPECT_EQ(ledger_->validators().rule(), consensus::QuorumRule::kTwoThirds);
  EXPECT_EQ(ledger_->validators().quorum(), 4u);
  auto b2 = ledger_->BuildBlock(2, kNow + 2000, "lead-bank", {}, nullptr);
  EXPECT_EQ(ledger_->CommitBlock(b2, Certify(b2, kFirstThree, 1)).error().code,
            "insufficient-endorsements");
  EXPECT_TRUE(
      ledger_->CommitBlock(b2, Certify(b2, {"lead-bank", "partner-bank", "payee-bank", "arbitration"}, 1))
          .ok());
  // Changing it back needs four approvals now.
  auto back = Propose("lead-bank", "back", {{"change", "quorum"}, {"quorum", "majority"}});
  auto two = Approve("partner-bank", "back");
  auto three = Approve("payee-bank", "back");
  CommitNext({back, two, three}, {"lead-bank", "partner-bank", "payee-bank", "arbitration"});
  EXPECT_EQ(Output(three, "needed"), "4");
  EXPECT_EQ(ledger_->membership().epoch, 1u);
}

TEST_F(MembershipTest, RefusedChangesNameTheReasonAndChangeNothing) {
  genesis::ConsortiumOptions other;
  other.chain_id = "elsewhere";
  other.now_ms = kNow - 60000;
  other.members = 1;
  auto foreign = genesis::BuildConsortium(other);
  ASSERT_TRUE(foreign.ok());
  nlohmann::json outsider = genesis::MemberJson(foreign->members[0]);
  outsider["id"] = "outsider";
  auto not_ca = Propose("lead-bank", "p1", {{"change", "add"}, {"member", outsider.dump()}});
  auto existing = Propose("lead-bank", "p2",
                          {{"change", "add"}, {"member", genesis::MemberJson(built_->members[1]).dump()}});
  auto unknown = Propose("lead-bank", "p3", {{"change", "remove"}, {"member-id", "nobody"}});
  auto same_rule = Propose("lead-bank", "p4", {{"change", "quorum"}, {"quorum", "majority"}});
  auto bad_kind = Propose("lead-bank", "p5", {{"change", "rename"}});
  auto mixed = Propose("lead-bank", "p6", {{"change", "remove"}, {"member-id", "arbitration"}, {"quorum", "majority"}});
  auto no_such = Approve("partner-bank", "never-proposed");
  // A change that is none of add, remove, quorum is refused at admission (docs/transactions.md):
  // no block holds it.
  std::vector<Ledger::Dropped> dropped;
  const std::uint64_t next = ledger_->height() + 1;
  ledger_->BuildBlock(next, kNow + static_cast<std::int64_t>(next) * 1000, "lead-bank", {bad_kind},
                      &dropped);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].error.code, "invalid-field") << dropped[0].error.ToString();
  CommitNext({not_ca, existing, unknown, same_rule, mixed, no_such}, kFirstThree);
  EXPECT_EQ(Code(not_ca), "invalid-member");
  EXPECT_EQ(Code(existing), "already-member");
  EXPECT_EQ(Code(unknown), "not-a-member");
  EXPECT_EQ(Code(same_rule), "no-change");
  EXPECT_EQ(Code(bad_kind), "no receipt");
  EXPECT_EQ(Code(mixed), "invalid-field");
  EXPECT_EQ(Code(no_such), "unknown-proposal");
  EXPECT_EQ(ledger_->membership().epoch, 0u);
  EXPECT_TRUE(ledger_->state().Scan("membership/proposal/", 10).empty());

  // Certificates issued by the consortium CA but expired at the block time are refused too.
  auto expired_member = [&] {
    auto tls_key = crypto::PrivateKey::Generate(crypto::Suite::kStd);
    auto sign_key = crypto::PrivateKey::Generate(crypto::Suite::kStd);
    crypto::CertificateSpec spec;
    spec.organization = "Late Bank";
    spec.common_name = "late-bank";
    spec.not_before_unix = kNow / 1000 - 400 * 86400;
    spec.not_after_unix = kNow / 1000 - 30 * 86400;  // expired a month before the block
    spec.serial = 9001;
    spec.tls_server_and_client = true;
    auto tls = crypto::IssueCertificate(spec, tls_key->Public(), &built_->ca_certificate, built_->ca_key);
    spec.serial = 9002;
    spec.tls_server_and_client = false;
    auto signing = crypto::IssueCertificate(spec, sign_key->Public(), &built_->ca_certificate, built_->ca_key);
    return nlohmann::json{{"id", "late-bank"}, {"name", "Late Bank"}, {"role", "partner_bank"},
                          {"tls_certificate", tls->ToPem()}, {"signing_certificate", signing->ToPem()}};
  }();
  auto expired = Propose("lead-bank", "late", {{"change", "add"}, {"member", expired_member.dump()}});
  CommitNext({expired}, kFirstThree);
  EXPECT_EQ(Code(expired), "invalid-member");
  EXPECT_NE(Message(expired).find("not valid at"), std::string::npos) << Message(expired);
  EXPECT_EQ(ledger_->membership().epoch, 0u);

  // Removals stop at three members.
  auto r1 = Propose("lead-bank", "r1", {{"change", "remove"}, {"member-id", "arbitration"}});
  CommitNext({r1, Approve("partner-bank", "r1"), Approve("payee-bank", "r1")}, kFirstThree);
  auto r2 = Propose("lead-bank", "r2", {{"change", "remove"}, {"member-id", "credit-bureau"}});
  CommitNext({r2, Approve("partner-bank", "r2"), Approve("payee-bank", "r2")}, kFirstThree);
  EXPECT_EQ(ledger_->validators().size(), 3u);
  auto r3 = Propose("lead-bank", "r3", {{"change", "remove"}, {"member-id", "payee-bank"}});
  CommitNext({r3}, {"lead-bank", "partner-bank"});
  EXPECT_EQ(Code(r3), "too-few-members");
  EXPECT_EQ(ledger_->membership().epoch, 2u);
}

TEST_F(MembershipTest, ProposalOfAnOlderEpochIsStaleAndOneChangePerBlock) {
  auto a = Propose("lead-bank", "a", {{"change", "remove"}, {"member-id", "arbitration"}});
  auto b = Propose("partner-bank", "b", {{"change", "quorum"}, {"quorum", "two-thirds"}});
  CommitNext({a, b}, kFirstThree);
  // "a" reaches its quorum first in the next block; "b" (made for epoch 0) can then only fail,
  // and a new proposal in the same block waits for the epoch to begin.
  auto a2 = Approve("payee-bank", "a");
  auto a3 = Approve("credit-bureau", "a");
  auto b2 = Approve("payee-bank", "b");
  auto c = Propose("credit-bureau", "c", {{"change", "quorum"}, {"quorum", "two-thirds"}});
  CommitNext({a2, a3, b2, c}, kFirstThree);
  EXPECT_EQ(Output(a3, "proposal-status"), "approved");
  EXPECT_EQ(Code(b2), "epoch-pending");
  EXPECT_EQ(Code(c), "epoch-pending");
  auto b3 = Approve("credit-bureau", "b");
  CommitNext({b3}, kFirstThree);
  EXPECT_EQ(Code(b3), "stale-proposal");
  EXPECT_EQ(ledger_->membership().epoch, 1u);
  EXPECT_EQ(ledger_->validators().rule(), consensus::QuorumRule::kMajority);
}

TEST_F(MembershipTest, EquivocationIsVerifiedWithTheKeysOfItsEpoch) {
  auto add = Propose("partner-bank", "join", {{"change", "add"},
                                              {"member", genesis::MemberJson(built_->spares[0]).dump()}});
  CommitNext({add, Approve("lead-bank", "join"), Approve("arbitration", "join")}, kFirstThree);
  const std::string spare = built_->spares[0].id;
  auto prevote = [&](const std::string& seed) {
    consensus::proto::ConsensusMessage m;
    auto* v = m.mutable_vote();
    const crypto::Hash256 hash = crypto::Sha256(seed);
    v->set_height(5);
    v->set_round(0);
    v->set_phase(consensus::proto::PHASE_PREVOTE);
    v->set_block_hash(std::string(crypto::AsBytes(hash)));
    v->set_member(spare);
    v->set_signature(keys_.at(spare)
                         ->Sign(consensus::VoteText(genesis_->chain_id, 1, 5, 0,
                                                    consensus::Phase::kPrevote, hash))
                         .value());
    return m;
  };
  auto evidence = Tx("payee-bank", "consensus.evidence",
                     {{"first", crypto::ToHex(prevote("A").SerializeAsString())},
                      {"second", crypto::ToHex(prevote("B").SerializeAsString())},
                      {"member", spare},
                      {"height", "5"},
                      {"round", "0"},
                      {"kind", "prevote"}});
  CommitNext({evidence}, {"lead-bank", "partner-bank", "payee-bank", spare});
  EXPECT_EQ(Code(evidence), "ok");
  EXPECT_EQ(ledger_->state().Get("count/fault/" + spare), "1");
}

TEST_F(MembershipTest, DocumentsAreCheckedAndMustChainToTheGenesis) {
  auto change = Propose("lead-bank", "q", {{"change", "quorum"}, {"quorum", "two-thirds"}});
  CommitNext({change, Approve("partner-bank", "q"), Approve("payee-bank", "q")}, kFirstThree);
  const std::string text = *ledger_->state().Get(contracts::MembershipEpochKey(1));
  auto parsed = genesis::ParseMembershipDocument(*genesis_, text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->previous_sha256, genesis_->hash);
  EXPECT_EQ(parsed->members.size(), 5u);

  auto altered = [&](auto change_fn) {
    nlohmann::json doc = nlohmann::json::parse(text);
    change_fn(doc);
    return genesis::ParseMembershipDocument(*genesis_, doc.dump());
  };
  auto other_chain = altered([](auto& d) { d["chain_id"] = "elsewhere"; });
  ASSERT_FALSE(other_chain.ok());
  EXPECT_EQ(other_chain.error().code, "bad-membership");
  EXPECT_NE(other_chain.error().message.find("chain_id"), std::string::npos);
  auto no_quorum = altered([](auto& d) { d["quorum"] = "unanimous"; });
  ASSERT_FALSE(no_quorum.ok());
  EXPECT_NE(no_quorum.error().message.find("quorum"), std::string::npos);
  auto twice = altered([](auto& d) { d["members"].push_back(d["members"][0]); });
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("appears twice"), std::string::npos);

  // A document that does not name the genesis hash as its predecessor is refused.
  contracts::StateTree forged;
  forged.Apply({{"membership/epoch", "1"},
                {contracts::MembershipEpochKey(1),
                 [&] {
                   nlohmann::json doc = nlohmann::json::parse(text);
                   doc["previous_sha256"] = std::string(64, '0');
                   return doc.dump();
                 }()}});
  auto unlinked = genesis::MembershipOfEpoch(*genesis_, forged, 1);
  ASSERT_FALSE(unlinked.ok());
  EXPECT_NE(unlinked.error().message.find("does not follow"), std::string::npos);
  EXPECT_EQ(genesis::MembershipOfEpoch(*genesis_, forged, 2).error().code, "unknown-epoch");
}

}  // namespace
}  // namespace colend::node
