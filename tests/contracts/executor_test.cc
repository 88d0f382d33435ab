// Proves the executor's split between envelope failures (unfit for any block: wrong chain,
// unknown sender, bad signature, replay, time window) and business decisions (committed with a
// receipt), and the evidence.anchor contract's behaviour.
#include <gtest/gtest.h>

#include "contracts/contract.h"
#include "contracts/executor.h"

namespace colend::contracts {
namespace {

constexpr std::int64_t kBlockTime = 1764316800000;

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* id : {"lead-bank", "partner-bank"}) {
      auto key = crypto::PrivateKey::Generate(crypto::Suite::kStd);
      ASSERT_TRUE(key.ok());
      keys_.emplace(id, *key);
      rules_.members.emplace(id, MemberRecord{id, std::string(id) == "lead-bank" ? "lead_bank"
                                                                                 : "partner_bank",
                                              key->Public()});
    }
    rules_.chain_id = "colend-test";
    rules_.tx_time_window_ms = 60000;
  }

  Tx Anchor(const std::string& sender, const std::string& digest, std::uint64_t nonce = 1,
            std::int64_t time = kBlockTime) {
    TxBody body;
    body.chain_id = "colend-test";
    body.sender = sender;
    body.nonce = nonce;
    body.timestamp_ms = time;
    body.type = "evidence.anchor";
    body.fields["document-sha256"] = digest;
    auto tx = SignTx(body, keys_.at(sender));
    EXPECT_TRUE(tx.ok());
    return *tx;
  }

  ChainRules rules_;
  std::map<std::string, crypto::PrivateKey> keys_;
  StateTree state_;
};

TEST_F(ExecutorTest, AnchorsADocumentOnce) {
  Executor executor(rules_);
  std::string digest(64, 'b');
  Tx first = Anchor("lead-bank", digest);
  StateOverlay overlay(&state_);
  ASSERT_TRUE(executor.CheckEnvelope(first, overlay, kBlockTime).ok());
  Receipt r = executor.Execute(first, {5, kBlockTime}, 0, &overlay);
  EXPECT_TRUE(r.accepted);
  EXPECT_EQ(r.code, "ok");
  EXPECT_TRUE(overlay.Get("anchor/" + digest).has_value());

  // The same document again, by another member: committed, but rejected with a stable code.
  Tx second = Anchor("partner-bank", digest, 2);
  ASSERT_TRUE(executor.CheckEnvelope(second, overlay, kBlockTime).ok());
  Receipt r2 = executor.Execute(second, {5, kBlockTime}, 1, &overlay);
  EXPECT_FALSE(r2.accepted);
  EXPECT_EQ(r2.code, "already-anchored");
  EXPECT_EQ(r2.rule, "EVIDENCE-ANCHOR");
  EXPECT_EQ(overlay.Get("count/anchor/partner-bank"), std::nullopt);  // nothing else changed

  auto stored = Receipt::ParseText(*overlay.Get(ReceiptKey(second.id)));
  ASSERT_TRUE(stored.ok()) << stored.error().ToString();
  EXPECT_EQ(stored->ToText(), r2.ToText());
}

TEST_F(ExecutorTest, ReplayIsUnfitForABlock) {
  Executor executor(rules_);
  Tx tx = Anchor("lead-bank", std::string(64, 'c'));
  StateOverlay overlay(&state_);
  executor.Execute(tx, {1, kBlockTime}, 0, &overlay);
  Status again = executor.CheckEnvelope(tx, overlay, kBlockTime);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "duplicate-transaction");
}

