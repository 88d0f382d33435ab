// A one-process chain for contract tests: the executor over a state tree, one transaction per
// block, with the five default institutions and helpers for admission and origination.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "contracts/contract.h"
#include "contracts/lending/lending.h"
#include "contracts/lending/loan_model.h"
#include "contracts/lending/money.h"
#include "executor_chain.h"
#include "genesis/genesis.h"

namespace colend::contracts::testing {

using json = nlohmann::json;
using Fields = std::map<std::string, std::string>;

const std::int64_t kStartDay = DaysFromCivil(2026, 11, 28);
const std::int64_t kStartMs = (kStartDay * 86400 + 3600) * 1000;  // 09:00 Shanghai

// A one-process chain: the executor over a state tree, one transaction per block.
class Chain {
 public:
  explicit Chain(const std::string& profile = "case-study", bool dev_clock = true,
                 bool bank_figures = true) {
    ChainRules rules = DefaultInstitutionRules("colend-test", dev_clock);
    executor_ = std::make_unique<Executor>(rules);
    json params = *genesis::ProfileParameters(profile);
    params["version"] = 1;
    StateWrites w;
    w["params/current-version"] = "1";
    w["params/v1"] = params.dump();
    w["clock/business-day"] = std::to_string(kStartDay);
    tree_.Apply(w);
    if (bank_figures) {  // large banks: the concentration caps do not bind
      for (const char* bank : {"lead-bank", "partner-bank"}) {
        Receipt r = Send(bank, "bank.figures", {{"tier1-capital-fen", "10000000000000"}, {"total-loans-fen", "100000000000000"}, {"valid-until", "2999-12-31"}});
        EXPECT_TRUE(r.accepted) << r.message;
      }
    }
  }

  Receipt Send(const std::string& sender, const std::string& type, Fields fields) {
    TxBody body;
    body.chain_id = "colend-test";
    body.sender = sender;
    body.nonce = ++nonce_;
    body.timestamp_ms = time_ms_;
    body.type = type;
    body.fields = std::move(fields);
    Receipt r = ExecuteOne(*executor_, &tree_, std::move(body), ++height_, time_ms_, &last_writes_);
    time_ms_ += 1000;
    return r;
  }

  // A member joins (as a membership epoch would add it), with a fresh key.
  void AddMember(const std::string& id, const std::string& role) {
    auto members = executor_->rules().members;
    members.emplace(id, MemberRecord{id, role, crypto::PrivateKey::Generate(crypto::Suite::kStd)->Public()});
    executor_->SetMembers(std::move(members));
  }
  std::vector<std::string> MemberIds() const {
    std::vector<std::string> ids;
    for (const auto& [id, m] : executor_->rules().members) ids.push_back(id);
    return ids;
  }
  std::int64_t Today() const { return BusinessDay(tree_); }
  void Advance(std::int64_t days) {
    if (days <= 0) return;
    Receipt r = Send("lead-bank", "clock.advance", {{"days", std::to_string(days)}});
    ASSERT_TRUE(r.accepted) << r.message;
  }
  void AdvanceTo(std::int64_t day) { Advance(day - Today()); }
  Loan GetLoan(const std::string& id) const {
    auto v = tree_.Get("loan/" + id);
    EXPECT_TRUE(v.has_value()) << id;
    return *Loan::FromText(*v);
  }
  json Borrower(const std::string& b) const { return json::parse(*tree_.Get("borrower/" + b)); }
  StateTree& tree() { return tree_; }
  const StateWrites& last_writes() const { return last_writes_; }
  void AddMs(std::int64_t ms) { time_ms_ += ms; }

