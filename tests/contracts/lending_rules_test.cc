// R-PRE-05 reviews (SLA, model versions, a failed review), R-PRE-06 licensed regions and R-IN-07
// loan use (money-transfer categories, attested misuse, the use deadline):
// docs/lending-rules.md §5.5, §5.6, §6.5.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "contracts/fields.h"
#include "test_chain.h"

namespace colend::contracts::testing {
namespace {

// The event names recorded under `prefix` (e.g. "loan-event/L1/"), in order.
std::vector<std::string> Events(Chain& chain, const std::string& prefix) {
  std::vector<std::string> names;
  for (const auto& [key, value] : chain.tree().Scan(prefix, 100000)) {
    names.push_back(json::parse(value).at("event").get<std::string>());
  }
  return names;
}

int Count(const std::vector<std::string>& events, const std::string& name) {
  return static_cast<int>(std::count(events.begin(), events.end(), name));
}

Fields AdmitFields(Chain& chain, const std::string& b, const std::string& model = "wb-risk-2026.1",
                   int score = 720) {
  const std::string today = FormatDate(chain.Today());
  return {{"borrower", b}, {"score", std::to_string(score)}, {"model", model}, {"age-band", "30-34"},
          {"kyc-level", "3"}, {"kyc-date", today}, {"consent-date", today},
          {"consent-credit-query", "yes"}, {"consent-colending", "yes"}};
}

void Snapshot(Chain& chain, const std::string& b) {
  ASSERT_TRUE(chain.Send("credit-bureau", "bureau.snapshot",
                         {{"borrower", b}, {"institutions", "1"}, {"outstanding-fen", "0"},
                          {"limits-fen", "5000000"}, {"overdue-count", "0"}, {"queries-90d", "1"},
                          {"valid-until", FormatDate(chain.Today() + 30)}})
                  .accepted);
}

// A review not completed within review_sla_hours (72 h: three business days) suspends the
// borrower and freezes the unused limit; the suspension is recorded although the drawdown that
// found it is refused; a new admission lifts it.
TEST(LendingReview, AReviewNotCompletedInTimeSuspendsTheBorrower) {
  Chain chain;
  const std::string b = chain.Admit("sla");
  ASSERT_TRUE(chain.Send("payee-bank", "borrower.change", {{"borrower", b}, {"change", "device"}}).accepted);
  chain.Advance(3);  // the last day of the SLA
  Receipt within = chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 10000));
  EXPECT_EQ(within.code, "review-pending") << within.message;
  EXPECT_EQ(chain.Borrower(b).at("status"), "review");
  chain.Advance(1);
  Receipt late = chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 10000));
  EXPECT_EQ(late.code, "review-suspended") << late.message;
  EXPECT_EQ(late.rule, "R-PRE-05");
  EXPECT_EQ(chain.Borrower(b).at("status"), "suspended");
  EXPECT_EQ(chain.Borrower(b).at("frozen"), true);
  EXPECT_EQ(Count(Events(chain, "borrower-event/" + b + "/"), "WHITELIST_SUSPENDED"), 1);
  Snapshot(chain, b);
  ASSERT_TRUE(chain.Send("lead-bank", "borrower.admit", AdmitFields(chain, b)).accepted);
  chain.Auth(b);
  Receipt again = chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 10000));
  EXPECT_TRUE(again.accepted) << again.code << " " << again.message;
}

// A second trigger during a review does not move its deadline back: the SLA runs from the first.
TEST(LendingReview, ASecondTriggerDoesNotRestartTheReviewDeadline) {
  Chain chain;
  const std::string b = chain.Admit("sla-twice");
  ASSERT_TRUE(chain.Send("payee-bank", "borrower.change", {{"borrower", b}, {"change", "phone"}}).accepted);
  chain.Advance(3);
  ASSERT_TRUE(chain.Send("payee-bank", "borrower.change", {{"borrower", b}, {"change", "device"}}).accepted);
  chain.Advance(1);
  Receipt late = chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 10000));
  EXPECT_EQ(late.code, "review-suspended") << late.message;
}

// A borrower under review who fails it (here the score dropped below the model's threshold) is
// revoked: the refusal stands, the unused limit is frozen, and drawdowns name the revocation.
TEST(LendingReview, AFailedReviewRevokesTheWhitelist) {
  Chain chain;
  const std::string b = chain.Admit("revoke");
  ASSERT_TRUE(chain.Send("payee-bank", "borrower.change", {{"borrower", b}, {"change", "phone"}}).accepted);
  Snapshot(chain, b);
  Receipt failed = chain.Send("lead-bank", "borrower.admit", AdmitFields(chain, b, "wb-risk-2026.1", 500));
  EXPECT_FALSE(failed.accepted);
  EXPECT_EQ(failed.code, "score-below-threshold");
  EXPECT_EQ(chain.Borrower(b).at("status"), "revoked");
  EXPECT_EQ(chain.Borrower(b).at("frozen"), true);
  EXPECT_EQ(Count(Events(chain, "borrower-event/" + b + "/"), "WHITELIST_REVOKED"), 1);
  EXPECT_EQ(chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 10000)).code, "whitelist-revoked");
  // A borrower not under review who fails a new admission keeps the whitelist it has.
  const std::string c = chain.Admit("keeps");
  Snapshot(chain, c);
  EXPECT_EQ(chain.Send("lead-bank", "borrower.admit", AdmitFields(chain, c, "wb-risk-2026.1", 500)).code, "score-below-threshold");
  EXPECT_EQ(chain.Borrower(c).at("status"), "active");
}

