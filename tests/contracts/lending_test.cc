// The co-lending contracts, driven through the executor exactly as a block would run them: roles,
// the rules' pass/reject/edge cases (docs/lending-rules.md §4-§9) and money conservation over
// random loan lifecycles (lending_conservation_test.cc); collection and classification in
// lending_collection_test.cc.
#include <gtest/gtest.h>

#include <cstring>

#include "contracts/contract.h"
#include "contracts/lending/lending.h"
#include "contracts/lending/loan_model.h"
#include "contracts/lending/money.h"
#include "genesis/genesis.h"
#include "tests/contracts/test_chain.h"

namespace colend::contracts {
namespace {

using namespace colend::contracts::testing;  // NOLINT: the test chain

// Every write of a rejected transaction is its receipt and, when it was about an existing loan,
// its place in that loan's record chain (a refused step is evidence too): nothing else changed.
void ExpectOnlyReceipt(const Chain& chain) {
  for (const auto& [key, value] : chain.last_writes()) {
    EXPECT_TRUE(key.starts_with("tx/") || key.starts_with("loan-record/") ||
                key.starts_with("loan-records/"))
        << key;
  }
}

TEST(LendingRoles, WrongRoleIsNotPermittedAndChangesNothing) {
  Chain chain;
  std::string b = chain.Admit("roles");
  struct Case {
    const char* sender;
    const char* type;
  } cases[] = {{"partner-bank", "loan.draw"}, {"lead-bank", "loan.approve"},
               {"payee-bank", "loan.fund"}, {"lead-bank", "loan.repay"},
               {"credit-bureau", "borrower.admit"}, {"lead-bank", "bureau.snapshot"},
               {"arbitration", "loan.settle"}, {"payee-bank", "param.propose"},
               {"credit-bureau", "bank.figures"},
               {"partner-bank", "auth.result"}, {"credit-bureau", "loan.writeoff"}};
  for (const Case& c : cases) {
    crypto::Hash256 before = chain.tree().Root();
    Receipt r = chain.Send(c.sender, c.type, chain.Draw("L1", b, 4000000));
    EXPECT_FALSE(r.accepted) << c.type;
    EXPECT_EQ(r.code, "not-permitted") << c.sender << " " << c.type;
    ExpectOnlyReceipt(chain);
    (void)before;
  }
  EXPECT_FALSE(chain.tree().Get("loan/L1").has_value());
  EXPECT_EQ(chain.Borrower(b)["used_fen"], 0);
}

TEST(LendingDrawdown, SingleCapEdgeAndLimit) {
  Chain chain;
  std::string b = chain.Admit("cap");
  Receipt over = chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 4000001));
  EXPECT_EQ(over.code, "amount-above-single-cap");
  EXPECT_EQ(over.rule, "R-IN-02");
  ExpectOnlyReceipt(chain);
  Receipt unit = chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 3999999));
  EXPECT_EQ(unit.code, "amount-not-whole-unit");
  Receipt small = chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 9900 + 0));
  EXPECT_EQ(small.code, "amount-below-minimum");
  Receipt term = chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 4000000, 12));
  EXPECT_EQ(term.code, "term-not-offered");
  EXPECT_EQ(chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 4000000)).code, "auth-required");
  chain.Auth(b);
  Receipt ok = chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 4000000));
  EXPECT_TRUE(ok.accepted) << ok.message;
  EXPECT_EQ(ok.outputs.at("lead-leg-fen"), "800000");
  EXPECT_EQ(ok.outputs.at("partner-leg-fen"), "3200000");
  EXPECT_EQ(ok.outputs.at("param-version"), "1");
  EXPECT_EQ(ok.outputs.at("inputs-sha256").size(), 64u);
  // Score 720 gives a 100,000 CNY limit: two more 40,000 draws fit (40k+40k+20k), not a third.
  chain.Auth(b);
  EXPECT_TRUE(chain.Send("lead-bank", "loan.draw", chain.Draw("L2", b, 4000000)).accepted);
  chain.Auth(b);
  EXPECT_TRUE(chain.Send("lead-bank", "loan.draw", chain.Draw("L3", b, 2000000)).accepted);
  Receipt limit = chain.Send("lead-bank", "loan.draw", chain.Draw("L4", b, 10000));
  EXPECT_EQ(limit.code, "limit-exceeded");
}

TEST(LendingDrawdown, CoLendingConcentrationCapsFromAttestedFigures) {
  Chain chain("cn-2022", true, /*bank_figures=*/false);
  std::string b = chain.Admit("caps");
  chain.Auth(b);
  Receipt r = chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 4000000));
  EXPECT_EQ(r.code, "bank-figures-missing");
  ExpectOnlyReceipt(chain);
  std::string until = FormatDate(chain.Today() + 90);
  ASSERT_TRUE(chain.Send("lead-bank", "bank.figures", {{"tier1-capital-fen", "100000000000"}, {"total-loans-fen", "1000000000000"}, {"valid-until", until}}).accepted);
  // The partner funds 70 % = 28,000.00 CNY; 25 % of a Tier-1 capital of 100,000.00 CNY is 25,000.00.
  ASSERT_TRUE(chain.Send("partner-bank", "bank.figures", {{"tier1-capital-fen", "10000000"}, {"total-loans-fen", "1000000000000"}, {"valid-until", until}}).accepted);
  r = chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 4000000));
  EXPECT_EQ(r.code, "colend-cap-exceeded");
  EXPECT_NE(r.message.find("partner-bank"), std::string::npos) << r.message;
  // 35,000.00 CNY: partner leg 24,500.00 fits; a second one would not (the balance counts).
  chain.Auth(b);
  EXPECT_TRUE(chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 3500000)).accepted);
  chain.Auth(b);
  EXPECT_EQ(chain.Send("lead-bank", "loan.draw", chain.Draw("L2", b, 100000)).code, "colend-cap-exceeded");
  // Total co-funded loans ≤ 50 % of the bank's total loans.
  ASSERT_TRUE(chain.Send("partner-bank", "bank.figures", {{"tier1-capital-fen", "100000000000"}, {"total-loans-fen", "5000000"}, {"valid-until", until}}).accepted);
  EXPECT_EQ(chain.Send("lead-bank", "loan.draw", chain.Draw("L2", b, 100000)).code, "colend-cap-exceeded");
  // Figures expire: the allocation becomes pending again.
  chain.Advance(91);
  EXPECT_EQ(chain.Send("lead-bank", "loan.draw", chain.Draw("L3", b, 100000)).code, "bank-figures-missing");
}

