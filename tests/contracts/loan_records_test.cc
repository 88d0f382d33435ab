// Proves that every loan keeps a committed chain of its records (docs/evidence-bundle.md section 1):
// each step of the loan, a refused step about an existing loan, and the daily rules that acted on
// it are appended in execution order; the count and head follow the documented formula (computed
// here from the text, not with the contract's helper); nothing is recorded for a loan that does
// not exist; and evidence.attach puts only a document's hash on chain.
#include <gtest/gtest.h>

#include "contracts/system/loan_records.h"
#include "tests/contracts/test_chain.h"

namespace colend::contracts {
namespace {

using namespace colend::contracts::testing;  // NOLINT: the test chain

// The documented chain over tx ids, computed from the format text alone.
std::string ExpectedHead(const std::vector<std::string>& tx_ids) {
  std::string head(64, '0');
  for (std::size_t k = 0; k < tx_ids.size(); ++k) {
    head = crypto::ToHex(crypto::Sha256("colend-loan-record/v1\nprev: " + head + "\nseq: " +
                                        std::to_string(k + 1) + "\ntx-id: " + tx_ids[k] + "\n"));
  }
  return head;
}

std::vector<std::string> RecordIds(Chain& chain, const std::string& loan) {
  std::vector<std::string> ids;
  for (const auto& [key, value] : chain.tree().Scan("loan-record/" + loan + "/", 1000)) ids.push_back(value);
  return ids;
}

void ExpectChain(Chain& chain, const std::string& loan, const std::vector<std::string>& tx_ids) {
  auto text = chain.tree().Get("loan-records/" + loan);
  ASSERT_TRUE(text.has_value()) << loan;
  const std::size_t events = chain.tree().Scan("loan-event/" + loan + "/", 100000).size();
  EXPECT_EQ(*text, "colend-loan-records/v1\nloan: " + loan + "\ncount: " +
                       std::to_string(tx_ids.size()) + "\nevents: " + std::to_string(events) +
                       "\nhead: " + ExpectedHead(tx_ids) + "\n");
  EXPECT_EQ(RecordIds(chain, loan), tx_ids);
}

TEST(LoanRecords, EveryStepOfALoanIsARecordInOrder) {
  Chain chain;
  const std::string b = chain.Admit("records-1");
  chain.Auth(b);
  std::vector<std::string> ids;
  Receipt draw = chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 4000000));
  ASSERT_TRUE(draw.accepted) << draw.message;
  ids.push_back(crypto::ToHex(draw.tx_id));
  Receipt approve = chain.Send("partner-bank", "loan.approve", {{"loan", "L1"}, {"decision", "approve"}, {"approval-sha256", std::string(64, 'b')}, {"model", "p"}});
  ASSERT_TRUE(approve.accepted);
  ids.push_back(crypto::ToHex(approve.tx_id));
  ExpectChain(chain, "L1", ids);
  // The borrower's admission and verification are not records of the loan (they name no loan).
  EXPECT_EQ(RecordIds(chain, "L1").size(), 2u);
}

TEST(LoanRecords, ARefusedStepAboutAnExistingLoanIsARecordButNotOneAboutNoLoan) {
  Chain chain;
  const std::string b = chain.Admit("records-2");
  chain.Auth(b);
  Receipt draw = chain.Send("lead-bank", "loan.draw", chain.Draw("L2", b, 4000000));
  ASSERT_TRUE(draw.accepted);
  // A funding leg before the partner approved: refused, and evidence of the attempt.
  Receipt early = chain.Send("lead-bank", "loan.fund", {{"loan", "L2"}, {"amount-fen", "800000"}, {"ref", "x"}});
  ASSERT_FALSE(early.accepted);
  // A role that may not send it: refused as not-permitted, still a record of L2.
  Receipt wrong_role = chain.Send("credit-bureau", "loan.repay", {{"loan", "L2"}, {"amount-fen", "100"}});
  ASSERT_EQ(wrong_role.code, "not-permitted");
  ExpectChain(chain, "L2", {crypto::ToHex(draw.tx_id), crypto::ToHex(early.tx_id), crypto::ToHex(wrong_role.tx_id)});
  // About a loan that does not exist: no chain is started for it.
  Receipt none = chain.Send("payee-bank", "loan.repay", {{"loan", "NOPE"}, {"amount-fen", "100"}});
  ASSERT_FALSE(none.accepted);
  EXPECT_FALSE(chain.tree().Get("loan-records/NOPE").has_value());
}

