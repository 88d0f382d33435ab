// Money over random loan lifecycles, checked against an independent oracle (lending_oracle.h):
// for every loan the schedule, every repayment's allocation and split, the penalty and interest
// charged, held credit, the settlement quote, closure and write-off are recomputed from
// docs/lending-rules.md with the test's own exact arithmetic and compared to the ledger to the
// fen. The ledger is read as the JSON the chain stores and the receipts it returns; this file
// includes neither contracts/lending/money.h nor contracts/lending/loan_model.h.
//
// The domain: both profiles; random genesis parameters (drawdown unit down to 1 fen, daily rates
// from 0 to the cap as arbitrary fractions, terms 1..36, both methods and annuity rules, both
// split methods, lead shares across the profile's bounds, penalty multiplier, annual cost cap
// (0 included), day basis, compounding, grace 0..3, loss threshold); money-term changes by
// governance while loans run; several loans per borrower at once; payments on time, in grace,
// late by up to 400 days and more, partial, odd amounts, held credit, refused over-payments,
// early settlements, write-offs with later recoveries; loans left open at the end.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "contracts/executor.h"
#include "contracts/lending/lending.h"
#include "contracts/state.h"
#include "genesis/genesis.h"
#include "tests/contracts/executor_chain.h"
#include "tests/contracts/lending_oracle.h"

namespace colend::contracts {
namespace {

using json = nlohmann::json;
using namespace colend::oracle;  // NOLINT: the oracle's arithmetic
using Fields = std::map<std::string, std::string>;

const i64 kDay0 = DaysFromCivil(2026, 11, 28);

// The chain, read only through the JSON it stores and the receipts it returns.
class Ledger {
 public:
  explicit Ledger(const json& params) {
    executor_ = std::make_unique<Executor>(testing::DefaultInstitutionRules("colend-oracle", true));
    StateWrites w;
    w["params/current-version"] = "1";
    w["params/v1"] = params.dump();
    w["clock/business-day"] = std::to_string(kDay0);
    tree_.Apply(w);
    for (const char* bank : {"lead-bank", "partner-bank"}) {
      EXPECT_TRUE(Send(bank, "bank.figures", {{"tier1-capital-fen", "10000000000000"}, {"total-loans-fen", "100000000000000"}, {"valid-until", "2999-12-31"}}).accepted);
    }
  }
  Receipt Send(const std::string& sender, const std::string& type, Fields fields) {
    TxBody body;
    body.chain_id = "colend-oracle";
    body.sender = sender;
    body.nonce = ++nonce_;
    body.timestamp_ms = time_ms_;
    body.type = type;
    body.fields = std::move(fields);
    Receipt r = testing::ExecuteOne(*executor_, &tree_, std::move(body), ++height_, time_ms_);
    time_ms_ += 1000;
    return r;
  }
  i64 Today() const { return std::stoll(*tree_.Get("clock/business-day")); }
  json Get(const std::string& key) const {
    auto v = tree_.Get(key);
    return v ? json::parse(*v) : json();
  }
  json Params() const { return Get("params/v" + *tree_.Get("params/current-version")); }
  std::string Admit(const std::string& seed) {
    std::string b = crypto::ToHex(crypto::Sha256("borrower " + seed));
    const std::string today = IsoDate(Today());
    EXPECT_TRUE(Send("credit-bureau", "bureau.snapshot", {{"borrower", b}, {"institutions", "1"}, {"outstanding-fen", "0"}, {"limits-fen", "5000000"}, {"overdue-count", "0"}, {"queries-90d", "1"}, {"valid-until", IsoDate(Today() + 30)}}).accepted);
    Receipt r = Send("lead-bank", "borrower.admit", {{"borrower", b}, {"score", "800"}, {"model", "wb-risk-2026.1"}, {"age-band", "30-34"}, {"kyc-level", "3"}, {"kyc-date", today}, {"consent-date", today}, {"consent-credit-query", "yes"}, {"consent-colending", "yes"}});
    EXPECT_TRUE(r.accepted) << r.code << " " << r.message;
    return b;
  }