TEST(LendingDrawdown, ProtectionLevelNeedsAttestedVerification) {
  Chain chain;
  std::string b = chain.Admit("auth");
  Fields d = chain.Draw("L1", b, 1000000);
  d["phone-changed"] = "yes";
  Receipt r = chain.Send("lead-bank", "loan.draw", d);
  EXPECT_EQ(r.code, "auth-required");
  EXPECT_EQ(r.outputs.at("protection-level"), "face");
  EXPECT_TRUE(chain.Send("lead-bank", "auth.result", {{"borrower", b}, {"level", "sms"}, {"result", "pass"}, {"ref", "x"}}).accepted);
  EXPECT_EQ(chain.Send("lead-bank", "loan.draw", d).code, "auth-required");  // sms < face
  EXPECT_TRUE(chain.Send("lead-bank", "auth.result", {{"borrower", b}, {"level", "face"}, {"result", "pass"}, {"ref", "y"}}).accepted);
  EXPECT_TRUE(chain.Send("lead-bank", "loan.draw", d).accepted);
  d["loan"] = "L2";  // one verification, one drawdown
  EXPECT_EQ(chain.Send("lead-bank", "loan.draw", d).code, "auth-required");
  // No deviation but a high amount: at least SMS.
  Receipt high = chain.Send("lead-bank", "loan.draw", chain.Draw("L3", b, 2000000));
  EXPECT_EQ(high.outputs.at("protection-level"), "sms");
  // Three failures lock the account.
  for (int i = 0; i < 3; ++i) chain.Send("lead-bank", "auth.result", {{"borrower", b}, {"level", "sms"}, {"result", "fail"}, {"ref", "z"}});
  EXPECT_EQ(chain.Send("lead-bank", "loan.draw", chain.Draw("L4", b, 10000)).code, "account-locked");
}

TEST(LendingAdmission, WhitelistMultiLenderAndConsent) {
  Chain chain;
  std::string b = crypto::ToHex(crypto::Sha256("b"));
  std::string today = FormatDate(chain.Today());
  Fields admit = {{"borrower", b}, {"score", "600"}, {"model", "wb-risk-2026.1"}, {"age-band", "30-34"},
                  {"kyc-level", "3"}, {"kyc-date", today}, {"consent-date", today},
                  {"consent-credit-query", "yes"}, {"consent-colending", "yes"}};
  EXPECT_EQ(chain.Send("lead-bank", "borrower.admit", admit).code, "bureau-snapshot-missing");
  Fields snap = {{"borrower", b}, {"institutions", "3"}, {"outstanding-fen", "1000000"},
                 {"limits-fen", "5000000"}, {"overdue-count", "1"}, {"queries-90d", "2"},
                 {"valid-until", FormatDate(chain.Today() + 30)}};
  EXPECT_TRUE(chain.Send("credit-bureau", "bureau.snapshot", snap).accepted);
  Receipt multi = chain.Send("lead-bank", "borrower.admit", admit);
  EXPECT_EQ(multi.code, "multi-lender-rejected");
  EXPECT_EQ(multi.rule, "R-PRE-02");
  snap["overdue-count"] = "0";
  EXPECT_TRUE(chain.Send("credit-bureau", "bureau.snapshot", snap).accepted);
  admit["score"] = "599";
  EXPECT_EQ(chain.Send("lead-bank", "borrower.admit", admit).code, "score-below-threshold");
  admit["score"] = "600";
  admit["consent-colending"] = "no";
  EXPECT_EQ(chain.Send("lead-bank", "borrower.admit", admit).code, "consent-missing");
  admit["consent-colending"] = "yes";
  admit["borrower"] = "Zhang San 110101199001011234";
  EXPECT_EQ(chain.Send("lead-bank", "borrower.admit", admit).code, "invalid-field");
  admit["borrower"] = b;
  Receipt ok = chain.Send("lead-bank", "borrower.admit", admit);
  ASSERT_TRUE(ok.accepted) << ok.message;
  EXPECT_EQ(ok.outputs.at("multi-lender"), "flagged");
  EXPECT_EQ(ok.outputs.at("limit-fen"), "1400000");  // 20,000 CNY band less the 30 % haircut
  // A snapshot that is too old makes the decision pending, never a guess.
  chain.Advance(31);
  EXPECT_EQ(chain.Send("lead-bank", "borrower.admit", admit).code, "bureau-snapshot-stale");
  // A major account change blocks drawdowns until re-admission (R-PRE-05).
  EXPECT_TRUE(chain.Send("payee-bank", "borrower.change", {{"borrower", b}, {"change", "phone"}}).accepted);
  EXPECT_EQ(chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 10000)).code, "review-pending");
}

