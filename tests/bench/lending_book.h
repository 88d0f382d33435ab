// What the lending benchmarks share: a plain ordered-map state (the executor's reads and
// writes without the Merkle tree's hashing) and a book of loans built in-process through the
// executor with the same transactions a network commits (tests/bench/lending_scale_bench.cc,
// tests/bench/micro_bench.cc).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "contracts/contract.h"
#include "contracts/executor.h"
#include "contracts/lending/lending.h"
#include "contracts/lending/loan_model.h"
#include "contracts/lending/money.h"
#include "crypto/hash.h"
#include "genesis/genesis.h"
#include "../contracts/executor_chain.h"

namespace colend::bench {

using namespace colend::contracts;  // NOLINT
using json = nlohmann::json;

class MapState : public StateReader {
 public:
  // What the contracts asked of the state since the last Reset(): the work a rule does, counted
  // (independent of the machine, so a book's growth shows in these exactly).
  struct Ops {
    std::uint64_t gets = 0, scans = 0, scanned = 0, writes = 0;
  };
  std::optional<std::string> Get(std::string_view key) const override {
    ++ops_.gets;
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::pair<std::string, std::string>> Scan(std::string_view prefix,
                                                        std::size_t limit) const override {
    ++ops_.scans;
    std::vector<std::pair<std::string, std::string>> out;
    for (auto it = entries_.lower_bound(prefix);
         it != entries_.end() && it->first.compare(0, prefix.size(), prefix) == 0 && out.size() < limit;
         ++it) {
      out.emplace_back(it->first, it->second);
    }
    ops_.scanned += out.size();
    return out;
  }
  void Apply(const StateWrites& writes) {
    ops_.writes += writes.size();
    for (const auto& [k, v] : writes) {
      if (v) {
        entries_[k] = *v;
      } else {
        entries_.erase(k);
      }
    }
  }
  std::size_t size() const { return entries_.size(); }
  const Ops& ops() const { return ops_; }
  void ResetOps() { ops_ = Ops{}; }

 private:
  mutable Ops ops_;
  std::map<std::string, std::string, std::less<>> entries_;
};

inline const std::int64_t kStartDay = DaysFromCivil(2026, 11, 28);

class Book {
 public:
  Book() {
    ChainRules rules = testing::DefaultInstitutionRules("colend-bench", true);
    executor_ = std::make_unique<Executor>(rules);
    json params = *genesis::ProfileParameters("case-study");
    params["version"] = 1;
    state_.Apply({{"params/current-version", "1"},
                  {"params/v1", params.dump()},
                  {"clock/business-day", std::to_string(kStartDay)}});
    for (const char* bank : {"lead-bank", "partner-bank"}) {
      Must(Send(bank, "bank.figures", {{"tier1-capital-fen", "900000000000000"}, {"total-loans-fen", "900000000000000"}, {"valid-until", "2999-12-31"}}));
    }
  }

  Receipt Send(const std::string& sender, const std::string& type, std::map<std::string, std::string> fields) {
    TxBody body;
    body.chain_id = "colend-bench";
    body.sender = sender;
    body.nonce = ++nonce_;
    body.timestamp_ms = time_ms_;
    body.type = type;
    body.fields = std::move(fields);
    Receipt r = testing::ExecuteOne(*executor_, &state_, std::move(body), ++height_, time_ms_);
    time_ms_ += 1;
    return r;
  }
  static void Must(const Receipt& r) {
    if (!r.accepted) {
      std::fprintf(stderr, "bench: %s refused: %s %s\n", r.type.c_str(), r.code.c_str(), r.message.c_str());
      std::exit(1);
    }
  }
  std::int64_t Today() const { return BusinessDay(state_); }

  std::string Admit(std::uint64_t n) {
    const std::string b = crypto::ToHex(crypto::Sha256("borrower " + std::to_string(n)));
    const std::string today = FormatDate(Today());
    Must(Send("credit-bureau", "bureau.snapshot", {{"borrower", b}, {"institutions", "1"}, {"outstanding-fen", "0"}, {"limits-fen", "5000000"}, {"overdue-count", "0"}, {"queries-90d", "1"}, {"valid-until", FormatDate(Today() + 3000)}}));
    Must(Send("lead-bank", "borrower.admit", {{"borrower", b}, {"score", "720"}, {"model", "wb-risk-2026.1"}, {"age-band", "30-34"}, {"kyc-level", "3"}, {"kyc-date", today}, {"consent-date", today}, {"consent-credit-query", "yes"}, {"consent-colending", "yes"}}));
    return b;
  }
  Receipt Draw(const std::string& loan, const std::string& b) {
    Must(Send("lead-bank", "auth.result", {{"borrower", b}, {"level", "face"}, {"result", "pass"}, {"ref", "r"}}));
    return Send("lead-bank", "loan.draw", {{"loan", loan}, {"borrower", b}, {"amount-fen", "10000"}, {"periods", "5"}, {"approval-sha256", std::string(64, 'a')}, {"model", "wb-risk-2026.1"}});
  }
  void Originate(const std::string& loan, const std::string& b) {
    Must(Draw(loan, b));
    Must(Send("partner-bank", "loan.approve", {{"loan", loan}, {"decision", "approve"}, {"approval-sha256", std::string(64, 'b')}, {"model", "p-1"}}));
    Loan l = *Loan::FromText(*state_.Get("loan/" + loan));
    Must(Send("lead-bank", "loan.fund", {{"loan", loan}, {"amount-fen", std::to_string(l.lenders[0].funded_fen)}, {"ref", "a"}}));
    Must(Send("partner-bank", "loan.fund", {{"loan", loan}, {"amount-fen", std::to_string(l.lenders[1].funded_fen)}, {"ref", "b"}}));
    Must(Send("payee-bank", "loan.payout", {{"loan", loan}, {"amount-fen", "10000"}, {"account", "VA-bench"}}));
  }
  MapState& state() { return state_; }

 private:
  std::unique_ptr<Executor> executor_;
  MapState state_;
  std::uint64_t nonce_ = 0, height_ = 0;
  std::int64_t time_ms_ = (kStartDay * 86400 + 3600) * 1000;
};

}  // namespace colend::bench