 private:
  std::unique_ptr<Executor> executor_;
  StateTree tree_;
  std::uint64_t nonce_ = 0, height_ = 0;
  std::int64_t time_ms_ = (kDay0 * 86400 + 3600) * 1000;  // 09:00 Shanghai
};

Frac RateOf(const json& j) { return {j.at("num").get<i64>(), j.at("den").get<i64>()}; }
json RateJson(i64 n, i64 d) { return {{"num", n}, {"den", d}}; }
i64 Out(const Receipt& r, const std::string& key) {
  auto it = r.outputs.find(key);
  return it == r.outputs.end() ? -1 : std::stoll(it->second);
}

template <class T>
const T& Pick(std::mt19937_64& rng, const std::vector<T>& v) { return v[rng() % v.size()]; }

// A random set of money terms (genesis, or a governance change), within the profile's bounds.
json MoneyTerms(std::mt19937_64& rng, const json& base) {
  json c;
  const int lo = base.at("share_min_bps"), hi = base.at("share_max_bps");
  const int lead = std::vector<int>{lo, hi, 2500, 3333, 5000, 4999, lo + 1}[rng() % 7];
  if (lead >= lo && lead <= hi && 10000 - lead >= lo && 10000 - lead <= hi) {
    c["lead_share_bps"] = lead;
    c["partner_share_bps"] = 10000 - lead;
  }
  c["split_method"] = rng() % 2 ? "largest-remainder" : "cumulative-floor-lead-remainder";
  c["amortization_method"] = rng() % 2 ? "equal-principal" : "equal-installment";
  c["annuity_rate_rule"] = rng() % 2 ? "daily-x365/12" : "daily-x30";
  c["penalty_multiplier"] = Pick(rng, std::vector<json>{RateJson(13, 10), RateJson(7, 5), RateJson(3, 2)});
  c["max_total_annual_cost_bps"] = Pick(rng, std::vector<int>{2400, 2400, 1800, 900, 0});
  c["day_basis"] = rng() % 3 ? 365 : 360;
  c["compound_enabled"] = rng() % 4 != 0;
  c["grace_days"] = static_cast<int>(rng() % 4);
  c["loss_dpd"] = Pick(rng, std::vector<int>{360, 300, 271});
  c["draw_unit_fen"] = Pick(rng, std::vector<int>{1, 1, 100, 10000});
  c["min_draw_fen"] = Pick(rng, std::vector<int>{100, 10000});
  c["daily_rate_min"] = RateJson(0, 1);
  c["default_daily_rate"] = Pick(rng, std::vector<json>{RateJson(5, 10000), RateJson(1, 3650), RateJson(0, 1)});
  c["terms"] = Pick(rng, std::vector<json>{{1, 3, 5, 6, 12}, {5, 10, 20}, {2, 7, 24, 36}, {1, 12, 20}});
  return c;
}

// A daily rate within [0, 5/10000]: round, odd and zero fractions.
Frac RandomRate(std::mt19937_64& rng) {
  switch (rng() % 6) {
    case 0: return {static_cast<i128>(2 + rng() % 4), 10000};  // 0.02-0.05 %
    case 1: return {5, 10000};
    case 2: return {static_cast<i128>(1 + rng() % 1825), 3650000};  // up to 18.25 % a year
    case 3: return {static_cast<i128>(rng() % 7), 13999};
    case 4: return {0, 1};
    default: return {static_cast<i128>(1 + rng() % 49999), 100000000};
  }
}

struct Round {
  std::mt19937_64& rng;
  Ledger chain;
  json params;  // what the test expects in force (its own copy, updated by its own governance)
  std::multimap<i64, json> pending;  // effective day → approved changes
  std::string seed, borrower;
  std::map<std::string, OLoan> loans;
  std::map<std::string, int> persona;  // 0 punctual, 1 sloppy, 2 deadbeat, 3 settler, 4 prepayer
  int proposals = 0;
  // Tallies for the coverage checks at the end.
  std::map<std::string, int>& seen;

  Round(std::mt19937_64& r, const json& p, std::map<std::string, int>& s)
      : rng(r), chain(p), params(p), seen(s) {
    seed = "oracle " + std::to_string(rng());
    borrower = chain.Admit(seed);
  }