  // Admission with a clean bureau snapshot; returns the borrower id.
  std::string Admit(const std::string& seed, int score = 720) {
    std::string b = crypto::ToHex(crypto::Sha256("borrower " + seed));
    std::string today = FormatDate(Today());
    EXPECT_TRUE(Send("credit-bureau", "bureau.snapshot",
                     {{"borrower", b}, {"institutions", "1"}, {"outstanding-fen", "0"},
                      {"limits-fen", "5000000"}, {"overdue-count", "0"}, {"queries-90d", "1"},
                      {"valid-until", FormatDate(Today() + 30)}})
                    .accepted);
    Receipt r = Send("lead-bank", "borrower.admit",
                     {{"borrower", b}, {"score", std::to_string(score)}, {"model", "wb-risk-2026.1"},
                      {"age-band", "30-34"}, {"kyc-level", "3"}, {"kyc-date", today}, {"consent-date", today},
                      {"consent-credit-query", "yes"}, {"consent-colending", "yes"}});
    EXPECT_TRUE(r.accepted) << r.code << " " << r.message;
    return b;
  }
  // The lead bank's verifier attests a passed face check (good for one drawdown).
  void Auth(const std::string& b) {
    ASSERT_TRUE(Send("lead-bank", "auth.result", {{"borrower", b}, {"level", "face"}, {"result", "pass"}, {"ref", "r"}}).accepted);
  }
  Fields Draw(const std::string& loan, const std::string& b, std::int64_t fen, int periods = 20) {
    return {{"loan", loan}, {"borrower", b}, {"amount-fen", std::to_string(fen)},
            {"periods", std::to_string(periods)}, {"approval-sha256", std::string(64, 'a')},
            {"model", "wb-risk-2026.1"}};
  }
  // Draw, approve, fund both legs and pay out.
  void Originate(const std::string& loan, const std::string& b, std::int64_t fen, int periods = 20,
                 Fields extra = {}) {
    Fields d = Draw(loan, b, fen, periods);
    for (auto& [k, v] : extra) d[k] = v;
    Auth(b);
    Receipt r = Send("lead-bank", "loan.draw", d);
    ASSERT_TRUE(r.accepted) << r.code << " " << r.message;
    ASSERT_TRUE(Send("partner-bank", "loan.approve", {{"loan", loan}, {"decision", "approve"}, {"approval-sha256", std::string(64, 'b')}, {"model", "p-1"}}).accepted);
    Loan l = GetLoan(loan);
    ASSERT_TRUE(Send("lead-bank", "loan.fund", {{"loan", loan}, {"amount-fen", std::to_string(l.lenders[0].funded_fen)}, {"ref", "a"}}).accepted);
    ASSERT_TRUE(Send("partner-bank", "loan.fund", {{"loan", loan}, {"amount-fen", std::to_string(l.lenders[1].funded_fen)}, {"ref", "b"}}).accepted);
    r = Send("payee-bank", "loan.payout", {{"loan", loan}, {"amount-fen", std::to_string(fen)}, {"account", "VA-" + loan}});
    ASSERT_TRUE(r.accepted) << r.message;
  }
  Receipt Repay(const std::string& loan, std::int64_t fen) {
    return Send("payee-bank", "loan.repay", {{"loan", loan}, {"amount-fen", std::to_string(fen)}});
  }

 private:
  std::unique_ptr<Executor> executor_;
  StateTree tree_;
  std::uint64_t nonce_ = 0, height_ = 0;
  std::int64_t time_ms_ = kStartMs;
  StateWrites last_writes_;
};

// Proposes `changes` effective in two days, approved by every member, and moves the clock there.
inline void Govern(Chain& chain, const std::string& id, const std::string& changes) {
  Receipt p = chain.Send("lead-bank", "param.propose", {{"proposal", id}, {"changes", changes}, {"effective-date", FormatDate(chain.Today() + 2)}});
  ASSERT_TRUE(p.accepted) << p.code << " " << p.message;
  for (const std::string& m : chain.MemberIds()) {
    if (m != "lead-bank") chain.Send(m, "param.approve", {{"proposal", id}});
  }
  chain.Advance(2);
  ASSERT_EQ(json::parse(*chain.tree().Get("proposal/" + id)).at("status"), "active") << changes;
}

}  // namespace colend::contracts::testing