// A model version registered by governance sends every borrower admitted under an earlier model
// to review from the activation day; a borrower admitted under the new model is not affected.
TEST(LendingReview, ANewModelVersionSendsEarlierBorrowersToReview) {
  Chain chain;
  const std::string old_b = chain.Admit("old-model");
  Govern(chain, "M1", R"({"models":{"wb-risk-2026.1":{"min_score":600},"wb-risk-2027.1":{"min_score":620}}})");
  const std::string new_b = crypto::ToHex(crypto::Sha256("new-model"));
  Snapshot(chain, new_b);
  ASSERT_TRUE(chain.Send("lead-bank", "borrower.admit", AdmitFields(chain, new_b, "wb-risk-2027.1")).accepted);
  Receipt old_draw = chain.Send("lead-bank", "loan.draw", chain.Draw("L1", old_b, 10000));
  EXPECT_EQ(old_draw.code, "review-pending") << old_draw.message;
  EXPECT_EQ(chain.Borrower(old_b).at("review_reason"), "model-update");
  chain.Auth(new_b);
  Fields d = chain.Draw("L2", new_b, 10000);
  d["model"] = "wb-risk-2027.1";
  Receipt new_draw = chain.Send("lead-bank", "loan.draw", d);
  EXPECT_TRUE(new_draw.accepted) << new_draw.code << " " << new_draw.message;
  // The SLA runs from the activation day, not from the day the drawdown noticed it.
  chain.Advance(4);
  EXPECT_EQ(chain.Send("lead-bank", "loan.draw", chain.Draw("L3", old_b, 10000)).code, "review-suspended");
}

// The periodic review falls due on next_review_day.
TEST(LendingReview, ThePeriodicReviewFallsDueOnItsDate) {
  Chain chain;
  const std::string b = chain.Admit("periodic");
  const std::int64_t due = chain.Borrower(b).at("next_review_day").get<std::int64_t>();
  chain.AdvanceTo(due - 1);
  chain.Auth(b);
  // (the bureau snapshot the admission used is stale by now, but drawdowns do not re-read it)
  Receipt before = chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 10000));
  EXPECT_TRUE(before.accepted) << before.code << " " << before.message;
  chain.AdvanceTo(due);
  Receipt on = chain.Send("lead-bank", "loan.draw", chain.Draw("L2", b, 10000));
  EXPECT_EQ(on.code, "review-pending") << on.message;
  EXPECT_EQ(chain.Borrower(b).at("review_reason"), "periodic");
}

// Admits a borrower (clean snapshot) with the attested region code ("" for none), verified for
// a drawdown; returns the borrower id.
std::string AdmitInRegion(Chain& chain, const std::string& seed, const std::string& region) {
  const std::string b = crypto::ToHex(crypto::Sha256(seed));
  Snapshot(chain, b);
  Fields f = AdmitFields(chain, b);
  if (!region.empty()) f["region"] = region;
  Receipt r = chain.Send("lead-bank", "borrower.admit", f);
  EXPECT_TRUE(r.accepted) << r.code << " " << r.message;
  chain.Auth(b);
  return b;
}