  // Runs the oracle's daily passes up to `target` alongside the chain's clock.advance.
  void AdvanceTo(i64 target) {
    while (chain.Today() < target) {
      const i64 step = std::min<i64>(400, target - chain.Today());
      const i64 from = chain.Today();
      Receipt r = chain.Send("arbitration", "clock.advance", {{"days", std::to_string(step)}});
      ASSERT_TRUE(r.accepted) << r.code << " " << r.message;
      for (i64 d = from + 1; d <= from + step; ++d) {
        for (auto it = pending.begin(); it != pending.end() && it->first == d;) {
          for (auto& [k, v] : it->second.items()) params[k] = v;
          it = pending.erase(it);
          seen["governance-in-force"]++;
        }
        for (auto& [id, l] : loans) l.Daily(d);
      }
    }
    // Governance as the test expects it is what the chain has in force.
    json actual = chain.Params();
    for (auto& [k, v] : params.items()) {
      if (k != "version") {
        ASSERT_EQ(actual.at(k), v) << k;
      }
    }
  }

  // A money-term change by governance, effective within the next 60 days.
  void Propose() {
    char id_text[16];  // proposals due the same day take effect in id order
    std::snprintf(id_text, sizeof id_text, "P%04d", ++proposals);
    const std::string id = id_text;
    json changes = MoneyTerms(rng, params);
    for (auto it = changes.begin(); it != changes.end();) {  // a random part of them
      if (rng() % 2) it = changes.erase(it); else ++it;
    }
    if (changes.contains("lead_share_bps") != changes.contains("partner_share_bps")) {  // a pair
      changes.erase("lead_share_bps");
      changes.erase("partner_share_bps");
    }
    if (changes.empty()) return;
    const i64 effective = chain.Today() + 1 + static_cast<i64>(rng() % 60);
    Receipt r = chain.Send("lead-bank", "param.propose", {{"proposal", id}, {"changes", changes.dump()}, {"effective-date", IsoDate(effective)}});
    ASSERT_TRUE(r.accepted) << r.code << " " << r.message << " " << changes.dump();
    ASSERT_TRUE(chain.Send("partner-bank", "param.approve", {{"proposal", id}}).accepted);
    Receipt a = chain.Send("payee-bank", "param.approve", {{"proposal", id}});
    ASSERT_EQ(a.outputs.at("proposal-status"), "approved");
    pending.emplace(effective, changes);
    seen["governance-proposed"]++;
  }