TEST(LendingSchedule, ContractReproducesWorkedExample2AndSettlementQuote) {
  Chain chain;
  std::string b = chain.Admit("ex2");
  chain.Originate("L1", b, 4000000);
  Loan loan = chain.GetLoan("L1");
  ASSERT_EQ(loan.installments.size(), 20u);
  EXPECT_EQ(loan.installments[0].principal_fen, 172983);
  EXPECT_EQ(loan.installments[0].interest_fen, 60000);
  EXPECT_EQ(loan.installments[19].principal_fen, 229537);
  EXPECT_EQ(loan.installments[19].interest_fen, 3443);
  EXPECT_EQ(loan.installments[0].due_day, DaysFromCivil(2026, 12, 28));
  EXPECT_EQ(loan.installments[2].due_day, DaysFromCivil(2027, 2, 28));
  for (int k = 0; k < 4; ++k) {
    chain.AdvanceTo(loan.installments[k].due_day);
    Receipt r = chain.Repay("L1", 232983);
    ASSERT_TRUE(r.accepted) << r.message;
    EXPECT_EQ(r.outputs.at("credit-held-fen"), "0");
  }
  // docs/lending-rules.md §2.8 example, 10 days into period 5: 3,292,343 + 16,462 = 3,308,805.
  chain.AdvanceTo(loan.installments[3].due_day + 10);
  Loan now = chain.GetLoan("L1");
  EXPECT_EQ(now.SettlementQuote(chain.Today()), 3308805);
  EXPECT_EQ(chain.Send("payee-bank", "loan.settle", {{"loan", "L1"}, {"amount-fen", "3308804"}}).code, "settlement-amount-mismatch");
  Receipt s = chain.Send("payee-bank", "loan.settle", {{"loan", "L1"}, {"amount-fen", "3308805"}});
  ASSERT_TRUE(s.accepted) << s.message;
  EXPECT_EQ(s.outputs.at("lender.lead-bank.principal-fen"), "658468");
  EXPECT_EQ(s.outputs.at("lender.partner-bank.principal-fen"), "2633875");
  EXPECT_EQ(s.outputs.at("lender.lead-bank.interest-fen"), "3293");
  EXPECT_EQ(s.outputs.at("lender.partner-bank.interest-fen"), "13169");
  Loan done = chain.GetLoan("L1");
  EXPECT_EQ(done.status, "closed");
  EXPECT_EQ(done.lenders[0].principal_repaid_fen, 800000);
  EXPECT_EQ(done.lenders[1].principal_repaid_fen, 3200000);
  EXPECT_EQ(done.lenders[0].interest_repaid_fen + done.lenders[1].interest_repaid_fen, 240737);
  EXPECT_EQ(chain.Borrower(b)["used_fen"], 0);  // limit restored
}

TEST(LendingOverdue, GraceDayMeansNoPenaltyAndNoReport) {
  Chain chain;
  std::string b = chain.Admit("grace");
  chain.Originate("L1", b, 4000000);
  std::int64_t due = chain.GetLoan("L1").installments[0].due_day;
  chain.AdvanceTo(due + 1);  // the grace day
  Loan l = chain.GetLoan("L1");
  EXPECT_EQ(l.Dpd(chain.Today()), 1);
  EXPECT_GT(l.installments[0].reminder_day, 0);
  EXPECT_EQ(l.PenaltyDue(l.installments[0], chain.Today()), 0);
  EXPECT_EQ(l.lenders[0].classification, LoanClass::kSpecialMention);
  EXPECT_EQ(l.collection_stage, "ai");
  Receipt r = chain.Repay("L1", 232983);  // paid within grace: exactly the installment
  ASSERT_TRUE(r.accepted) << r.message;
  EXPECT_EQ(r.outputs.at("allocated.penalty-fen"), "0");
  l = chain.GetLoan("L1");
  EXPECT_FALSE(l.lenders[0].reported);
  EXPECT_EQ(l.collection_stage, "none");
  EXPECT_EQ(l.lenders[0].classification, LoanClass::kNormal);
  EXPECT_FALSE(chain.tree().Get("credit-report/L1/lead-bank").has_value());
}

TEST(LendingOverdue, AfterGracePenaltyAtCappedRateAndBureauReport) {
  Chain chain;
  std::string b = chain.Admit("late");
  chain.Originate("L1", b, 4000000);
  std::int64_t due = chain.GetLoan("L1").installments[0].due_day;
  chain.AdvanceTo(due + 2);
  Loan l = chain.GetLoan("L1");
  EXPECT_TRUE(l.lenders[0].reported);
  EXPECT_TRUE(l.lenders[1].reported);
  auto report = json::parse(*chain.tree().Get("credit-report/L1/partner-bank"));
  EXPECT_EQ(report["dpd"], 2);
  // Overdue rate: min(0.05 % × 1.5, 24 % / 365) = 24 %/365 = 6/9125: the cap wins.
  EXPECT_EQ(l.terms.overdue_daily_rate, Rational::Of(6, 9125));
  // docs/lending-rules.md §2.9 example, capped: 10 days on OP 172,983 and OI 60,000 → 1,137 + 395.
  chain.AdvanceTo(due + 11);
  l = chain.GetLoan("L1");
  EXPECT_EQ(l.PenaltyDue(l.installments[0], chain.Today()), 1137 + 395);
  Receipt r = chain.Repay("L1", 232983 + 1532);
  ASSERT_TRUE(r.accepted) << r.message;
  EXPECT_EQ(r.outputs.at("allocated.penalty-fen"), "1532");
  EXPECT_EQ(r.outputs.at("lender.lead-bank.penalty-fen"), "307");  // cumulative floor: partner 1225
  l = chain.GetLoan("L1");
  EXPECT_EQ(l.Dpd(chain.Today()), 0);
  EXPECT_FALSE(l.lenders[0].reported);  // report updated when cured
}

TEST(LendingOverdue, PenaltyBelowCapUsesTheMultiplier) {
  Chain chain;
  std::string b = chain.Admit("cheap");
  chain.Originate("L1", b, 1000000, 5, {{"daily-rate-num", "3"}, {"daily-rate-den", "10000"}});
  EXPECT_EQ(chain.GetLoan("L1").terms.overdue_daily_rate, Rational::Of(9, 20000));
}