// A city commercial bank partner lends only inside its licensed regions; outside them, or for a
// borrower whose region was never attested, the lead bank funds the whole loan, without the
// partner's approval or leg, and every repayment goes to the lead.
TEST(LendingAllocation, AnOutOfRegionPartnerIsReroutedToTheLead) {
  Chain chain;
  Govern(chain, "R1", R"({"partner_registry":{"partner-bank":{"type":"city","regions":["3101"]}}})");
  auto admit = [&](const std::string& seed, const std::string& region) { return AdmitInRegion(chain, seed, region); };
  const std::string shanghai = admit("in-region", "310104");
  const std::string beijing = admit("out-of-region", "110101");
  const std::string unknown = admit("no-region", "");
  Receipt in = chain.Send("lead-bank", "loan.draw", chain.Draw("LIN", shanghai, 1000000));
  ASSERT_TRUE(in.accepted) << in.message;
  EXPECT_EQ(in.outputs.at("partner-leg-fen"), "800000");
  EXPECT_EQ(in.outputs.count("rerouted"), 0u);
  for (const auto& [loan, b, why] : {std::tuple{"LOUT", beijing, "outside-licensed-regions"}, std::tuple{"LUNK", unknown, "region-unknown"}}) {
    Receipt out = chain.Send("lead-bank", "loan.draw", chain.Draw(loan, b, 1000000));
    ASSERT_TRUE(out.accepted) << out.message;
    EXPECT_EQ(out.outputs.at("rerouted"), why);
    EXPECT_EQ(out.outputs.at("lead-leg-fen"), "1000000");
    EXPECT_EQ(out.outputs.at("partner-leg-fen"), "0");
    EXPECT_EQ(chain.GetLoan(loan).status, "funding");
    EXPECT_EQ(chain.Send("partner-bank", "loan.approve", {{"loan", loan}, {"decision", "approve"}, {"approval-sha256", std::string(64, 'b')}, {"model", "p-1"}}).code, "wrong-state");
  }
  ASSERT_TRUE(chain.Send("lead-bank", "loan.fund", {{"loan", "LOUT"}, {"amount-fen", "1000000"}, {"ref", "a"}}).accepted);
  EXPECT_EQ(chain.GetLoan("LOUT").status, "funded");
  ASSERT_TRUE(chain.Send("payee-bank", "loan.payout", {{"loan", "LOUT"}, {"amount-fen", "1000000"}, {"account", "VA-LOUT"}}).accepted);
  const Loan loan = chain.GetLoan("LOUT");
  chain.AdvanceTo(loan.installments[0].due_day);
  Receipt pay = chain.Repay("LOUT", loan.installments[0].principal_fen + loan.installments[0].interest_fen);
  ASSERT_TRUE(pay.accepted) << pay.message;
  EXPECT_EQ(pay.outputs.at("lender.partner-bank.principal-fen"), "0");
  EXPECT_EQ(pay.outputs.at("lender.partner-bank.interest-fen"), "0");
  EXPECT_EQ(pay.outputs.at("lender.lead-bank.principal-fen"), std::to_string(loan.installments[0].principal_fen));
  // Written off at loss: the lead's share is the whole loan, so the loan is written off with it;
  // the partner holds no share to write off.
  chain.AdvanceTo(loan.installments[1].due_day + 361);
  EXPECT_EQ(chain.Send("partner-bank", "loan.writeoff", {{"loan", "LOUT"}}).code, "not-a-lender");
  Receipt lead_off = chain.Send("lead-bank", "loan.writeoff", {{"loan", "LOUT"}});
  ASSERT_TRUE(lead_off.accepted) << lead_off.message;
  EXPECT_EQ(chain.GetLoan("LOUT").status, "written-off");
}

// With several partner banks the loan goes to the first (by member id) that may lend in the
// borrower's region and whose caps allow its leg; the lead funds it all only when no partner may
// lend in the region, and a partner at its cap is passed over for the next one.
TEST(LendingAllocation, AnIneligiblePartnerIsPassedOverForTheNextEligibleOne) {
  Chain chain;
  chain.AddMember("partner-bank-2", "partner_bank");
  chain.AddMember("partner-bank-3", "partner_bank");
  ASSERT_TRUE(chain.Send("partner-bank-2", "bank.figures", {{"tier1-capital-fen", "10000000000000"}, {"total-loans-fen", "100000000000000"}, {"valid-until", "2999-12-31"}}).accepted);
  // partner-bank-3: Tier-1 capital of 40,000.00 CNY, so a 25 % cap of 10,000.00 CNY.
  ASSERT_TRUE(chain.Send("partner-bank-3", "bank.figures", {{"tier1-capital-fen", "4000000"}, {"total-loans-fen", "100000000000000"}, {"valid-until", "2999-12-31"}}).accepted);
  Govern(chain, "R1", R"({"partner_registry":{"partner-bank":{"type":"city","regions":["3101"]},"partner-bank-2":{"type":"rural","regions":["11"]},"partner-bank-3":{"type":"city","regions":["44"]}}})");
  auto admit = [&](const std::string& seed, const std::string& region) { return AdmitInRegion(chain, seed, region); };
  const std::string shanghai = admit("sh", "310104"), beijing = admit("bj", "110101"),
                    guangzhou = admit("gz", "440103"), chengdu = admit("cd", "510104");
  Receipt sh = chain.Send("lead-bank", "loan.draw", chain.Draw("LSH", shanghai, 1000000));
  ASSERT_TRUE(sh.accepted) << sh.message;
  EXPECT_EQ(sh.outputs.at("partner"), "partner-bank");
  EXPECT_EQ(sh.outputs.count("skipped-partners"), 0u);
  // Beijing: partner-bank is outside its regions, partner-bank-2 lends 80 %.
  Receipt bj = chain.Send("lead-bank", "loan.draw", chain.Draw("LBJ", beijing, 1000000));
  ASSERT_TRUE(bj.accepted) << bj.message;
  EXPECT_EQ(bj.outputs.at("partner"), "partner-bank-2");
  EXPECT_EQ(bj.outputs.at("partner-leg-fen"), "800000");
  EXPECT_EQ(bj.outputs.count("rerouted"), 0u);
  EXPECT_EQ(bj.outputs.at("skipped-partners"), "partner-bank:outside-licensed-regions");
  EXPECT_EQ(chain.GetLoan("LBJ").lenders[1].member, "partner-bank-2");
  EXPECT_EQ(chain.GetLoan("LBJ").status, "approval");
  // Only partner-bank-2 may approve it.
  EXPECT_FALSE(chain.Send("partner-bank", "loan.approve", {{"loan", "LBJ"}, {"decision", "approve"}, {"approval-sha256", std::string(64, 'b')}, {"model", "p-1"}}).accepted);
  Receipt ok = chain.Send("partner-bank-2", "loan.approve", {{"loan", "LBJ"}, {"decision", "approve"}, {"approval-sha256", std::string(64, 'b')}, {"model", "p-1"}});
  EXPECT_TRUE(ok.accepted) << ok.message;
  // Guangzhou: only partner-bank-3 is licensed there, and a leg of 8,000.00 CNY fits its cap
  // once, not twice. At its cap, the drawdown is refused: the lead does not take the place of a
  // partner that may lend in the region.
  Receipt gz1 = chain.Send("lead-bank", "loan.draw", chain.Draw("LGZ1", guangzhou, 1000000));
  ASSERT_TRUE(gz1.accepted) << gz1.message;
  EXPECT_EQ(gz1.outputs.at("partner"), "partner-bank-3");
  chain.Auth(guangzhou);
  Receipt gz2 = chain.Send("lead-bank", "loan.draw", chain.Draw("LGZ2", guangzhou, 1000000));
  EXPECT_EQ(gz2.code, "colend-cap-exceeded") << gz2.message;
  EXPECT_NE(gz2.message.find("partner-bank-3"), std::string::npos) << gz2.message;
  // Chengdu: no partner may lend there, so the lead funds 100 %.
  Receipt cd = chain.Send("lead-bank", "loan.draw", chain.Draw("LCD", chengdu, 1000000));
  ASSERT_TRUE(cd.accepted) << cd.message;
  EXPECT_EQ(cd.outputs.at("rerouted"), "outside-licensed-regions");
  EXPECT_EQ(cd.outputs.at("partner-leg-fen"), "0");
  EXPECT_EQ(cd.outputs.at("skipped-partners"), "partner-bank:outside-licensed-regions,partner-bank-2:outside-licensed-regions,partner-bank-3:outside-licensed-regions");
}