  void Originate(const std::string& id) {
    if (chain.Get("borrower/" + borrower).at("next_review_day").get<i64>() <= chain.Today()) {
      ASSERT_EQ(chain.Admit(seed), borrower);  // the yearly review (R-PRE-05): admitted again
      seen["review"]++;
    }
    const json b = chain.Get("borrower/" + borrower);
    const i64 unit = params.at("draw_unit_fen"), min_draw = params.at("min_draw_fen");
    const i64 cap = std::min<i64>(params.at("max_single_draw_fen").get<i64>(), b.at("limit_fen").get<i64>() - b.at("used_fen").get<i64>());
    if (cap < min_draw) return;
    i64 amount = std::vector<i64>{min_draw, cap, min_draw + static_cast<i64>(rng() % (cap - min_draw + 1)),
                                  min_draw + static_cast<i64>(rng() % std::min<i64>(cap - min_draw + 1, 100000))}[rng() % 4];
    amount -= amount % unit;
    if (amount < min_draw) amount += unit;
    if (amount > cap) return;
    const std::vector<int> terms = params.at("terms").get<std::vector<int>>();
    int periods = Pick(rng, terms);
    if (rng() % 8 == 0) {  // the smallest loan over the longest term: maybe no schedule at all
      amount = min_draw + (unit - min_draw % unit) % unit;
      periods = *std::max_element(terms.begin(), terms.end());
    }
    if (amount > cap) return;
    const Frac daily = RandomRate(rng);
    std::string method = params.at("amortization_method");
    Fields draw = {{"loan", id}, {"borrower", borrower}, {"amount-fen", std::to_string(amount)},
                   {"periods", std::to_string(periods)}, {"approval-sha256", std::string(64, 'a')},
                   {"model", "wb-risk-2026.1"}, {"daily-rate-num", std::to_string(static_cast<i64>(daily.n))},
                   {"daily-rate-den", std::to_string(static_cast<i64>(daily.d))}};
    if (rng() % 2) draw["method"] = method = rng() % 2 ? "equal-principal" : "equal-installment";
    // The loan's terms, frozen from the parameters in force (§2.9, §9).
    OLoan l;
    l.id = id;
    l.principal = amount;
    l.daily = daily;
    const bool x365 = params.at("annuity_rate_rule") == "daily-x365/12";
    const Frac period = x365 ? Frac{daily.n * 365, daily.d * 12} : Frac{daily.n * 30, daily.d};
    const Frac mult = RateOf(params.at("penalty_multiplier"));
    const Frac with_mult{daily.n * mult.n, daily.d * mult.d};
    const Frac cap_rate{params.at("max_total_annual_cost_bps").get<i64>(), 10000 * params.at("day_basis").get<i64>()};
    l.overdue = Less(cap_rate, with_mult) ? cap_rate : with_mult;
    l.compound = params.at("compound_enabled");
    l.grace = params.at("grace_days");
    l.largest_remainder = params.at("split_method") == "largest-remainder";
    l.bps = {params.at("lead_share_bps").get<int>(), params.at("partner_share_bps").get<int>()};
    l.value_day = chain.Today();
    const std::vector<Row> rows = Schedule(amount, periods, method == "equal-principal", daily, period, l.value_day);
    ASSERT_TRUE(chain.Send("lead-bank", "auth.result", {{"borrower", borrower}, {"level", "face"}, {"result", "pass"}, {"ref", "r"}}).accepted);
    Receipt r = chain.Send("lead-bank", "loan.draw", draw);
    if (rows.empty()) {  // a period would repay no principal
      ASSERT_EQ(r.code, "invalid-schedule") << id << " " << amount << "/" << periods << " " << r.message;
      seen["invalid-schedule"]++;
      return;
    }
    ASSERT_TRUE(r.accepted) << id << " " << r.code << " " << r.message;
    const std::vector<i64> legs = Targets(l.largest_remainder, l.bps, amount);
    ASSERT_EQ(Out(r, "lead-leg-fen"), legs[0]) << id;
    ASSERT_EQ(Out(r, "partner-leg-fen"), legs[1]) << id;
    ASSERT_TRUE(chain.Send("partner-bank", "loan.approve", {{"loan", id}, {"decision", "approve"}, {"approval-sha256", std::string(64, 'b')}, {"model", "p-1"}}).accepted);
    ASSERT_TRUE(chain.Send("lead-bank", "loan.fund", {{"loan", id}, {"amount-fen", std::to_string(legs[0])}, {"ref", "a"}}).accepted);
    ASSERT_TRUE(chain.Send("partner-bank", "loan.fund", {{"loan", id}, {"amount-fen", std::to_string(legs[1])}, {"ref", "b"}}).accepted);
    r = chain.Send("payee-bank", "loan.payout", {{"loan", id}, {"amount-fen", std::to_string(amount)}, {"account", "VA-" + id}});
    ASSERT_TRUE(r.accepted) << r.message;
    for (const Row& row : rows) l.inst.push_back({row.due, row.principal, row.interest});
    loans[id] = l;
    persona[id] = static_cast<int>(rng() % 5);
    seen[method]++;
    seen[l.largest_remainder ? "largest-remainder" : "cumulative-floor"]++;
    ASSERT_NO_FATAL_FAILURE(Check(id));
  }