TEST(LendingLoanUse, VirtualAccountAllowsMerchantsOnly) {
  Chain chain;
  std::string b = chain.Admit("va");
  chain.Originate("L1", b, 1000000, 5);
  auto spend = [&](const char* cp, const char* mcc, const char* channel, std::int64_t fen) {
    return chain.Send("payee-bank", "va.spend", {{"loan", "L1"}, {"amount-fen", std::to_string(fen)}, {"counterparty", cp}, {"mcc", mcc}, {"channel", channel}});
  };
  EXPECT_TRUE(spend("merchant", "5411", "pos", 300000).accepted);
  EXPECT_EQ(spend("merchant", "6211", "online", 1000).code, "use-blocked");   // securities
  EXPECT_EQ(spend("merchant", "7995", "online", 1000).code, "use-blocked");   // gambling
  EXPECT_EQ(spend("individual", "5411", "pos", 1000).code, "use-blocked");
  EXPECT_EQ(spend("self", "5411", "transfer", 1000).code, "use-blocked");
  EXPECT_EQ(spend("merchant", "5411", "cash", 1000).code, "use-blocked");
  EXPECT_EQ(spend("merchant", "5411", "pos", 700001).code, "insufficient-balance");
  EXPECT_EQ(chain.GetLoan("L1").va_balance_fen, 700000);
}

TEST(LendingFunding, WrongLegAndTimeoutReverse) {
  Chain chain;
  std::string b = chain.Admit("fund");
  ASSERT_TRUE(chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 1000000, 5)).accepted);
  EXPECT_EQ(chain.Send("lead-bank", "loan.fund", {{"loan", "L1"}, {"amount-fen", "200000"}, {"ref", "x"}}).code, "wrong-state");
  ASSERT_TRUE(chain.Send("partner-bank", "loan.approve", {{"loan", "L1"}, {"decision", "approve"}, {"approval-sha256", std::string(64, 'b')}, {"model", "p"}}).accepted);
  EXPECT_EQ(chain.Send("lead-bank", "loan.fund", {{"loan", "L1"}, {"amount-fen", "200001"}, {"ref", "x"}}).code, "wrong-leg-amount");
  EXPECT_TRUE(chain.Send("lead-bank", "loan.fund", {{"loan", "L1"}, {"amount-fen", "200000"}, {"ref", "x"}}).accepted);
  EXPECT_EQ(chain.Send("payee-bank", "loan.payout", {{"loan", "L1"}, {"amount-fen", "1000000"}, {"account", "v"}}).code, "wrong-state");
  chain.AddMs(61 * 60 * 1000);
  Receipt late = chain.Send("partner-bank", "loan.fund", {{"loan", "L1"}, {"amount-fen", "800000"}, {"ref", "y"}});
  EXPECT_FALSE(late.accepted);
  EXPECT_EQ(late.code, "funding-expired");
  // The late leg is refused and the loan reversed at once, not at the next daily pass.
  EXPECT_EQ(chain.GetLoan("L1").status, "cancelled");
  EXPECT_EQ(chain.Borrower(b)["used_fen"], 0);
  EXPECT_FALSE(chain.GetLoan("L1").lenders[1].funding_confirmed) << "the late leg is not taken";
  bool reversed = false;
  for (const auto& [key, value] : chain.tree().Scan("loan-event/L1/", 100)) {
    reversed |= value.find("FUNDING_REVERSED") != std::string::npos && value.find("lead-bank") != std::string::npos;
  }
  EXPECT_TRUE(reversed) << "the lead bank's confirmed leg is reversed";
  chain.Advance(1);
  EXPECT_EQ(chain.GetLoan("L1").status, "cancelled");
}

// The partner's answer after the funding window is not taken: the loan is cancelled then and its
// limit released, not left "funding" until a leg or the next daily pass finds it (§6.3).
TEST(LendingFunding, AnApprovalAfterTheFundingWindowCancelsTheLoan) {
  Chain chain;
  std::string b = chain.Admit("late-approve");
  ASSERT_TRUE(chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 1000000, 5)).accepted);
  const Fields approve = {{"loan", "L1"}, {"decision", "approve"}, {"approval-sha256", std::string(64, 'b')}, {"model", "p"}};
  chain.AddMs(60 * 60 * 1000 - 1000);  // within the 60 minutes (the block comes 1 s later)
  Chain twin;  // the same, answered in time, is taken
  std::string tb = twin.Admit("late-approve");
  ASSERT_TRUE(twin.Send("lead-bank", "loan.draw", twin.Draw("L1", tb, 1000000, 5)).accepted);
  twin.AddMs(60 * 60 * 1000 - 1000);
  Receipt in_time = twin.Send("partner-bank", "loan.approve", approve);
  EXPECT_TRUE(in_time.accepted) << in_time.message;
  chain.AddMs(2 * 60 * 1000);
  Receipt late = chain.Send("partner-bank", "loan.approve", approve);
  EXPECT_FALSE(late.accepted);
  EXPECT_EQ(late.code, "funding-expired") << late.message;
  EXPECT_EQ(chain.GetLoan("L1").status, "cancelled");
  EXPECT_EQ(chain.Borrower(b)["used_fen"], 0);
}