// A partner at its concentration cap is passed over for the next partner that may lend.
TEST(LendingAllocation, APartnerAtItsCapIsPassedOverForTheNext) {
  Chain chain;
  chain.AddMember("partner-bank-2", "partner_bank");
  ASSERT_TRUE(chain.Send("partner-bank-2", "bank.figures", {{"tier1-capital-fen", "10000000000000"}, {"total-loans-fen", "100000000000000"}, {"valid-until", "2999-12-31"}}).accepted);
  // partner-bank: a 25 % cap of 10,000.00 CNY.
  ASSERT_TRUE(chain.Send("partner-bank", "bank.figures", {{"tier1-capital-fen", "4000000"}, {"total-loans-fen", "100000000000000"}, {"valid-until", "2999-12-31"}}).accepted);
  const std::string b = chain.Admit("cap");
  chain.Auth(b);
  Receipt first = chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 1000000));
  ASSERT_TRUE(first.accepted) << first.message;
  EXPECT_EQ(first.outputs.at("partner"), "partner-bank");
  chain.Auth(b);
  Receipt second = chain.Send("lead-bank", "loan.draw", chain.Draw("L2", b, 1000000));
  ASSERT_TRUE(second.accepted) << second.code << " " << second.message;
  EXPECT_EQ(second.outputs.at("partner"), "partner-bank-2");
  EXPECT_EQ(second.outputs.at("skipped-partners"), "partner-bank:colend-cap-exceeded");
  EXPECT_EQ(second.outputs.at("partner-leg-fen"), "800000");
}