TEST(LoanRecords, DailyRulesAreRecordsOfTheLoansTheyActOnOnly) {
  Chain chain;
  const std::string a = chain.Admit("records-3a"), b = chain.Admit("records-3b");
  chain.Originate("LA", a, 4000000);
  const std::size_t before_b = 0;
  const std::size_t before_a = RecordIds(chain, "LA").size();
  ASSERT_EQ(before_a, 5u);  // draw, approve, two funding legs, payout
  // Past LA's first due date unpaid: the daily rules remind, start overdue and so on.
  chain.Advance(35);
  auto ids = RecordIds(chain, "LA");
  ASSERT_GT(ids.size(), before_a);
  // The committed event count is every event of LA, the daily rules' included.
  auto records = LoanRecords::Parse(*chain.tree().Get("loan-records/LA"));
  ASSERT_TRUE(records.has_value());
  EXPECT_EQ(records->events, chain.tree().Scan("loan-event/LA/", 100000).size());
  EXPECT_GT(records->events, 5u);
  auto events = chain.tree().Scan("loan-event/LA/", 1000);
  const std::string tick_id = ids.back();
  bool produced_event = false;
  for (const auto& [key, value] : events) produced_event |= value.find(tick_id) != std::string::npos;
  EXPECT_TRUE(produced_event) << "the recorded clock transaction produced LA's events";
  EXPECT_EQ(RecordIds(chain, "LB").size(), before_b) << "a loan that does not exist has no records";
  (void)b;
}

TEST(EvidenceAttach, OnlyTheHashGoesOnChainAndTheAttachIsARecord) {
  Chain chain;
  const std::string b = chain.Admit("records-4");
  chain.Originate("LD", b, 4000000);
  const std::string sha = crypto::ToHex(crypto::Sha256("the signed contract"));
  Fields attach = {{"loan", "LD"}, {"kind", "contract"}, {"document-sha256", sha}, {"document-bytes", "19"},
                   {"label-sha256", crypto::ToHex(crypto::Sha256("contract with annex"))}};
  Receipt ok = chain.Send("lead-bank", "evidence.attach", attach);
  ASSERT_TRUE(ok.accepted) << ok.code << " " << ok.message;
  EXPECT_EQ(RecordIds(chain, "LD").back(), crypto::ToHex(ok.tx_id));
  EXPECT_TRUE(chain.tree().Get("document/" + sha + "/LD").has_value());
  EXPECT_EQ(chain.Send("lead-bank", "evidence.attach", attach).code, "already-attached");
  auto refused = [&](Fields change) {
    Fields f = attach;
    for (auto& [k, v] : change) f[k] = v;
    return chain.Send("payee-bank", "evidence.attach", f).code;
  };
  EXPECT_EQ(refused({{"loan", "NOPE"}}), "loan-not-found");
  EXPECT_EQ(refused({{"kind", "passport-scan"}}), "invalid-field");
  EXPECT_EQ(refused({{"document-sha256", "ABC"}}), "invalid-field");
  EXPECT_EQ(refused({{"document-bytes", "0"}}), "invalid-field");
  EXPECT_EQ(refused({{"document-bytes", std::to_string(kDocumentBytesMax + 1)}}), "invalid-field");
  EXPECT_EQ(refused({{"label-sha256", "Zhang San 110101199003071234"}}), "invalid-field");
  EXPECT_EQ(refused({{"name", "Zhang San"}}), "invalid-field");
  EXPECT_FALSE(chain.tree().Get("loan-records/NOPE").has_value());
}

}  // namespace
}  // namespace colend::contracts