// A loan funded by both banks but never paid out used to stay "funded" for ever, its limit used.
// It is cancelled, both legs reversed, at the end of the business day after its funding; a late
// payout is refused and reverses it at once.
TEST(LendingFunding, AFundedLoanNeverPaidOutTimesOut) {
  Chain chain;
  std::string b = chain.Admit("no-payout");
  for (const char* id : {"L1", "L2"}) {
    chain.Auth(b);
    ASSERT_TRUE(chain.Send("lead-bank", "loan.draw", chain.Draw(id, b, 1000000, 5)).accepted);
    ASSERT_TRUE(chain.Send("partner-bank", "loan.approve", {{"loan", id}, {"decision", "approve"}, {"approval-sha256", std::string(64, 'b')}, {"model", "p"}}).accepted);
    ASSERT_TRUE(chain.Send("lead-bank", "loan.fund", {{"loan", id}, {"amount-fen", "200000"}, {"ref", "x"}}).accepted);
    ASSERT_TRUE(chain.Send("partner-bank", "loan.fund", {{"loan", id}, {"amount-fen", "800000"}, {"ref", "y"}}).accepted);
    EXPECT_EQ(chain.GetLoan(id).status, "funded");
  }
  chain.Advance(1);  // the next business day: still time to pay out
  EXPECT_EQ(chain.GetLoan("L1").status, "funded");
  chain.Advance(1);
  EXPECT_EQ(chain.GetLoan("L1").status, "cancelled");
  EXPECT_EQ(chain.GetLoan("L2").status, "cancelled");
  EXPECT_EQ(chain.Borrower(b)["used_fen"], 0);
  Receipt r = chain.Send("payee-bank", "loan.payout", {{"loan", "L1"}, {"amount-fen", "1000000"}, {"account", "v"}});
  EXPECT_EQ(r.code, "wrong-state");
}

TEST(LendingFunding, ALatePayoutIsRefusedAndReversesTheLoanAtOnce) {
  Chain chain;
  std::string b = chain.Admit("late-payout");
  chain.Auth(b);
  ASSERT_TRUE(chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 1000000, 5)).accepted);
  ASSERT_TRUE(chain.Send("partner-bank", "loan.approve", {{"loan", "L1"}, {"decision", "approve"}, {"approval-sha256", std::string(64, 'b')}, {"model", "p"}}).accepted);
  ASSERT_TRUE(chain.Send("lead-bank", "loan.fund", {{"loan", "L1"}, {"amount-fen", "200000"}, {"ref", "x"}}).accepted);
  ASSERT_TRUE(chain.Send("partner-bank", "loan.fund", {{"loan", "L1"}, {"amount-fen", "800000"}, {"ref", "y"}}).accepted);
  // Two business days later, with no daily pass in between (the tick's transaction not yet in).
  json state_day = std::to_string(chain.Today() + 2);
  chain.tree().Apply({{"clock/business-day", state_day.get<std::string>()}});
  Receipt r = chain.Send("payee-bank", "loan.payout", {{"loan", "L1"}, {"amount-fen", "1000000"}, {"account", "v"}});
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.code, "payout-expired") << r.message;
  EXPECT_EQ(chain.GetLoan("L1").status, "cancelled");
  EXPECT_EQ(chain.Borrower(b)["used_fen"], 0);
}

TEST(LendingClock, AdvanceOnlyOnDevelopmentGenesis) {
  Chain prod("case-study", /*dev_clock=*/false, /*bank_figures=*/false);
  Receipt r = prod.Send("lead-bank", "clock.advance", {{"days", "1"}});
  EXPECT_EQ(r.code, "dev-clock-disabled");
  ExpectOnlyReceipt(prod);
  // The tick follows the block's Shanghai date.
  EXPECT_EQ(prod.Send("lead-bank", "clock.tick", {}).code, "clock-current");
  prod.AddMs(86400000);
  Receipt t = prod.Send("arbitration", "clock.tick", {});
  EXPECT_TRUE(t.accepted) << t.message;
  EXPECT_EQ(prod.Today(), kStartDay + 1);
}

TEST(LendingGovernance, MajorityEveryLenderForMoneyBoundsAndFrozenTerms) {
  Chain chain;
  std::string b = chain.Admit("gov");
  chain.Originate("L1", b, 1000000, 5);  // grace 1 frozen into L1
  std::string eff = FormatDate(chain.Today() + 2);
  EXPECT_EQ(chain.Send("lead-bank", "param.propose", {{"proposal", "P0"}, {"changes", R"({"substandard_dpd":{"lead_bank":91,"partner_bank":60}})"}, {"effective-date", eff}}).code, "out-of-bounds");
  EXPECT_EQ(chain.Send("lead-bank", "param.propose", {{"proposal", "P0"}, {"changes", R"({"grace_days":2})"}, {"effective-date", FormatDate(chain.Today())}}).code, "effective-date-not-future");
  // An operational parameter: a majority (3 of 5) is enough.
  ASSERT_TRUE(chain.Send("lead-bank", "param.propose", {{"proposal", "P0"}, {"changes", R"({"report_delay_hours":48})"}, {"effective-date", eff}}).accepted);
  EXPECT_EQ(chain.Send("payee-bank", "param.approve", {{"proposal", "P0"}}).outputs.at("proposal-status"), "proposed");
  EXPECT_EQ(chain.Send("credit-bureau", "param.approve", {{"proposal", "P0"}}).outputs.at("proposal-status"), "approved");
  // grace_days changes what the borrower pays: a money term (it used to pass as operational).
  ASSERT_TRUE(chain.Send("lead-bank", "param.propose", {{"proposal", "P1"}, {"changes", R"({"grace_days":2})"}, {"effective-date", eff}}).accepted);
  Receipt a1 = chain.Send("payee-bank", "param.approve", {{"proposal", "P1"}});
  EXPECT_EQ(a1.outputs.at("proposal-status"), "proposed");
  Receipt a2 = chain.Send("credit-bureau", "param.approve", {{"proposal", "P1"}});
  EXPECT_EQ(a2.outputs.at("proposal-status"), "proposed");  // 3 of 5, but not the partner bank
  EXPECT_EQ(chain.Send("partner-bank", "param.approve", {{"proposal", "P1"}}).outputs.at("proposal-status"), "approved");
  // A money term also needs every lending bank.
  ASSERT_TRUE(chain.Send("lead-bank", "param.propose", {{"proposal", "P2"}, {"changes", R"({"default_daily_rate":{"num":4,"den":10000}})"}, {"effective-date", eff}}).accepted);
  chain.Send("payee-bank", "param.approve", {{"proposal", "P2"}});
  Receipt m = chain.Send("arbitration", "param.approve", {{"proposal", "P2"}});
  EXPECT_EQ(m.outputs.at("proposal-status"), "proposed");
  EXPECT_EQ(chain.Send("partner-bank", "param.approve", {{"proposal", "P2"}}).outputs.at("proposal-status"), "approved");
  Receipt advance = chain.Send("lead-bank", "clock.advance", {{"days", "2"}});
  ASSERT_TRUE(advance.accepted) << advance.message;
  // The clock transaction that activated versions 2-4 ran the day's rules under 4: its receipt
  // says so, not the version in force when it began.
  EXPECT_EQ(advance.outputs.at("param-version"), "4");
  json params = CurrentParameters(chain.tree());
  EXPECT_EQ(params["version"], 4);
  EXPECT_EQ(params["grace_days"], 2);
  EXPECT_EQ(chain.GetLoan("L1").terms.grace_days, 1);  // frozen at drawdown
  chain.Originate("L2", b, 1000000, 5);
  EXPECT_EQ(chain.GetLoan("L2").terms.grace_days, 2);
  EXPECT_EQ(chain.GetLoan("L2").terms.daily_rate, Rational::Of(4, 10000));
  EXPECT_EQ(chain.GetLoan("L2").terms.param_version, 4);
}