// The age goes on chain as a band of at most five years (docs/lending-rules.md §5.3): R-PRE-03
// decides on the band as it would on the age, refuses a band that crosses a bound, and refuses a
// band too wide or malformed; an exact age is refused.
TEST(LendingAdmission, TheAgeIsAttestedAsABandAndDecidedOnIt) {
  Chain chain;  // case-study bounds: [18, 60]
  auto admit = [&](const std::string& seed, const Fields& age) {
    const std::string b = crypto::ToHex(crypto::Sha256(seed));
    Snapshot(chain, b);
    Fields f = AdmitFields(chain, b);
    f.erase("age-band");
    for (const auto& [k, v] : age) f[k] = v;
    return chain.Send("lead-bank", "borrower.admit", f);
  };
  for (const char* inside : {"30-34", "18-19", "60-60", "56-60", "18-22"}) {
    Receipt r = admit(std::string("in ") + inside, {{"age-band", inside}});
    EXPECT_TRUE(r.accepted) << inside << ": " << r.code << " " << r.message;
  }
  for (const char* outside : {"15-17", "61-64", "0-4", "146-150"}) {
    Receipt r = admit(std::string("out ") + outside, {{"age-band", outside}});
    EXPECT_EQ(r.code, "age-out-of-range") << outside << ": " << r.message;
  }
  for (const char* crossing : {"15-19", "16-18", "58-62", "60-61"}) {
    Receipt r = admit(std::string("cross ") + crossing, {{"age-band", crossing}});
    EXPECT_EQ(r.code, "age-band-crosses-bound") << crossing << ": " << r.message;
    EXPECT_EQ(r.rule, "R-PRE-03");
  }
  for (const char* bad : {"30-35", "34-30", "030-34", "30-", "-30", "30", "30 - 34", "150-151", "a-b", ""}) {
    Receipt r = admit(std::string("bad ") + bad, {{"age-band", bad}});
    EXPECT_EQ(r.code, "invalid-field") << "'" << bad << "': " << r.message;
  }
  EXPECT_EQ(admit("both", {{"age-band", "30-34"}, {"age", "32"}}).code, "invalid-field");
  EXPECT_EQ(admit("neither", {}).code, "invalid-field");
  // An exact age is personal data: refused by the contract and, before a block, by the node.
  Receipt exact = admit("exact", {{"age", "32"}});
  EXPECT_EQ(exact.code, "invalid-field");
  EXPECT_NE(exact.message.find("age-band"), std::string::npos) << exact.message;
  TxBody with_age;
  with_age.type = "borrower.admit";
  with_age.fields = AdmitFields(chain, std::string(64, 'a'));
  with_age.fields.erase("age-band");
  with_age.fields["age"] = "32";
  Status refused = CheckTxFields(with_age);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("personal data"), std::string::npos) << refused.error().message;
  // The schema the node checks before a block takes the band and refuses a wide one.
  TxBody body;
  body.type = "borrower.admit";
  body.fields = AdmitFields(chain, std::string(64, 'a'));
  body.fields["age-band"] = "30-34";
  EXPECT_TRUE(CheckTxFields(body).ok());
  body.fields["age-band"] = "30-39";
  EXPECT_FALSE(CheckTxFields(body).ok());
}

// A refusal on the borrower's credit (multi-lender borrowing, score, blacklist, age) stands with
// an ADMISSION_REJECTED event in the borrower's events, and admits nobody; a refusal that only
// waits for missing input (KYC, consent, snapshot) leaves no event.
TEST(LendingAdmission, ACreditRefusalStandsInTheBorrowersEvents) {
  Chain chain;
  const std::string b = crypto::ToHex(crypto::Sha256("refused"));
  auto events = [&] {
    std::vector<std::string> out;
    for (const auto& [k, v] : chain.tree().Scan("borrower-event/" + b + "/", 1000)) {
      const json e = json::parse(v);
      out.push_back(e.at("event").get<std::string>() + ":" + e.value("reason", ""));
    }
    return out;
  };
  Fields f = AdmitFields(chain, b);
  f["kyc-level"] = "0";
  EXPECT_EQ(chain.Send("lead-bank", "borrower.admit", f).code, "kyc-insufficient");
  f["kyc-level"] = "3";
  EXPECT_EQ(chain.Send("lead-bank", "borrower.admit", f).code, "bureau-snapshot-missing");
  EXPECT_TRUE(events().empty());
  ASSERT_TRUE(chain.Send("credit-bureau", "bureau.snapshot",
                         {{"borrower", b}, {"institutions", "3"}, {"outstanding-fen", "0"}, {"limits-fen", "5000000"},
                          {"overdue-count", "2"}, {"queries-90d", "1"}, {"valid-until", FormatDate(chain.Today() + 30)}})
                  .accepted);
  Receipt multi = chain.Send("lead-bank", "borrower.admit", f);
  EXPECT_EQ(multi.code, "multi-lender-rejected");
  Snapshot(chain, b);
  f["score"] = "100";
  EXPECT_EQ(chain.Send("lead-bank", "borrower.admit", f).code, "score-below-threshold");
  f["score"] = "720";
  f["blacklist"] = "fraud";
  EXPECT_EQ(chain.Send("lead-bank", "borrower.admit", f).code, "blacklisted");
  EXPECT_EQ(events(), (std::vector<std::string>{"ADMISSION_REJECTED:multi-lender-rejected",
                                                "ADMISSION_REJECTED:score-below-threshold",
                                                "ADMISSION_REJECTED:blacklisted"}));
  EXPECT_FALSE(chain.tree().Get("borrower/" + b).has_value());  // nobody admitted
  f.erase("blacklist");
  EXPECT_TRUE(chain.Send("lead-bank", "borrower.admit", f).accepted);
}