  // Compares the ledger's loan with the oracle's, field by field, and the quote it would settle at.
  void Check(const std::string& id) {
    const OLoan& o = loans.at(id);
    const json l = chain.Get("loan/" + id);
    const i64 today = chain.Today();
    ASSERT_EQ(l.at("status"), o.status) << id << " on " << IsoDate(today);
    ASSERT_EQ(l.at("received_fen"), o.received) << id;
    ASSERT_EQ(l.at("credit_balance_fen"), o.credit) << id;
    ASSERT_EQ(l.at("cum_principal_fen"), o.cum[0]) << id;
    ASSERT_EQ(l.at("cum_interest_fen"), o.cum[1]) << id << " interest charged and paid";
    ASSERT_EQ(l.at("cum_penalty_fen"), o.cum[2]) << id << " penalty charged and paid";
    const json& od = l.at("terms").at("overdue_daily_rate");
    ASSERT_TRUE(static_cast<i128>(od[0].get<i64>()) * o.overdue.d == o.overdue.n * od[1].get<i64>()) << id << " overdue rate";
    const json& rows = l.at("installments");
    ASSERT_EQ(rows.size(), o.inst.size()) << id;
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const Inst& i = o.inst[k];
      const std::array<i64, 7> want = {i.due, i.principal, i.interest, i.principal_paid, i.interest_paid, i.penalty_posted, i.penalty_paid};
      for (std::size_t c = 0; c < want.size(); ++c) {
        ASSERT_EQ(rows[k][c + 1].get<i64>(), want[c]) << id << " period " << k + 1 << " column " << c + 1 << " on " << IsoDate(today);
      }
    }
    // Each lender's receipts are its cumulative split of each stream (§2.7).
    i64 with_lenders = 0;
    const char* names[] = {"principal_repaid_fen", "interest_repaid_fen", "penalty_repaid_fen"};
    for (int c = 0; c < 3; ++c) {
      const std::vector<i64> t = Targets(o.largest_remainder, o.bps, o.cum[c]);
      for (std::size_t k = 0; k < 2; ++k) {
        ASSERT_EQ(l.at("lenders")[k].at(names[c]), t[k]) << id << " lender " << k << " " << names[c];
        with_lenders += t[k];
      }
    }
    ASSERT_EQ(with_lenders + o.credit, o.received) << id;
    const std::vector<i64> legs = Targets(o.largest_remainder, o.bps, o.principal);
    for (std::size_t k = 0; k < 2; ++k) ASSERT_EQ(l.at("lenders")[k].at("funded_fen"), legs[k]) << id;
    if (o.status == "closed") {
      for (std::size_t k = 0; k < 2; ++k) ASSERT_EQ(l.at("lenders")[k].at("principal_repaid_fen"), legs[k]) << id;
      return;
    }
    // What settling today would cost: refused at one fen more, naming the quote.
    const i64 quote = o.Quote(today) - o.credit;
    Receipt probe = chain.Send("payee-bank", "loan.settle", {{"loan", id}, {"amount-fen", std::to_string(quote + 1)}});
    ASSERT_EQ(probe.code, "settlement-amount-mismatch") << id;
    ASSERT_EQ(Out(probe, "quote-fen"), quote) << id << " on " << IsoDate(today);
  }

  void ExpectAllocation(const Receipt& r, const OLoan& before, const OLoan& after, const Paid3& got) {
    ASSERT_EQ(Out(r, "allocated.principal-fen"), got.principal) << after.id;
    ASSERT_EQ(Out(r, "allocated.interest-fen"), got.interest) << after.id;
    ASSERT_EQ(Out(r, "allocated.penalty-fen"), got.penalty) << after.id;
    const char* members[] = {"lead-bank", "partner-bank"};
    const char* parts[] = {"principal", "interest", "penalty"};
    for (int c = 0; c < 3; ++c) {
      const std::vector<i64> t0 = Targets(after.largest_remainder, after.bps, before.cum[c]);
      const std::vector<i64> t1 = Targets(after.largest_remainder, after.bps, after.cum[c]);
      for (int k = 0; k < 2; ++k) {
        const i64 want = t1[k] - t0[k];
        const i64 got_k = Out(r, std::string("lender.") + members[k] + "." + parts[c] + "-fen");
        if (got.principal + got.interest + got.penalty > 0) {
          ASSERT_EQ(got_k, want) << after.id << " " << members[k] << " " << parts[c];
        }
      }
    }
  }

  void Repay(const std::string& id, i64 amount) {
    OLoan& o = loans.at(id);
    const OLoan before = o;
    Paid3 got;
    i64 held = 0;
    const i64 today = chain.Today();
    const std::string want = o.Repay(today, std::max<i64>(amount, 1), &got, &held);
    Receipt r = chain.Send("payee-bank", "loan.repay", {{"loan", id}, {"amount-fen", std::to_string(std::max<i64>(amount, 1))}});
    ASSERT_EQ(r.code, want) << id << " repay " << amount << " on " << IsoDate(today) << ": " << r.message;
    seen["repay-" + want]++;
    if (want != "ok") return;
    ASSERT_EQ(Out(r, "credit-held-fen"), held) << id;
    ASSERT_NO_FATAL_FAILURE(ExpectAllocation(r, before, o, got));
    if (got.penalty > 0) seen["penalty-paid"]++;
    if (held > 0) seen["credit-held"]++;
    if (o.status == "closed") seen["closed-by-repay"]++;
  }

