// Classification (R-POST-04), collection routing (R-POST-05) and write-off with recovery
// (R-POST-07), driven through the executor: each assertion is one that the planted mutations
// listed in the commit that strengthened them make fail (docs/lending-rules.md §10.13).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "contracts/contract.h"
#include "contracts/lending/lending.h"
#include "contracts/lending/loan_model.h"
#include "contracts/lending/money.h"
#include "tests/contracts/test_chain.h"

namespace colend::contracts {
namespace {

using namespace colend::contracts::testing;  // NOLINT: the test chain

// The loan's events of one kind, in order (what `colend loan events` shows).
std::vector<json> Events(Chain& chain, const std::string& loan, const std::string& name) {
  std::vector<json> out;
  for (const auto& [key, value] : chain.tree().Scan("loan-event/" + loan + "/", 100000)) {
    json e = json::parse(value);
    if (e.at("event") == name) out.push_back(e);
  }
  return out;
}

// The test's own half-up rounding of num/den (docs/lending-rules.md §2.1).
std::int64_t Rhu(__int128 num, __int128 den) { return static_cast<std::int64_t>((2 * num + den) / (2 * den)); }

// What a loan owes on its overdue installments today (principal, interest and penalty).
std::int64_t OverdueThrough(const Loan& l, std::int64_t today, std::size_t installments) {
  std::int64_t sum = 0;
  for (std::size_t k = 0; k < installments; ++k) {
    const InstallmentState& i = l.installments[k];
    sum += i.PrincipalDue() + i.InterestDue() + l.PenaltyDue(i, today);
  }
  return sum;
}

TEST(LendingClassification, SixtyVersusSixtyOneDaysAndPerLenderThresholds) {
  for (std::string profile : {"case-study", "cn-2022"}) {
    Chain chain(profile);
    std::string b = chain.Admit("cls");
    chain.Originate("L1", b, 1000000, 5);  // Example 1: installments of 2,090.89 CNY
    std::int64_t due = chain.GetLoan("L1").installments[0].due_day;
    chain.AdvanceTo(due + 60);
    Loan l = chain.GetLoan("L1");
    EXPECT_EQ(l.lenders[0].classification, LoanClass::kSpecialMention) << profile;
    chain.Advance(1);
    l = chain.GetLoan("L1");
    EXPECT_EQ(l.Dpd(chain.Today()), 61);
    EXPECT_EQ(l.lenders[0].classification, LoanClass::kSubstandard) << profile;
    EXPECT_EQ(l.lenders[1].classification,
              profile == "case-study" ? LoanClass::kSubstandard : LoanClass::kSpecialMention)
        << profile;
    if (profile == "cn-2022") {
      chain.AdvanceTo(due + 90);
      EXPECT_EQ(chain.GetLoan("L1").lenders[1].classification, LoanClass::kSpecialMention);
      chain.Advance(1);
      EXPECT_EQ(chain.GetLoan("L1").lenders[1].classification, LoanClass::kSubstandard);
    }
    // dpd > 90: outsourced collection.
    chain.AdvanceTo(due + 91);  // 2027-03-29: installments 1-4 are due (the 4th yesterday)
    EXPECT_EQ(chain.GetLoan("L1").collection_stage, "outsourced");
    // The upgrade guard (§8.4): installments 1 and 2 paid in full, with their penalty. DPD falls
    // from 91 to 29 (installment 3, due 2027-02-28), which alone would be special mention; an
    // NPL class is not upgraded while anything is overdue.
    l = chain.GetLoan("L1");
    const std::size_t changes_before = Events(chain, "L1", "CLASSIFICATION_CHANGED").size();
    Receipt r = chain.Repay("L1", OverdueThrough(l, chain.Today(), 2));
    ASSERT_TRUE(r.accepted) << r.message;
    EXPECT_EQ(r.outputs.at("allocated.principal-fen"), std::to_string(194089 + 197000)) << profile;
    EXPECT_EQ(r.outputs.at("allocated.interest-fen"), std::to_string(15000 + 12089)) << profile;
    EXPECT_EQ(r.outputs.at("dpd"), "29") << profile;
    l = chain.GetLoan("L1");
    for (const LenderShare& s : l.lenders) {
      EXPECT_EQ(ClassName(s.classification), "substandard") << profile << " " << s.member;
      EXPECT_EQ(l.View(chain.Today())["lenders"][s.member == "lead-bank" ? 0 : 1]["classification"], "substandard");
    }
    EXPECT_EQ(Events(chain, "L1", "CLASSIFICATION_CHANGED").size(), changes_before) << profile;
    // Collection does not go back to the AI either (§8.5: DPD 29 ≤ 90, 4,182 CNY overdue).
    EXPECT_EQ(l.collection_stage, "outsourced") << profile;
    chain.Advance(1);  // nor does the daily pass upgrade it
    EXPECT_EQ(ClassName(chain.GetLoan("L1").lenders[0].classification), "substandard") << profile;
    EXPECT_EQ(chain.GetLoan("L1").collection_stage, "outsourced") << profile;
    // Every overdue fen paid: the class comes back at once, and collection ends.
    l = chain.GetLoan("L1");
    r = chain.Repay("L1", OverdueThrough(l, chain.Today(), 4));
    ASSERT_TRUE(r.accepted) << r.message;
    EXPECT_EQ(r.outputs.at("dpd"), "0");
    l = chain.GetLoan("L1");
    EXPECT_EQ(l.lenders[0].classification, LoanClass::kNormal) << profile;
    EXPECT_EQ(l.lenders[1].classification, LoanClass::kNormal) << profile;
    EXPECT_EQ(l.collection_stage, "none") << profile;
  }
}

// R-POST-05: the stage moves only forward while the loan is overdue: an AI outcome withdrawn,
// a partial payment and the days that pass never move it back; only a cure does.
TEST(LendingCollection, NeverGoesBackWhileOverdue) {
  Chain chain;
  std::string b = chain.Admit("forward-only");
  chain.Originate("L1", b, 4000000, 5);
  const std::int64_t due = chain.GetLoan("L1").installments[0].due_day;
  chain.AdvanceTo(due + 1);
  EXPECT_EQ(chain.GetLoan("L1").collection_stage, "ai");
  chain.AdvanceTo(due + 3);
  Receipt r = chain.Send("lead-bank", "collection.outcome", {{"loan", "L1"}, {"ptp-broken", "2"}, {"no-contact-days", "0"}});
  ASSERT_TRUE(r.accepted) << r.message;
  EXPECT_EQ(r.outputs.at("collection-stage"), "outsourced");
  // The AI collector now reports no broken promise: nothing that sends a loan to an agency
  // holds any more (DPD 3, about 8,364 CNY overdue), yet the loan stays with the agency.
  r = chain.Send("lead-bank", "collection.outcome", {{"loan", "L1"}, {"ptp-broken", "0"}, {"no-contact-days", "0"}});
  ASSERT_TRUE(r.accepted) << r.message;
  EXPECT_EQ(r.outputs.at("collection-stage"), "outsourced");
  chain.AdvanceTo(due + 10);
  ASSERT_TRUE(chain.Repay("L1", 100000).accepted);  // a partial payment
  EXPECT_EQ(chain.GetLoan("L1").collection_stage, "outsourced");
  for (std::int64_t day = due + 11; day <= due + 92; ++day) {
    chain.AdvanceTo(day);
    ASSERT_EQ(chain.GetLoan("L1").collection_stage, "outsourced") << "due + " << day - due;
  }
  // 90 days with the agency: litigation, and it stays there day after day (DPD > 90 would
  // otherwise send it to an agency again).
  for (std::int64_t day = due + 93; day <= due + 100; ++day) {
    chain.AdvanceTo(day);
    ASSERT_EQ(chain.GetLoan("L1").collection_stage, "litigation") << "due + " << day - due;
  }
  // Installments 1-3 paid in full: DPD 10 (installment 4 due 2027-03-28), still litigation.
  Loan l = chain.GetLoan("L1");
  r = chain.Repay("L1", OverdueThrough(l, chain.Today(), 3));
  ASSERT_TRUE(r.accepted) << r.message;
  EXPECT_EQ(r.outputs.at("dpd"), "10");
  EXPECT_EQ(chain.GetLoan("L1").collection_stage, "litigation");
  chain.Advance(1);
  EXPECT_EQ(chain.GetLoan("L1").collection_stage, "litigation");
  // A cure is the only way back.
  l = chain.GetLoan("L1");
  ASSERT_TRUE(chain.Repay("L1", OverdueThrough(l, chain.Today(), 4)).accepted);
  EXPECT_EQ(chain.GetLoan("L1").collection_stage, "none");
  std::vector<std::string> path;
  for (const json& e : Events(chain, "L1", "COLLECTION_ROUTED")) {
    path.push_back(e.at("from").get<std::string>() + ">" + e.at("to").get<std::string>());
  }
  EXPECT_EQ(path, (std::vector<std::string>{"none>ai", "ai>outsourced", "outsourced>litigation", "litigation>none"}));
}

// Path 1 of litigation: 90 days with the outsourced agency (litigation_after_days), at due + 95
// when the agency took the loan at due + 5, long before DPD 181; and not a day earlier. Then the
// write-off and the exact split of a recovery.
TEST(LendingCollection, LitigationAfterOutsourcedAndWriteOffNeedsLoss) {
  Chain chain;
  std::string b = chain.Admit("lit");
  chain.Originate("L1", b, 4000000, 5);
  const Loan start = chain.GetLoan("L1");
  const std::int64_t due = start.installments[0].due_day;
  const std::int64_t p1 = start.installments[0].principal_fen, i1 = start.installments[0].interest_fen;
  ASSERT_EQ(p1, 836357 - 60000);  // A = 836,357 fen (r = 3/200), interest 4,000,000 × 3/200
  ASSERT_EQ(i1, 60000);
  chain.AdvanceTo(due + 5);
  EXPECT_EQ(chain.Send("lead-bank", "loan.writeoff", {{"loan", "L1"}}).code, "class-too-high");
  EXPECT_TRUE(chain.Send("lead-bank", "collection.outcome", {{"loan", "L1"}, {"ptp-broken", "2"}, {"no-contact-days", "0"}}).accepted);
  EXPECT_EQ(chain.GetLoan("L1").collection_stage, "outsourced");
  // A payment of the penalty so far and 7 fen of interest (both streams start here): penalty
  // from due + 1 to due + 5 (4 days) at ρ = 24 %/365 = 6/9125 on principal and on interest.
  const std::int64_t pen1 = Rhu(static_cast<__int128>(p1) * 6 * 4, 9125) + Rhu(static_cast<__int128>(i1) * 6 * 4, 9125);
  Receipt first = chain.Repay("L1", pen1 + 7);
  ASSERT_TRUE(first.accepted) << first.message;
  EXPECT_EQ(first.outputs.at("allocated.penalty-fen"), std::to_string(pen1));
  EXPECT_EQ(first.outputs.at("lender.partner-bank.interest-fen"), "5");  // ⌊7 × 0.8⌋
  EXPECT_EQ(first.outputs.at("lender.lead-bank.interest-fen"), "2");
  chain.AdvanceTo(due + 94);
  EXPECT_EQ(chain.GetLoan("L1").collection_stage, "outsourced");
  chain.Advance(1);
  EXPECT_EQ(chain.GetLoan("L1").collection_stage, "litigation");
  std::vector<json> routed = Events(chain, "L1", "COLLECTION_ROUTED");
  ASSERT_FALSE(routed.empty());
  EXPECT_EQ(routed.back().at("to"), "litigation");
  EXPECT_EQ(routed.back().at("dpd"), 95);
  EXPECT_EQ(routed.back().at("agency"), "lawfirm-arbitration-1");
  chain.AdvanceTo(due + 361);
  EXPECT_EQ(chain.GetLoan("L1").lenders[1].classification, LoanClass::kLoss);
  EXPECT_TRUE(chain.Send("partner-bank", "loan.writeoff", {{"loan", "L1"}}).accepted);
  EXPECT_EQ(chain.GetLoan("L1").status, "active");  // one share written off
  EXPECT_TRUE(chain.Send("lead-bank", "loan.writeoff", {{"loan", "L1"}}).accepted);
  EXPECT_EQ(chain.GetLoan("L1").status, "written-off");
  // A recovery: installment 1's penalty since the last payment (356 days on 776,357 principal
  // and 59,993 interest), then 1,003 fen of its interest. Each component follows its cumulative
  // 20/80 stream (§2.7): the partner's total is ⌊stream × 0.8⌋, the lead takes the rest.
  const std::int64_t days = (due + 361) - (due + 5);
  const std::int64_t pen2 = Rhu(static_cast<__int128>(p1) * 6 * days, 9125) + Rhu(static_cast<__int128>(i1 - 7) * 6 * days, 9125);
  Receipt rec = chain.Repay("L1", pen2 + 1003);
  ASSERT_TRUE(rec.accepted) << rec.message;
  EXPECT_EQ(rec.outputs.at("allocated.penalty-fen"), std::to_string(pen2));
  EXPECT_EQ(rec.outputs.at("allocated.interest-fen"), "1003");
  EXPECT_EQ(rec.outputs.at("allocated.principal-fen"), "0");
  const std::int64_t partner_pen = (pen1 + pen2) * 8000 / 10000 - pen1 * 8000 / 10000;
  EXPECT_EQ(rec.outputs.at("lender.partner-bank.penalty-fen"), std::to_string(partner_pen));
  EXPECT_EQ(rec.outputs.at("lender.lead-bank.penalty-fen"), std::to_string(pen2 - partner_pen));
  // Interest: the stream goes from 7 to 1,010: partner ⌊808⌋ − 5 = 803, lead 200 (a split of the
  // 1,003 fen on its own would give 802 / 201).
  EXPECT_EQ(rec.outputs.at("lender.partner-bank.interest-fen"), "803");
  EXPECT_EQ(rec.outputs.at("lender.lead-bank.interest-fen"), "200");
  const Loan l = chain.GetLoan("L1");
  EXPECT_EQ(l.status, "written-off");
  EXPECT_EQ(l.lenders[0].interest_repaid_fen, 202);
  EXPECT_EQ(l.lenders[1].interest_repaid_fen, 808);
  EXPECT_EQ(l.lenders[1].penalty_repaid_fen, (pen1 + pen2) * 8000 / 10000);
  EXPECT_EQ(l.lenders[0].penalty_repaid_fen, pen1 + pen2 - (pen1 + pen2) * 8000 / 10000);
  EXPECT_EQ(l.received_fen, pen1 + 7 + pen2 + 1003);
}

// Path 2 of litigation: more than litigation_min_dpd (180) days past due, with fewer than
// litigation_after_days in the outsourced stage: at due + 181 and not at due + 180. Governance
// sets litigation_after_days to 120 (an operational term: 3 of 5) so that the two paths do not
// fall on the same day (outsourced at DPD 91 + 90 days = DPD 181 by default).
TEST(LendingCollection, LitigationAfterMoreThan180DaysPastDue) {
  Chain chain;
  std::string b = chain.Admit("lit-dpd");
  chain.Originate("L1", b, 4000000, 5);
  const std::int64_t due = chain.GetLoan("L1").installments[0].due_day;
  ASSERT_TRUE(chain.Send("lead-bank", "param.propose", {{"proposal", "lit120"}, {"changes", R"({"litigation_after_days":120})"}, {"effective-date", FormatDate(chain.Today() + 1)}}).accepted);
  ASSERT_TRUE(chain.Send("partner-bank", "param.approve", {{"proposal", "lit120"}}).accepted);
  ASSERT_EQ(chain.Send("payee-bank", "param.approve", {{"proposal", "lit120"}}).outputs.at("proposal-status"), "approved");
  chain.AdvanceTo(due + 90);
  EXPECT_EQ(chain.GetLoan("L1").collection_stage, "ai");
  chain.Advance(1);
  EXPECT_EQ(chain.GetLoan("L1").collection_stage, "outsourced");  // DPD 91 > 90
  chain.AdvanceTo(due + 180);
  EXPECT_EQ(chain.GetLoan("L1").collection_stage, "outsourced");  // DPD 180, 89 days outsourced
  chain.Advance(1);
  EXPECT_EQ(chain.GetLoan("L1").collection_stage, "litigation");
  std::vector<json> routed = Events(chain, "L1", "COLLECTION_ROUTED");
  ASSERT_FALSE(routed.empty());
  EXPECT_EQ(routed.back().at("to"), "litigation");
  EXPECT_EQ(routed.back().at("dpd"), 181);
}

// R-POST-05: the AI collector's broken promises and no-contact days belong to one overdue
// episode. A borrower who cured and later missed again went straight to outsourced collection.
TEST(LendingCollection, ACureResetsTheAiCollectionOutcome) {
  Chain chain;
  std::string b = chain.Admit("cure-resets");
  chain.Originate("L1", b, 1000000, 5);
  const Loan l = chain.GetLoan("L1");
  chain.AdvanceTo(l.installments[0].due_day + 1);
  ASSERT_TRUE(chain.Send("lead-bank", "collection.outcome", {{"loan", "L1"}, {"ptp-broken", "2"}, {"no-contact-days", "2"}}).accepted);
  EXPECT_EQ(chain.GetLoan("L1").collection_stage, "outsourced");
  const Loan due = chain.GetLoan("L1");
  ASSERT_TRUE(chain.Repay("L1", due.installments[0].PrincipalDue() + due.installments[0].InterestDue() +
                                    due.PenaltyDue(due.installments[0], chain.Today())).accepted);
  Loan cured = chain.GetLoan("L1");
  EXPECT_EQ(cured.collection_stage, "none");
  EXPECT_EQ(cured.ptp_broken, 0);
  EXPECT_EQ(cured.no_contact_days, 0);
  // Missed again: AI collection first, not straight back to the outsourced agency.
  chain.AdvanceTo(l.installments[1].due_day + 1);
  EXPECT_EQ(chain.GetLoan("L1").collection_stage, "ai");
}

}  // namespace
}  // namespace colend::contracts