// The band the CLI attests for an exact age: checked against its definition, age by age, for
// several bounds (an oracle that shares nothing with AgeBandFor but the definition).
TEST(LendingAdmission, TheCliBandHoldsTheAgeAndLiesOnOneSideOfEachBound) {
  for (const auto& [age_min, age_max] : {std::pair{18, 60}, std::pair{18, 55}, std::pair{20, 20}, std::pair{22, 67}, std::pair{0, 150}}) {
    for (int age = 0; age <= 150; ++age) {
      auto [lo, hi] = AgeBandFor(age, age_min, age_max);
      SCOPED_TRACE(std::to_string(age) + " in [" + std::to_string(age_min) + ", " + std::to_string(age_max) + "] -> " + std::to_string(lo) + "-" + std::to_string(hi));
      EXPECT_LE(lo, age);
      EXPECT_GE(hi, age);
      EXPECT_LE(hi - lo + 1, 5);
      EXPECT_LE(hi, 150);
      EXPECT_EQ(lo / 5, hi / 5);  // inside one five-year band: no finer than needed, never wider
      const bool age_inside = age >= age_min && age <= age_max;
      for (int a = lo; a <= hi; ++a) EXPECT_EQ(a >= age_min && a <= age_max, age_inside) << a;
      // As wide as the bounds allow: the neighbours of the band inside its five-year band are
      // on the other side of a bound.
      if (lo % 5 != 0) {
        EXPECT_NE(lo - 1 >= age_min && lo - 1 <= age_max, age_inside);
      }
      if (hi % 5 != 4 && hi < 150) {
        EXPECT_NE(hi + 1 >= age_min && hi + 1 <= age_max, age_inside);
      }
    }
  }
}

// The drawdown's inputs hash covers the counters it decided on (the borrower's open loans for
// R-IN-02, each bank's co-funded balance for R-PRE-06): two chains that differ only in one of
// them give the same decision with different inputs hashes, so a replay can tell them apart.
TEST(LendingDrawdown, TheInputsHashCoversTheCountersTheDecisionRead) {
  auto draw = [](const std::string& key, const std::string& value) {
    Chain chain;
    const std::string b = chain.Admit("counted");
    if (!key.empty()) chain.tree().Apply({{key + (key.ends_with("/") ? b : ""), value}});
    Receipt r = chain.Send("lead-bank", "loan.draw", chain.Draw("L1", b, 1000000));
    EXPECT_TRUE(r.accepted) << r.message;
    return r.outputs.at("inputs-sha256");
  };
  const std::string plain = draw("", "");
  EXPECT_EQ(draw("", ""), plain);  // the same chain twice: the same hash
  EXPECT_NE(draw("count/open-loans/", "3"), plain);
  EXPECT_NE(draw("count/cofunded/partner-bank", "100"), plain);
  EXPECT_NE(draw("count/cofunded/lead-bank", "100"), plain);
}

// A payment to a money-transfer merchant (MCC 4829) is cash-out by another name: refused from the
// virtual account whatever the channel; attested after the fact it is misuse, and the loan is
// never classified better than special mention again, also after on-time payments.
TEST(LendingUse, MoneyTransferIsBlockedAndAttestedMisuseFloorsTheClass) {
  Chain chain;
  const std::string b = chain.Admit("use");
  chain.Originate("L1", b, 1000000);
  Receipt blocked = chain.Send("payee-bank", "va.spend", {{"loan", "L1"}, {"amount-fen", "200000"}, {"counterparty", "merchant"}, {"mcc", "4829"}, {"channel", "online"}});
  EXPECT_EQ(blocked.code, "use-blocked") << blocked.message;
  ASSERT_TRUE(chain.Send("payee-bank", "va.spend", {{"loan", "L1"}, {"amount-fen", "600000"}, {"counterparty", "merchant"}, {"mcc", "5712"}, {"channel", "pos"}}).accepted);
  Fields attest = {{"loan", "L1"}, {"amount-fen", "300000"}, {"counterparty", "merchant"}, {"mcc", "5712"}, {"channel", "pos"}, {"ref", "SETTLE-1"}};
  Receipt fine = chain.Send("payee-bank", "use.attest", attest);
  ASSERT_TRUE(fine.accepted) << fine.message;
  EXPECT_EQ(fine.outputs.at("use"), "allowed");
  attest["amount-fen"] = "600001";  // more than left the virtual account
  EXPECT_EQ(chain.Send("payee-bank", "use.attest", attest).code, "amount-above-disbursed");
  attest["amount-fen"] = "300000";
  attest["mcc"] = "4829";
  attest["ref"] = "SETTLE-2";
  Receipt misuse = chain.Send("payee-bank", "use.attest", attest);
  ASSERT_TRUE(misuse.accepted) << misuse.message;
  EXPECT_EQ(misuse.outputs.at("use"), "misuse");
  Loan loan = chain.GetLoan("L1");
  EXPECT_EQ(loan.misused_fen, 300000);
  for (const LenderShare& l : loan.lenders) EXPECT_EQ(l.classification, LoanClass::kSpecialMention) << l.member;
  EXPECT_EQ(Count(Events(chain, "loan-event/L1/"), "MISUSE_DETECTED"), 1);
  // Paid on time: still special mention after the daily rules of the due date.
  chain.AdvanceTo(loan.installments[0].due_day);
  const Loan due = chain.GetLoan("L1");  // with the misuse surcharge of period 1 (§6.5)
  ASSERT_TRUE(chain.Repay("L1", due.installments[0].principal_fen + due.installments[0].interest_fen + due.PenaltyDue(due.installments[0], chain.Today())).accepted);
  chain.Advance(2);
  ASSERT_EQ(chain.GetLoan("L1").Dpd(chain.Today()), 0);
  for (const LenderShare& l : chain.GetLoan("L1").lenders) EXPECT_EQ(l.classification, LoanClass::kSpecialMention) << l.member;
}