// R-GOV-01: the money terms are a list, not a substring of the name; every one of these used to
// change with a majority that did not include the partner bank.
TEST(LendingGovernance, EveryMoneyTermNeedsEveryLendingBank) {
  Chain chain;
  const std::string eff = FormatDate(chain.Today() + 2);
  int n = 0;
  for (const char* change : {R"({"compound_enabled":true})", R"({"day_basis":365})",
                             R"({"grace_days":0})", R"({"amortization_method":"equal-principal"})"}) {
    const std::string id = "M" + std::to_string(n++);
    ASSERT_TRUE(chain.Send("lead-bank", "param.propose", {{"proposal", id}, {"changes", change}, {"effective-date", eff}}).accepted) << change;
    chain.Send("payee-bank", "param.approve", {{"proposal", id}});
    Receipt third = chain.Send("arbitration", "param.approve", {{"proposal", id}});
    EXPECT_EQ(third.outputs.at("proposal-status"), "proposed") << change << " passed without the partner bank";
  }
}

// The parsed parameter set is kept between calls (a node's hot path) but is always that of the
// record read: two states with the same version number and other texts (two chains, or a record
// rewritten in place) each get their own, in any order.
TEST(LendingGovernance, ParametersAreAlwaysThoseOfTheStateRead) {
  StateTree a, b;
  a.Apply({{"params/current-version", "1"}, {"params/v1", R"({"grace_days":1})"}});
  b.Apply({{"params/current-version", "1"}, {"params/v1", R"({"grace_days":3})"}});
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(SharedParameters(a)->at("grace_days"), 1);
    EXPECT_EQ(SharedParameters(b)->at("grace_days"), 3);
    EXPECT_EQ(CurrentParameters(a)["grace_days"], 1);
  }
  a.Apply({{"params/v1", R"({"grace_days":2})"}});
  EXPECT_EQ(SharedParameters(a)->at("grace_days"), 2);
  EXPECT_EQ(SharedParameters(a)->at("version"), 1);
  a.Apply({{"params/current-version", "2"}, {"params/v2", R"({"grace_days":2})"}});
  EXPECT_EQ(SharedParameters(a)->at("version"), 2);
  StateTree none;
  EXPECT_TRUE(SharedParameters(none)->empty());
}

// A chain whose genesis predates a parameter uses its default, and a proposal may add it; a name
// that is no parameter is still refused.
TEST(LendingGovernance, AParameterAbsentFromAnOlderGenesisCanBeAdded) {
  Chain chain;
  json params = CurrentParameters(chain.tree());
  for (const char* k : {"use_deadline_days", "partner_registry", "misuse_multiplier"}) params.erase(k);
  chain.tree().Apply({{"params/v1", params.dump()}});
  ASSERT_FALSE(CurrentParameters(chain.tree()).contains("use_deadline_days"));
  const std::string eff = FormatDate(chain.Today() + 2);
  Receipt r = chain.Send("lead-bank", "param.propose", {{"proposal", "ADD"}, {"changes", R"({"use_deadline_days":20,"partner_registry":{"partner-bank":{"type":"city","regions":["31"]}}})"}, {"effective-date", eff}});
  EXPECT_TRUE(r.accepted) << r.message;
  r = chain.Send("lead-bank", "param.propose", {{"proposal", "BAD"}, {"changes", R"({"misuse_multiplier":{"num":5,"den":1}})"}, {"effective-date", eff}});
  EXPECT_EQ(r.code, "out-of-bounds") << "an added parameter is checked: " << r.message;
  r = chain.Send("lead-bank", "param.propose", {{"proposal", "NOPE"}, {"changes", R"({"use_deadline_dayz":20})"}, {"effective-date", eff}});
  EXPECT_EQ(r.code, "unknown-parameter") << r.message;
}