  void Settle(const std::string& id) {
    OLoan& o = loans.at(id);
    const OLoan before = o;
    const i64 amount = o.Quote(chain.Today()) - o.credit;
    Paid3 got;
    ASSERT_EQ(o.Settle(chain.Today(), amount, &got), "ok");
    Receipt r = chain.Send("payee-bank", "loan.settle", {{"loan", id}, {"amount-fen", std::to_string(amount)}});
    ASSERT_TRUE(r.accepted) << id << " " << r.code << " " << r.message;
    ASSERT_NO_FATAL_FAILURE(ExpectAllocation(r, before, o, got));
    ASSERT_EQ(Out(r, "interest-waived-fen"), o.interest_waived - before.interest_waived) << id;
    seen[before.status == "written-off" ? "settled-after-writeoff" : "settled"]++;
  }

  // Some of the loan's money is spent at a merchant and the payee bank later attests part of what
  // left the virtual account as money transfer (MCC 4829): misuse, with the misuse rate and its
  // surcharge on principal not yet due (§6.5), from the parameters in force.
  void Misuse(const std::string& id) {
    OLoan& o = loans.at(id);
    const json l = chain.Get("loan/" + id);
    const i64 in_account = l.at("va_balance_fen");
    if (in_account > 0 && o.status == "active") {  // a written-off loan's account is closed
      const i64 spend = 1 + static_cast<i64>(rng() % in_account);
      ASSERT_TRUE(chain.Send("payee-bank", "va.spend", {{"loan", id}, {"amount-fen", std::to_string(spend)}, {"counterparty", "merchant"}, {"mcc", "5712"}, {"channel", "pos"}}).accepted);
    }
    const i64 left_account = o.principal - chain.Get("loan/" + id).at("va_balance_fen").get<i64>();
    const Fields attest = {{"loan", id}, {"counterparty", "merchant"}, {"mcc", "4829"}, {"channel", "online"}, {"ref", "STMT-" + std::to_string(rng() % 100000)}};
    auto with = [&](i64 fen) {
      Fields f = attest;
      f["amount-fen"] = std::to_string(fen);
      return f;
    };
    if (left_account - o.attested <= 0) {  // all of it attested already: one fen more is refused
      if (left_account > 0) {
        ASSERT_EQ(chain.Send("payee-bank", "use.attest", with(1)).code, "amount-above-disbursed");
      }
      return;
    }
    const i64 amount = 1 + static_cast<i64>(rng() % (left_account - o.attested));
    Receipt r = chain.Send("payee-bank", "use.attest", with(amount));
    ASSERT_TRUE(r.accepted) << id << " " << r.code << " " << r.message;
    o.attested += amount;
    const Frac cap{params.at("max_total_annual_cost_bps").get<i64>(), 10000 * params.at("day_basis").get<i64>()};
    const bool first = !o.misuse_seen;
    o.Misuse(chain.Today(), amount, RateOf(params.at("misuse_multiplier")), cap);
    seen[first ? "misuse" : "misuse-again"]++;
    if (o.misuse_from != 0) seen["misuse-surcharge"]++;
  }