// With accelerate_on_misuse, the first detected misuse makes everything due today: the principal
// not yet billed and the interest accrued on it since the value date replace the later
// installments. The misuse rate (here 2 × the contract rate, heavier than the 1.5 × penalty
// rate) applies to overdue amounts from then on, within the annual cost cap.
TEST(LendingUse, MisuseRaisesTheOverdueRateAndAcceleratesWhenTheTermsSaySo) {
  Chain chain;
  Govern(chain, "A1", R"({"accelerate_on_misuse":true,"misuse_multiplier":{"num":2,"den":1}})");
  const std::string b = chain.Admit("accelerate");
  chain.Originate("L1", b, 1000000, 10, {{"daily-rate-num", "2"}, {"daily-rate-den", "10000"}});
  ASSERT_TRUE(chain.Send("payee-bank", "va.spend", {{"loan", "L1"}, {"amount-fen", "1000000"}, {"counterparty", "merchant"}, {"mcc", "5712"}, {"channel", "pos"}}).accepted);
  const Loan before = chain.GetLoan("L1");
  ASSERT_EQ(before.installments.size(), 10u);
  EXPECT_EQ(before.terms.overdue_daily_rate.num * 10000, 3 * before.terms.overdue_daily_rate.den);  // 1.5 × 2/10000
  chain.Advance(10);
  Receipt misuse = chain.Send("payee-bank", "use.attest", {{"loan", "L1"}, {"amount-fen", "600000"}, {"counterparty", "individual"}, {"mcc", "5712"}, {"channel", "online"}, {"ref", "STMT-1"}});
  ASSERT_TRUE(misuse.accepted) << misuse.message;
  const Loan after = chain.GetLoan("L1");
  ASSERT_EQ(after.installments.size(), 1u);
  EXPECT_EQ(after.installments[0].due_day, chain.Today());
  EXPECT_EQ(after.installments[0].principal_fen, 1000000);
  EXPECT_EQ(after.installments[0].interest_fen, 2000);  // 1,000,000 × 2/10000 × 10 days
  EXPECT_EQ(misuse.outputs.at("accelerated-fen"), "1002000");
  EXPECT_EQ(after.terms.overdue_daily_rate.num * 10000, 4 * after.terms.overdue_daily_rate.den);  // 2 × 2/10000
  EXPECT_EQ(Count(Events(chain, "loan-event/L1/"), "LOAN_ACCELERATED"), 1);
  // Unpaid, it is overdue like any installment.
  chain.Advance(3);
  EXPECT_GT(chain.GetLoan("L1").Dpd(chain.Today()), 0);
  // Without the term, misuse changes the rate but not the schedule.
  Chain plain;
  const std::string c = plain.Admit("no-accelerate");
  plain.Originate("L2", c, 1000000, 10, {{"daily-rate-num", "2"}, {"daily-rate-den", "10000"}});
  ASSERT_TRUE(plain.Send("payee-bank", "va.spend", {{"loan", "L2"}, {"amount-fen", "1000000"}, {"counterparty", "merchant"}, {"mcc", "5712"}, {"channel", "pos"}}).accepted);
  ASSERT_TRUE(plain.Send("payee-bank", "use.attest", {{"loan", "L2"}, {"amount-fen", "600000"}, {"counterparty", "merchant"}, {"mcc", "4829"}, {"channel", "online"}, {"ref", "STMT-2"}}).accepted);
  EXPECT_EQ(plain.GetLoan("L2").installments.size(), 10u);
  EXPECT_EQ(plain.GetLoan("L2").terms.overdue_daily_rate.num * 10000, 3 * plain.GetLoan("L2").terms.overdue_daily_rate.den);  // 1.5 × = the default multiplier
}