// Bounds that hold one by one but not together are refused at the proposal, and a merged set that
// stops holding together because of another change is not activated.
TEST(LendingGovernance, ParametersMustHoldTogether) {
  Chain chain;
  const std::string eff = FormatDate(chain.Today() + 2);
  const json params = CurrentParameters(chain.tree());
  const std::string over_cap = std::to_string(params["max_credit_limit_fen"].get<std::int64_t>() + 100);
  Receipt r = chain.Send("lead-bank", "param.propose", {{"proposal", "P1"}, {"changes", "{\"min_limit_fen\":" + over_cap + "}"}, {"effective-date", eff}});
  EXPECT_EQ(r.code, "out-of-bounds") << r.message;
  r = chain.Send("lead-bank", "param.propose", {{"proposal", "P2"}, {"changes", R"({"min_draw_fen":3000000,"max_single_draw_fen":2000000})"}, {"effective-date", eff}});
  EXPECT_EQ(r.code, "out-of-bounds") << r.message;
  // Values whose products with amounts or rates would not fit 64 bits (and would stop every node
  // at the next transaction that uses them) are refused at the proposal.
  for (const char* changes : {R"({"misuse_multiplier":{"num":3000000000000000000,"den":2000000000000000000}})",
                              R"({"leverage_max_bps":1000000})", R"({"multi_lender_utilisation_max_bps":100001})",
                              R"({"penalty_multiplier":{"num":3000000000,"den":2000000000}})",
                              // Read as an int, 2^32 days would be 0: "never" would become "always".
                              R"({"ai_fail_no_contact_days":4294967296})", R"({"ai_fail_ptp_broken":1000000001})",
                              R"({"limit_bands":[{"min_score":600,"limit_fen":10000000000001}]})"}) {
    const std::string id = "PX" + std::to_string(std::strlen(changes));
    r = chain.Send("lead-bank", "param.propose", {{"proposal", id}, {"changes", changes}, {"effective-date", eff}});
    EXPECT_EQ(r.code, "out-of-bounds") << changes << ": " << r.message;
  }
  r = chain.Send("lead-bank", "param.propose", {{"proposal", "PY"}, {"changes", R"({"leverage_max_bps":100000})"}, {"effective-date", eff}});
  EXPECT_TRUE(r.accepted) << r.message;
  r = chain.Send("lead-bank", "param.propose", {{"proposal", "PZ"}, {"changes", R"({"ai_fail_no_contact_days":1000000000})"}, {"effective-date", eff}});
  EXPECT_TRUE(r.accepted) << r.message;
  // Each valid alone: the single cap down to 20,000 fen, the minimum up to 30,000 fen.
  auto approve_all = [&](const std::string& id) {
    for (const char* m : {"partner-bank", "payee-bank", "credit-bureau"}) chain.Send(m, "param.approve", {{"proposal", id}});
  };
  ASSERT_TRUE(chain.Send("lead-bank", "param.propose", {{"proposal", "PA"}, {"changes", R"({"max_single_draw_fen":20000})"}, {"effective-date", eff}}).accepted);
  ASSERT_TRUE(chain.Send("lead-bank", "param.propose", {{"proposal", "PB"}, {"changes", R"({"min_draw_fen":30000})"}, {"effective-date", eff}}).accepted);
  approve_all("PA");
  approve_all("PB");
  chain.Advance(2);
  const json now = CurrentParameters(chain.tree());
  EXPECT_EQ(now["max_single_draw_fen"], 20000);
  EXPECT_EQ(now["min_draw_fen"], params["min_draw_fen"]) << "PB must not take effect";
  const json pb = json::parse(*chain.tree().Get("proposal/PB"));
  EXPECT_EQ(pb["status"], "rejected");
}

// Issue: the settlement quote paid with loan.repay while installments were still unbilled was
// held as credit, which cannot pay full-period interest: the loan (40,000.00 CNY, 20 periods,
// 0.05 %/day, repaid on day 10) went overdue, was reported and classified. Now it is refused with
// a pointer to loan.settle, nothing changes, and loan.settle with the same amount closes it.
TEST(LendingRepay, TheSettlementQuoteByRepayIsRefusedWithAPointerToSettle) {
  Chain chain;
  std::string b = chain.Admit("quote-by-repay");
  chain.Originate("L1", b, 4000000);
  chain.AdvanceTo(chain.Today() + 10);
  const Loan before = chain.GetLoan("L1");
  const std::int64_t quote = before.SettlementQuote(chain.Today());
  Receipt r = chain.Repay("L1", quote);
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.code, "settle-instead") << r.message;
  EXPECT_NE(r.message.find("loan.settle"), std::string::npos) << r.message;
  EXPECT_EQ(chain.GetLoan("L1").ToText(), before.ToText()) << "nothing changed";
  Receipt small = chain.Repay("L1", quote - 1);  // less than the quote: still a repayment
  ASSERT_TRUE(small.accepted) << small.message;
  EXPECT_EQ(chain.Repay("L1", 1).code, "settle-instead") << "held credit counts towards the quote";
  Receipt s = chain.Send("payee-bank", "loan.settle", {{"loan", "L1"}, {"amount-fen", "1"}});
  ASSERT_TRUE(s.accepted) << s.code << " " << s.message;
  EXPECT_EQ(chain.GetLoan("L1").status, "closed");
  chain.Advance(400);
  chain.Advance(220);
  const Loan after = chain.GetLoan("L1");
  EXPECT_EQ(after.status, "closed");
  EXPECT_FALSE(after.lenders[0].reported);
  EXPECT_EQ(chain.Borrower(b)["used_fen"], 0);
}

// Held credit that pays the last installment on its due date closes the loan (the limit comes
// back, the loan stops waking every day). It used to stay active forever.
TEST(LendingRepay, CreditThatPaysTheLastInstallmentClosesTheLoan) {
  Chain chain;
  std::string b = chain.Admit("credit-closes");
  chain.Originate("L1", b, 50000, 5);
  Loan l = chain.GetLoan("L1");
  for (int k = 0; k < 4; ++k) {
    chain.AdvanceTo(l.installments[k].due_day);
    const Loan due = chain.GetLoan("L1");
    ASSERT_TRUE(chain.Repay("L1", due.installments[k].PrincipalDue() + due.installments[k].InterestDue()).accepted);
  }
  // The last installment is prepaid as held credit (as an older chain, or a payment above the
  // bill on an earlier due date, leaves it).
  Loan now = chain.GetLoan("L1");
  now.credit_balance_fen = now.installments[4].PrincipalDue() + now.installments[4].InterestDue();
  now.received_fen += now.credit_balance_fen;
  chain.tree().Apply({{"loan/L1", now.ToText()}});
  chain.AdvanceTo(l.installments[4].due_day);
  const Loan done = chain.GetLoan("L1");
  EXPECT_EQ(done.status, "closed");
  EXPECT_EQ(done.credit_balance_fen, 0);
  EXPECT_EQ(chain.Borrower(b)["used_fen"], 0);
  EXPECT_TRUE(chain.tree().Scan("wake/", 10).empty());
}