TEST_F(ExecutorTest, EnvelopeChecks) {
  Executor executor(rules_);
  std::string digest(64, 'd');
  // Signed by partner-bank's key but claiming to be lead-bank.
  TxBody body = Anchor("lead-bank", digest).body;
  auto forged = SignTx(body, keys_.at("partner-bank"));
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(executor.CheckEnvelope(*forged, state_, kBlockTime).error().code, "bad-signature");

  auto outsider_key = crypto::PrivateKey::Generate(crypto::Suite::kStd);
  body.sender = "mallory";
  auto outsider = SignTx(body, *outsider_key);
  EXPECT_EQ(executor.CheckEnvelope(*outsider, state_, kBlockTime).error().code, "unknown-sender");

  body = Anchor("lead-bank", digest).body;
  body.chain_id = "other-chain";
  auto other_chain = SignTx(body, keys_.at("lead-bank"));
  EXPECT_EQ(executor.CheckEnvelope(*other_chain, state_, kBlockTime).error().code, "wrong-chain");

  Tx old = Anchor("lead-bank", digest, 3, kBlockTime - 60001);
  EXPECT_EQ(executor.CheckEnvelope(old, state_, kBlockTime).error().code, "stale-transaction");
  Tx edge = Anchor("lead-bank", digest, 4, kBlockTime - 60000);
  EXPECT_TRUE(executor.CheckEnvelope(edge, state_, kBlockTime).ok());
  Tx future = Anchor("lead-bank", digest, 5, kBlockTime + 60001);
  EXPECT_EQ(executor.CheckEnvelope(future, state_, kBlockTime).error().code, "future-transaction");

  body = Anchor("lead-bank", digest).body;
  body.type = "loan.steal";
  auto unknown = SignTx(body, keys_.at("lead-bank"));
  EXPECT_EQ(executor.CheckEnvelope(*unknown, state_, kBlockTime).error().code, "unknown-type");
}

// A signature that verified once is not checked again (the verified-signature memory of
// PublicKey::Verify, docs/consensus.md §4), but nothing else passes for it: another signature over
// the same bytes, other bytes under the same id and signature, or the same transaction after the
// sender's key changed are each verified and refused.
TEST_F(ExecutorTest, ARememberedSignatureVouchesOnlyForItsOwnBytesKeyAndSignature) {
  Executor executor(rules_);
  auto code = [&](const Tx& t) {
    Status s = executor.CheckSignature(t);
    return s.ok() ? std::string("ok") : s.error().code;
  };
  Tx good = Anchor("lead-bank", std::string(64, 'c'));
  ASSERT_TRUE(executor.CheckSignature(good).ok());
  ASSERT_TRUE(executor.CheckSignature(good).ok());  // remembered
  // Another signature over the same body (a forger's): not covered by the remembered one.
  Tx forged = good;
  forged.signature = Anchor("partner-bank", std::string(64, 'c')).signature;
  EXPECT_EQ(code(forged), "bad-signature");
  // Other bytes presented with the remembered id and signature.
  Tx altered = good;
  altered.body_text.back() = altered.body_text.back() == 'c' ? 'd' : 'c';
  EXPECT_EQ(code(altered), "bad-signature");
  // The sender's key changes (a new epoch): the old signature no longer verifies.
  auto new_key = crypto::PrivateKey::Generate(crypto::Suite::kStd);
  ASSERT_TRUE(new_key.ok());
  auto members = rules_.members;
  members.at("lead-bank").signing_key = new_key->Public();
  executor.SetMembers(members);
  EXPECT_EQ(code(good), "bad-signature");
}

TEST_F(ExecutorTest, BadFieldsAreRejectedWithoutStateChange) {
  Executor executor(rules_);
  Tx tx = Anchor("lead-bank", "ABCDEF");  // not 64 lowercase hex
  StateOverlay overlay(&state_);
  Receipt r = executor.Execute(tx, {1, kBlockTime}, 0, &overlay);
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.code, "invalid-field");
  EXPECT_EQ(overlay.writes().size(), 1u);  // only the receipt
}

TEST(Registry, EveryTypeNamesValidRoles) {
  for (const TxType& type : AllTxTypes()) {
    EXPECT_FALSE(type.roles.empty()) << type.name;
    for (auto role : type.roles) EXPECT_TRUE(IsValidRole(role)) << type.name << " " << role;
  }
}

}  // namespace
}  // namespace colend::contracts