// Money still unused in the virtual account use_deadline_days (30) after the value date prompts
// the borrower to return it or prepay: on that day, not before, once.
TEST(LendingUse, UnusedMoneyIsPromptedAtTheUseDeadline) {
  Chain chain;
  const std::string b = chain.Admit("deadline");
  chain.Originate("L1", b, 1000000);
  const Loan loan = chain.GetLoan("L1");
  ASSERT_EQ(loan.use_deadline_day, loan.value_day + 30);
  chain.AdvanceTo(loan.use_deadline_day - 1);
  EXPECT_EQ(Count(Events(chain, "loan-event/L1/"), "USE_DEADLINE_PASSED"), 0);
  chain.Advance(1);
  EXPECT_EQ(Count(Events(chain, "loan-event/L1/"), "USE_DEADLINE_PASSED"), 1);
  EXPECT_EQ(chain.GetLoan("L1").use_prompted_day, loan.use_deadline_day);
  chain.Advance(5);
  EXPECT_EQ(Count(Events(chain, "loan-event/L1/"), "USE_DEADLINE_PASSED"), 1);
  // Money used in time: no prompt.
  const std::string c = chain.Admit("used");
  chain.Originate("L2", c, 1000000);
  ASSERT_TRUE(chain.Send("payee-bank", "va.spend", {{"loan", "L2"}, {"amount-fen", "1000000"}, {"counterparty", "merchant"}, {"mcc", "5712"}, {"channel", "pos"}}).accepted);
  chain.Advance(40);
  EXPECT_EQ(Count(Events(chain, "loan-event/L2/"), "USE_DEADLINE_PASSED"), 0);
  // Paid out the business day after its funding: the deadline still counts from the value date.
  const std::string d = chain.Admit("paid-next-day");
  chain.Auth(d);
  ASSERT_TRUE(chain.Send("lead-bank", "loan.draw", chain.Draw("L3", d, 1000000, 20)).accepted);
  ASSERT_TRUE(chain.Send("partner-bank", "loan.approve", {{"loan", "L3"}, {"decision", "approve"}, {"approval-sha256", std::string(64, 'b')}, {"model", "p-1"}}).accepted);
  const Loan legs = chain.GetLoan("L3");
  ASSERT_TRUE(chain.Send("lead-bank", "loan.fund", {{"loan", "L3"}, {"amount-fen", std::to_string(legs.lenders[0].funded_fen)}, {"ref", "a"}}).accepted);
  ASSERT_TRUE(chain.Send("partner-bank", "loan.fund", {{"loan", "L3"}, {"amount-fen", std::to_string(legs.lenders[1].funded_fen)}, {"ref", "b"}}).accepted);
  const std::int64_t value_day = chain.GetLoan("L3").value_day;
  chain.Advance(1);
  ASSERT_TRUE(chain.Send("payee-bank", "loan.payout", {{"loan", "L3"}, {"amount-fen", "1000000"}, {"account", "VA-L3"}}).accepted);
  EXPECT_EQ(chain.GetLoan("L3").use_deadline_day, value_day + 30);
}

// R-PRE-02 judges borrowing at several institutions on the overdue loans of the last
// multi_lender_lookback_months (24): a snapshot whose count covers fewer months cannot show a
// clean record and is refused pending a full one; one that states no window attests over the
// rules' window; a borrower at one institution is not judged on it.
TEST(LendingAdmission, TheOverdueCountMustCoverTheLookbackWindow) {
  Chain chain;
  auto snapshot = [&](const std::string& b, const std::string& institutions, const std::string& months) {
    Fields f = {{"borrower", b}, {"institutions", institutions}, {"outstanding-fen", "0"},
                {"limits-fen", "5000000"}, {"overdue-count", "0"}, {"queries-90d", "1"},
                {"valid-until", FormatDate(chain.Today() + 30)}};
    if (!months.empty()) f["lookback-months"] = months;
    Receipt r = chain.Send("credit-bureau", "bureau.snapshot", f);
    EXPECT_TRUE(r.accepted) << r.message;
  };
  const std::string b = crypto::ToHex(crypto::Sha256("lookback"));
  snapshot(b, "3", "12");
  Receipt short_window = chain.Send("lead-bank", "borrower.admit", AdmitFields(chain, b));
  EXPECT_EQ(short_window.code, "bureau-lookback-short") << short_window.message;
  EXPECT_NE(short_window.message.find("12 months"), std::string::npos) << short_window.message;
  EXPECT_FALSE(chain.tree().Get("borrower/" + b).has_value());
  snapshot(b, "3", "24");
  Receipt full = chain.Send("lead-bank", "borrower.admit", AdmitFields(chain, b));
  ASSERT_TRUE(full.accepted) << full.message;
  EXPECT_EQ(full.outputs.at("multi-lender"), "flagged");
  // At one institution the window does not matter.
  const std::string single = crypto::ToHex(crypto::Sha256("lookback single"));
  snapshot(single, "1", "6");
  EXPECT_TRUE(chain.Send("lead-bank", "borrower.admit", AdmitFields(chain, single)).accepted);
  // The window is the parameter's: raised to 36, a 24-month count is short; no window stated
  // attests over the rules' window.
  Govern(chain, "LB36", R"({"multi_lender_lookback_months":36})");
  const std::string c = crypto::ToHex(crypto::Sha256("lookback 36"));
  snapshot(c, "3", "24");
  EXPECT_EQ(chain.Send("lead-bank", "borrower.admit", AdmitFields(chain, c)).code, "bureau-lookback-short");
  snapshot(c, "3", "");
  EXPECT_TRUE(chain.Send("lead-bank", "borrower.admit", AdmitFields(chain, c)).accepted);
  // Out of range: refused as a field.
  Fields bad = {{"borrower", c}, {"institutions", "3"}, {"outstanding-fen", "0"}, {"limits-fen", "5000000"},
                {"overdue-count", "0"}, {"queries-90d", "1"}, {"valid-until", FormatDate(chain.Today() + 30)},
                {"lookback-months", "0"}};
  EXPECT_EQ(chain.Send("credit-bureau", "bureau.snapshot", bad).code, "invalid-field");
}

}  // namespace
}  // namespace colend::contracts::testing