// Funding floored the partner's leg while repayments may split by largest remainder: with a
// drawdown unit of 1 fen the partner got one fen more principal back than it funded. Both now
// use the same split.
TEST(LendingSplit, FundingAndRepaymentUseOneSplit) {
  Chain chain;
  json params = CurrentParameters(chain.tree());
  params["draw_unit_fen"] = 1;
  params["split_method"] = "largest-remainder";
  chain.tree().Apply({{"params/v1", params.dump()}});
  std::string b = chain.Admit("one-split");
  chain.Originate("L1", b, 10001, 5);
  Loan l = chain.GetLoan("L1");
  EXPECT_EQ(l.lenders[0].funded_fen + l.lenders[1].funded_fen, 10001);
  EXPECT_EQ(l.lenders[1].funded_fen, 8001) << "8000.8 rounds to the partner by largest remainder";
  const std::int64_t quote = l.SettlementQuote(chain.Today());
  ASSERT_TRUE(chain.Send("payee-bank", "loan.settle", {{"loan", "L1"}, {"amount-fen", std::to_string(quote)}}).accepted);
  l = chain.GetLoan("L1");
  for (const LenderShare& share : l.lenders) {
    EXPECT_EQ(share.principal_repaid_fen, share.funded_fen) << share.member;
  }
}

// A big book: 100,001 open loans whose ids sort before the ones under test, none due for a long
// time. The daily rules and the drawdown checks used to look at the first 100,000 open loans
// only: past them a loan never went overdue and did not count towards the borrower's limit.
void SeedBigBook(Chain& chain) {
  StateWrites book;
  for (int i = 0; i <= 100000; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "A%06d", i);
    book[std::string("open-loan/") + id] = "99999999";
  }
  chain.tree().Apply(book);
}

TEST(LendingScale, ALoanPastTheFirstHundredThousandStillGoesOverdue) {
  Chain chain;
  SeedBigBook(chain);
  std::string b = chain.Admit("big-book");
  chain.Originate("L1", b, 4000000);
  const std::int64_t due = chain.GetLoan("L1").installments[0].due_day;
  chain.AdvanceTo(due + 2);
  Loan l = chain.GetLoan("L1");
  EXPECT_EQ(l.Dpd(chain.Today()), 2);
  EXPECT_TRUE(l.lenders[0].reported);
  EXPECT_GT(l.PenaltyDue(l.installments[0], chain.Today()), 0);
  EXPECT_TRUE(chain.tree().Get("credit-report/L1/partner-bank").has_value());
}

TEST(LendingScale, TheConcurrentLoanLimitCountsEveryOpenLoan) {
  Chain chain;
  SeedBigBook(chain);
  std::string b = chain.Admit("many-loans");
  const std::int64_t max = (*genesis::ProfileParameters("case-study"))["max_concurrent_loans"];
  for (std::int64_t i = 0; i < max; ++i) chain.Originate("M" + std::to_string(i), b, 10000, 5);
  EXPECT_EQ(chain.tree().Get("count/open-loans/" + b), std::to_string(max));
  chain.Auth(b);
  Receipt r = chain.Send("lead-bank", "loan.draw", chain.Draw("M-one-more", b, 10000, 5));
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.code, "too-many-loans") << r.message;
}

TEST(LendingScale, CountersFollowEveryWriteOfALoan) {
  Chain chain;
  std::string b = chain.Admit("counters");
  chain.Originate("L1", b, 4000000);
  Loan l = chain.GetLoan("L1");
  EXPECT_EQ(chain.tree().Get("count/open-loans/" + b), "1");
  chain.AdvanceTo(l.installments[0].due_day);
  EXPECT_EQ(chain.tree().Get("count/cofunded/partner-bank"), std::to_string(l.lenders[1].funded_fen));
  EXPECT_EQ(chain.tree().Get("count/cofunded/lead-bank"), std::to_string(l.lenders[0].funded_fen));
  ASSERT_TRUE(chain.Repay("L1", 232983).accepted);  // the first installment: principal comes back
  l = chain.GetLoan("L1");
  EXPECT_EQ(chain.tree().Get("count/cofunded/partner-bank"),
            std::to_string(l.lenders[1].funded_fen - l.lenders[1].principal_repaid_fen));
  // Wake index: exactly one entry, on the next unpaid due date.
  const auto wake = chain.tree().Scan("wake/", 10);
  ASSERT_EQ(wake.size(), 1u);
  char digits[24];
  std::snprintf(digits, sizeof digits, "%010lld", static_cast<long long>(l.installments[1].due_day));
  EXPECT_EQ(wake[0].first, "wake/" + std::string(digits) + "/L1");
  const std::int64_t quote = l.SettlementQuote(chain.Today()) - l.credit_balance_fen;
  Receipt settled = chain.Send("payee-bank", "loan.settle", {{"loan", "L1"}, {"amount-fen", std::to_string(quote)}});
  ASSERT_TRUE(settled.accepted) << settled.message;
  EXPECT_FALSE(chain.tree().Get("count/open-loans/" + b).has_value());
  EXPECT_FALSE(chain.tree().Get("count/cofunded/partner-bank").has_value());
  EXPECT_FALSE(chain.tree().Get("count/cofunded/lead-bank").has_value());
  EXPECT_TRUE(chain.tree().Scan("wake/", 10).empty());
}

}  // namespace
}  // namespace colend::contracts
