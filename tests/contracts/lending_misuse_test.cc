// The misuse rate on principal not yet due (R-IN-07): from detection, misused money bears
// misuse_multiplier × the contract rate, within the annual cost cap (docs/lending-rules.md §6.5).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "test_chain.h"

namespace colend::contracts::testing {
namespace {
// RoundHalfUp(base × num/den × days), written out here so that the check does not share the
// contract's arithmetic.
std::int64_t Rhu(std::int64_t base, std::int64_t num, std::int64_t den, std::int64_t days) {
  const __int128 n = static_cast<__int128>(base) * num * days;
  return static_cast<std::int64_t>((2 * n + den) / (2 * static_cast<__int128>(den)));
}

// Misused principal not yet due bears the misuse rate from detection (R-IN-07; §6.5), not only
// once it is overdue: the contract interest of its periods plus the surcharge
// min(1.5 × 0.05 %/day, 24 %/365) − 0.05 %/day, on min(misused, principal outstanding), posted as
// penalty of each period's installment and counted in the settlement quote to the day. A twin
// loan whose spending was attested as allowed shows what the borrower would owe without it.
TEST(LendingUse, MisusedPrincipalNotYetDueBearsTheMisuseRate) {
  // Surcharge per day: 2400/(10000 × 365) − 5/10000 = 5,750,000 / 36,500,000,000.
  constexpr std::int64_t kNum = 5750000, kDen = 36500000000;
  Chain chain, twin;
  const std::string b = chain.Admit("misuse-rate");
  const std::string t = twin.Admit("misuse-rate");
  chain.Originate("L1", b, 1000000, 5);
  twin.Originate("L1", t, 1000000, 5);
  for (Chain* ch : {&chain, &twin}) {
    ASSERT_TRUE(ch->Send("payee-bank", "va.spend", {{"loan", "L1"}, {"amount-fen", "1000000"}, {"counterparty", "merchant"}, {"mcc", "5712"}, {"channel", "pos"}}).accepted);
    ch->Advance(10);
  }
  const std::int64_t detected = chain.Today();
  Receipt misuse = chain.Send("payee-bank", "use.attest", {{"loan", "L1"}, {"amount-fen", "300000"}, {"counterparty", "merchant"}, {"mcc", "4829"}, {"channel", "pos"}, {"ref", "STMT-1"}});
  ASSERT_TRUE(misuse.accepted) << misuse.message;
  EXPECT_EQ(misuse.outputs.at("misuse-surcharge-daily-rate"), "23/146000");  // 5,750,000/36,500,000,000 reduced
  ASSERT_TRUE(twin.Send("payee-bank", "use.attest", {{"loan", "L1"}, {"amount-fen", "300000"}, {"counterparty", "merchant"}, {"mcc", "5712"}, {"channel", "pos"}, {"ref", "STMT-1"}}).accepted);

  // Five days on, the quote holds five days of surcharge on the 300,000 fen misused.
  chain.Advance(5);
  twin.Advance(5);
  EXPECT_EQ(chain.GetLoan("L1").SettlementQuote(chain.Today()), twin.GetLoan("L1").SettlementQuote(twin.Today()) + Rhu(300000, kNum, kDen, 5));

  // Period 1: its installment owes the surcharge from detection to its due date, as penalty.
  const Loan plan = twin.GetLoan("L1");
  const std::int64_t d1 = plan.installments[0].due_day, d2 = plan.installments[1].due_day;
  chain.AdvanceTo(d1);
  twin.AdvanceTo(d1);
  const std::int64_t s1 = Rhu(300000, kNum, kDen, d1 - detected);
  ASSERT_GT(s1, 0);
  const Loan at_d1 = chain.GetLoan("L1");
  EXPECT_EQ(at_d1.PenaltyDue(at_d1.installments[0], chain.Today()), s1);
  const std::int64_t inst1 = plan.installments[0].principal_fen + plan.installments[0].interest_fen;
  // Paid without the surcharge, the installment stays unpaid and goes overdue.
  Receipt short_pay = chain.Repay("L1", inst1);
  ASSERT_TRUE(short_pay.accepted) << short_pay.message;
  EXPECT_EQ(short_pay.outputs.at("allocated.penalty-fen"), std::to_string(s1));
  ASSERT_TRUE(twin.Repay("L1", inst1).accepted);
  ASSERT_TRUE(chain.Repay("L1", s1).accepted);
  chain.Advance(3);
  twin.Advance(3);
  EXPECT_EQ(chain.GetLoan("L1").Dpd(chain.Today()), 0);

  // Period 2 bears the surcharge for the whole period; the lenders share it as penalty.
  chain.AdvanceTo(d2);
  twin.AdvanceTo(d2);
  const std::int64_t s2 = Rhu(300000, kNum, kDen, d2 - d1);
  const Loan at_d2 = chain.GetLoan("L1");
  EXPECT_EQ(at_d2.PenaltyDue(at_d2.installments[1], chain.Today()), s2);
  const std::int64_t inst2 = plan.installments[1].principal_fen + plan.installments[1].interest_fen;
  ASSERT_TRUE(chain.Repay("L1", inst2 + s2).accepted);
  ASSERT_TRUE(twin.Repay("L1", inst2).accepted);

  // Settled 7 days into period 3: the quote is the twin's plus 7 days of surcharge, and settling
  // with it closes the loan with every fen with a lender.
  chain.Advance(7);
  twin.Advance(7);
  const std::int64_t quote = chain.GetLoan("L1").SettlementQuote(chain.Today());
  EXPECT_EQ(quote, twin.GetLoan("L1").SettlementQuote(twin.Today()) + Rhu(300000, kNum, kDen, 7));
  Receipt settled = chain.Send("payee-bank", "loan.settle", {{"loan", "L1"}, {"amount-fen", std::to_string(quote)}});
  ASSERT_TRUE(settled.accepted) << settled.message;
  const Loan closed = chain.GetLoan("L1");
  EXPECT_EQ(closed.status, "closed");
  std::int64_t penalty = 0;
  for (const LenderShare& l : closed.lenders) penalty += l.penalty_repaid_fen;
  EXPECT_EQ(penalty, s1 + s2 + Rhu(300000, kNum, kDen, 7));
}

// The surcharge falls on the misused money still outstanding: when the whole loan was misused,
// each period's surcharge is on that period's opening balance. A multiplier that does not raise
// the rate (1×) adds nothing.
TEST(LendingUse, TheMisuseSurchargeFollowsTheOutstandingPrincipal) {
  constexpr std::int64_t kNum = 5750000, kDen = 36500000000;
  Chain chain;
  const std::string b = chain.Admit("misuse-all");
  chain.Originate("L1", b, 1000000, 5);
  ASSERT_TRUE(chain.Send("payee-bank", "va.spend", {{"loan", "L1"}, {"amount-fen", "1000000"}, {"counterparty", "merchant"}, {"mcc", "5712"}, {"channel", "pos"}}).accepted);
  const Loan plan = chain.GetLoan("L1");
  chain.AdvanceTo(plan.installments[0].due_day);  // detected on due date 1: period 1 bears none
  ASSERT_TRUE(chain.Send("payee-bank", "use.attest", {{"loan", "L1"}, {"amount-fen", "1000000"}, {"counterparty", "individual"}, {"mcc", "5712"}, {"channel", "online"}, {"ref", "STMT-9"}}).accepted);
  const std::int64_t inst1 = plan.installments[0].principal_fen + plan.installments[0].interest_fen;
  Receipt first = chain.Repay("L1", inst1);
  ASSERT_TRUE(first.accepted) << first.message;
  EXPECT_EQ(first.outputs.at("allocated.penalty-fen"), "0");
  const std::int64_t d1 = plan.installments[0].due_day, d2 = plan.installments[1].due_day;
  chain.AdvanceTo(d2);
  const Loan at_d2 = chain.GetLoan("L1");
  const std::int64_t opening = 1000000 - plan.installments[0].principal_fen;
  EXPECT_EQ(at_d2.PenaltyDue(at_d2.installments[1], chain.Today()), Rhu(opening, kNum, kDen, d2 - d1));

  Chain neutral;
  Govern(neutral, "A1", R"({"misuse_multiplier":{"num":1,"den":1}})");
  const std::string c = neutral.Admit("misuse-neutral");
  neutral.Originate("L2", c, 1000000, 5);
  ASSERT_TRUE(neutral.Send("payee-bank", "va.spend", {{"loan", "L2"}, {"amount-fen", "1000000"}, {"counterparty", "merchant"}, {"mcc", "5712"}, {"channel", "pos"}}).accepted);
  const std::int64_t before = neutral.GetLoan("L2").SettlementQuote(neutral.Today() + 9);
  Receipt m = neutral.Send("payee-bank", "use.attest", {{"loan", "L2"}, {"amount-fen", "1000000"}, {"counterparty", "individual"}, {"mcc", "5712"}, {"channel", "online"}, {"ref", "STMT-8"}});
  ASSERT_TRUE(m.accepted) << m.message;
  EXPECT_EQ(m.outputs.count("misuse-surcharge-daily-rate"), 0u);
  EXPECT_EQ(neutral.GetLoan("L2").SettlementQuote(neutral.Today() + 9), before);
}

// A surcharge posted and unpaid does not stop an unpaid installment from going overdue: past its
// grace day the installment accrues penalty on its principal and interest as any other does.
TEST(LendingUse, AnInstallmentWithAnUnpaidSurchargeStillGoesOverdue) {
  Chain chain;
  const std::string b = chain.Admit("misuse-overdue");
  chain.Originate("L1", b, 1000000, 5);
  ASSERT_TRUE(chain.Send("payee-bank", "va.spend", {{"loan", "L1"}, {"amount-fen", "1000000"}, {"counterparty", "merchant"}, {"mcc", "5712"}, {"channel", "pos"}}).accepted);
  chain.Advance(3);
  ASSERT_TRUE(chain.Send("payee-bank", "use.attest", {{"loan", "L1"}, {"amount-fen", "500000"}, {"counterparty", "merchant"}, {"mcc", "4829"}, {"channel", "pos"}, {"ref", "STMT-3"}}).accepted);
  chain.Advance(10);
  ASSERT_TRUE(chain.Repay("L1", 100).accepted);  // held; posts the surcharge so far
  const std::int64_t d1 = chain.GetLoan("L1").installments[0].due_day;
  chain.AdvanceTo(d1 + 3);
  const Loan l = chain.GetLoan("L1");
  ASSERT_GT(l.installments[0].penalty_posted_fen, l.installments[0].penalty_paid_fen);  // surcharge left unpaid
  EXPECT_EQ(l.installments[0].accrual_from_day, d1 + 1);
  EXPECT_GT(l.UnpostedPenalty(l.installments[0], chain.Today()), 0);
}

// All of a loan's attestations together are at most the money that left its virtual account
// (§6.5): a statement attested twice, or a retried submission, cannot count the same money as
// misused twice and raise the surcharge's base above what the borrower spent.
TEST(LendingUse, AttestationsTogetherAreAtMostWhatLeftTheAccount) {
  Chain chain;
  const std::string b = chain.Admit("attest-total");
  chain.Originate("L1", b, 1000000, 5);
  ASSERT_TRUE(chain.Send("payee-bank", "va.spend", {{"loan", "L1"}, {"amount-fen", "10000"}, {"counterparty", "merchant"}, {"mcc", "5712"}, {"channel", "pos"}}).accepted);
  const Fields misused = {{"loan", "L1"}, {"amount-fen", "6000"}, {"counterparty", "merchant"}, {"mcc", "6011"}, {"channel", "pos"}, {"ref", "STMT-1"}};
  ASSERT_TRUE(chain.Send("payee-bank", "use.attest", misused).accepted);
  // The same statement again: 6,000 + 6,000 is more than the 10,000 that left.
  Receipt again = chain.Send("payee-bank", "use.attest", misused);
  EXPECT_EQ(again.code, "amount-above-disbursed") << again.message;
  // An allowed attestation counts too: 4,001 more is refused, 4,000 takes the total to 10,000.
  Fields allowed = {{"loan", "L1"}, {"amount-fen", "4001"}, {"counterparty", "merchant"}, {"mcc", "5712"}, {"channel", "pos"}, {"ref", "STMT-2"}};
  EXPECT_EQ(chain.Send("payee-bank", "use.attest", allowed).code, "amount-above-disbursed");
  allowed["amount-fen"] = "4000";
  ASSERT_TRUE(chain.Send("payee-bank", "use.attest", allowed).accepted);
  Fields one = misused;
  one["amount-fen"] = "1";
  one["ref"] = "STMT-3";
  EXPECT_EQ(chain.Send("payee-bank", "use.attest", one).code, "amount-above-disbursed");
  Loan loan = chain.GetLoan("L1");
  EXPECT_EQ(loan.misused_fen, 6000);
  EXPECT_EQ(loan.attested_fen, 10000);
  // Money spent later can be attested.
  ASSERT_TRUE(chain.Send("payee-bank", "va.spend", {{"loan", "L1"}, {"amount-fen", "5"}, {"counterparty", "merchant"}, {"mcc", "5712"}, {"channel", "pos"}}).accepted);
  one["amount-fen"] = "5";
  ASSERT_TRUE(chain.Send("payee-bank", "use.attest", one).accepted);
  EXPECT_EQ(chain.GetLoan("L1").misused_fen, 6005);
}

}  // namespace
}  // namespace colend::contracts::testing