  // One step: time passes to the next thing a borrower does, who does it.
  void Step() {
    std::vector<std::string> open;
    for (auto& [id, l] : loans) {
      if (l.Open()) open.push_back(id);
    }
    if (open.size() < 3 && rng() % 3 == 0) {
      ASSERT_NO_FATAL_FAILURE(Originate("L" + std::to_string(loans.size() + 1) + "-" + std::to_string(rng() % 1000)));
      return;
    }
    if (rng() % 12 == 0) {
      ASSERT_NO_FATAL_FAILURE(Propose());
      return;
    }
    if (open.empty()) {
      ASSERT_NO_FATAL_FAILURE(AdvanceTo(chain.Today() + 1 + static_cast<i64>(rng() % 40)));
      return;
    }
    const std::string id = Pick(rng, open);
    const int who = persona.at(id);
    i64 next_due = 0;
    for (const Inst& i : loans.at(id).inst) {
      if (!i.Paid()) { next_due = i.due; break; }
    }
    static const std::vector<i64> kLate[] = {{0, 0, 0, 0, 1, 2, 3}, {0, 1, 2, 5, 15, 40, 70, 120},
                                             {60, 200, 400}, {0, 3, 10, 25}, {0, 0, 5}};
    i64 target = next_due + Pick(rng, kLate[who]) - (who == 4 && rng() % 2 ? 20 : 0);
    ASSERT_NO_FATAL_FAILURE(AdvanceTo(std::max(target, chain.Today())));
    OLoan& o = loans.at(id);
    const i64 today = chain.Today();
    const i64 dpd = o.Dpd(today);
    if (dpd > 0) seen[dpd > 40 ? "late-over-40" : "late"]++;
    if (dpd > 365) seen["late-over-365"]++;
    // A lender writes off its share once the loan is a loss (R-POST-07), the other may follow.
    if (who == 2 && o.status == "active" && dpd > params.at("loss_dpd").get<i64>()) {
      for (const char* bank : {"partner-bank", "lead-bank"}) {
        Receipt w = chain.Send(bank, "loan.writeoff", {{"loan", id}});
        ASSERT_TRUE(w.accepted) << id << " " << w.code << " " << w.message;
      }
      o.status = "written-off";
      seen["written-off"]++;
      if (rng() % 3) persona[id] = 1;  // recoveries follow (a written-off loan is looked at daily)
    }
    if (rng() % 6 == 0) {
      ASSERT_NO_FATAL_FAILURE(Misuse(id));
    }
    const i64 billed = o.Billed(today), quote = o.Quote(today) - o.credit;
    const i64 installment = o.inst.back().principal + o.inst.back().interest;
    switch (who == 3 && rng() % 3 == 0 ? 9 : rng() % 8) {
      case 0: case 1: case 2: ASSERT_NO_FATAL_FAILURE(Repay(id, billed)); break;
      case 3: ASSERT_NO_FATAL_FAILURE(Repay(id, billed + static_cast<i64>(rng() % (installment + 1)))); break;
      case 4: ASSERT_NO_FATAL_FAILURE(Repay(id, 1 + static_cast<i64>(rng() % std::max<i64>(1, billed)))); break;
      case 5: ASSERT_NO_FATAL_FAILURE(Repay(id, rng() % 2 ? quote : quote + 1)); break;
      case 6:
        if (who != 2) {
          ASSERT_NO_FATAL_FAILURE(Repay(id, billed));
        }
        break;
      case 7: break;  // missed
      default: ASSERT_NO_FATAL_FAILURE(Settle(id));
    }
    ASSERT_NO_FATAL_FAILURE(Check(id));
  }

  void CheckAll() {
    i64 used = 0, open = 0;
    for (auto& [id, l] : loans) {
      ASSERT_NO_FATAL_FAILURE(Check(id));
      if (l.Open()) used += l.principal, ++open;
      seen[l.status == "closed" ? "end-closed" : l.status == "active" ? "end-active" : "end-written-off"]++;
    }
    // The limit comes back only with a closed loan; a written-off one still holds it (§8.7).
    ASSERT_EQ(chain.Get("borrower/" + borrower).at("used_fen").get<i64>(), used);
  }
};

TEST(LendingConservation, RandomLifecycles) {
  std::mt19937_64 rng(20261128);
  std::map<std::string, int> seen;
  for (int round = 0; round < 18; ++round) {
    const std::string profile = round % 2 ? "cn-2022" : "case-study";
    json params = *genesis::ProfileParameters(profile);
    params["version"] = 1;
    const json terms = MoneyTerms(rng, params);
    for (auto& [k, v] : terms.items()) params[k] = v;
    ASSERT_TRUE(ValidateParameters(params).ok()) << ValidateParameters(params).error().message;
    Round r(rng, params, seen);
    // At most about four years per round: long-overdue loans are looked at every day, and the
    // test must stay within seconds under the sanitizers.
    for (int step = 0; step < 45 && r.chain.Today() < kDay0 + 1400; ++step) {
      ASSERT_NO_FATAL_FAILURE(r.Step()) << profile << " round " << round << " step " << step;
    }
    ASSERT_NO_FATAL_FAILURE(r.CheckAll()) << profile << " round " << round;
  }
  std::string tally;
  for (auto& [k, v] : seen) tally += k + "=" + std::to_string(v) + " ";
  std::printf("coverage: %s\n", tally.c_str());
  // The domain was covered: each of these happened.
  for (const char* k : {"equal-principal", "equal-installment", "largest-remainder", "cumulative-floor",
                        "repay-ok", "repay-settle-instead", "repay-overpayment", "penalty-paid",
                        "credit-held", "closed-by-repay", "settled", "late-over-40", "late-over-365",
                        "written-off", "governance-in-force", "end-active", "end-written-off",
                        "end-closed", "invalid-schedule", "misuse", "misuse-again", "misuse-surcharge"}) {
    EXPECT_GT(seen[k], 0) << k;
  }
}

}  // namespace
}  // namespace colend::contracts
