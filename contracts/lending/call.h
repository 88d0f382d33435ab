// The lending module's shared machinery: the decision helper with the business date and the
// parameter set, and the helpers every lending contract uses (loading and saving loans, events,
// allocation, the daily rules). Internal to contracts/lending/; the module's public surface is
// lending.h. The rules: docs/lending-rules.md.
#pragma once

#include <memory>
#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "contracts/decision.h"
#include "contracts/fields.h"  // kAmountFenMax, kAdvanceDaysMax (also the admission bounds)
#include "contracts/lending/lending.h"
#include "contracts/lending/loan_model.h"
#include "contracts/lending/money.h"

namespace colend::contracts::lending {

using json = nlohmann::json;

// No rule scans a capped prefix of the loans (docs/lending-rules.md §1.3): the daily rules find
// the loans due on a day through the wake index, and drawdown reads per-borrower and per-bank
// counters that every SaveLoan keeps current.
inline constexpr std::size_t kScanAll = std::numeric_limits<std::size_t>::max();

// A lending decision: Decision plus the business date and the parameter set in force (both go
// into the receipt: "business-date", "param-version").
class Call : public Decision {
 public:
  Call(const CallContext& call, StateOverlay* state, Receipt* receipt, std::string rule);

  std::int64_t today() const { return today_; }
  void set_today(std::int64_t day) { today_ = day; }
  const json& params() const { return *params_; }
  int version() const { return version_; }
  std::int64_t events() const { return events_; }
  void ReloadParams();

  // Appends an event under `prefix`/<seq> (e.g. "loan-event/L1").
  void Event(const std::string& prefix, const std::string& rule, const std::string& name,
             json details = json::object());

  // Typed parameters (the set is validated at genesis and on every change).
  using Decision::Int;
  std::int64_t Int(const char* key) const { return params_->at(key).get<std::int64_t>(); }
  Rational Rate(const char* key) const;
  std::string Text(const char* key) const { return params_->at(key).get<std::string>(); }
  // The required "borrower" field: a pseudonymous id (64 lowercase hex digits), never a name.
  Result<std::string> BorrowerId() const;
  // A required date field, YYYY-MM-DD.
  Result<std::int64_t> Date(const char* key) const;

 private:
  std::shared_ptr<const json> params_;  // never null
  int version_ = 0;
  std::int64_t today_ = 0;
  std::int64_t events_ = 0;
};

// ---- Records (book.cc) -----------------------------------------------------------------------

// Loan ids: 1-64 of [A-Za-z0-9._-].
bool IsLoanId(std::string_view s);
// "1,234.56 CNY".
std::string Fen(std::int64_t fen);
Result<json> LoadJson(Call& c, const std::string& key, const char* what);
Result<Loan> LoadLoan(Call& c, const std::string& id);
// "wake/<day, 10 digits>/<loan id>": the open loans the daily rules must look at on that day.
std::string WakeKey(std::int64_t day, const std::string& id);
void AdjustCounter(Call& c, const std::string& key, std::int64_t delta);
std::int64_t Counter(const StateReader& state, const std::string& key);
// A counter a decision depends on: read through the decision, so it is in the inputs hash.
std::int64_t Counter(Call& c, const std::string& key);
// Writes the loan and keeps its wake index entry and its share of the counters current.
void SaveLoan(Call& c, const Loan& loan);
void LoanEvent(Call& c, const Loan& loan, const std::string& rule, const std::string& name,
               json details = json::object());
void BorrowerEvent(Call& c, const std::string& borrower, const std::string& rule,
                   const std::string& name, json details = json::object());
std::vector<int> Shares(const Loan& loan);
Status AdjustUsed(Call& c, const std::string& borrower, std::int64_t delta);
// Closure (R-POST-07): every installment paid → closed, reports withdrawn, limit restored.
void CloseIfPaid(Call& c, Loan& loan);
// R-POST-03: when nothing is past due any more, each outstanding negative report is withdrawn
// (CREDIT_REPORT_UPDATE cured). Run after every payment, whether repaid or from held credit.
void WithdrawReportsIfCured(Call& c, Loan& loan);

// ---- Allocation (allocation.cc) --------------------------------------------------------------

struct Allocation {
  std::int64_t principal = 0, interest = 0, penalty = 0;
  std::map<std::string, std::array<std::int64_t, 3>> per_lender;  // principal, interest, penalty
};
void Split(Loan& loan, int component, std::int64_t amount, Allocation* a);
void PostPenalty(Loan& loan, InstallmentState& inst, std::int64_t day);
void PostMisuse(Loan& loan, std::int64_t day);
void PayInstallment(Loan& loan, InstallmentState& inst, std::int64_t day, std::int64_t* amount,
                    Allocation* a);
std::int64_t ApplyToBilled(Loan& loan, std::int64_t day, std::int64_t amount, Allocation* a);
void OutputAllocation(Call& c, const Allocation& a);
json AllocationJson(const Allocation& a);
void AssertConserved(const Loan& loan);

// ---- The clock (daily_rules.cc, governance.cc) ----------------------------------------------

// R-POST-04: each lender's class from the days past due (an NPL class moves up only when every
// overdue amount is cleared).
void Classify(Call& c, Loan& loan, std::int64_t day);
// R-POST-05: the collection stage (AI → outsourced → litigation; back to none only when cured).
void RouteCollection(Call& c, Loan& loan, std::int64_t day);
// The post-loan rules for one loan on one business day (R-POST-01 .. R-POST-05).
void DailyRules(Call& c, Loan& loan, std::int64_t day);
// R-PRE-05 (docs/lending-rules.md §5.5). A borrower under review may not draw; a review not
// completed (a new borrower.admit) within review_sla_hours, counted in whole business days from
// the day it began, suspends the borrower and freezes the unused limit.
inline constexpr std::int64_t kReviewSlaHoursDefault = 72;
// R-IN-07: days after the value date by which loan money must be used (docs/lending-rules.md §6.5).
inline constexpr std::int64_t kUseDeadlineDaysDefault = 30;
// The daily rules of one clock transaction stop before a new day once they have looked at this
// many loans (parameter clock_loans_per_tx, docs/lending-rules.md §1.2): a day is never split, the
// next clock.tick continues, and a block holds one bounded part of a long advance.
inline constexpr std::int64_t kClockLoansPerTxDefault = 10000;
inline constexpr std::int64_t kClockLoansPerTxMax = 1000000;
std::int64_t ReviewSlaDays(const Call& c);
// Puts the borrower record `rec` under review from `since` (REVIEW_TRIGGERED).
void StartReview(Call& c, json& rec, const std::string& reason, std::int64_t since);
// Brings an admission record up to the business date: a periodic review due, a model version
// activated after the admission or withdrawn, an expired review SLA. True if `rec` changed (the
// caller stores it).
bool RefreshBorrower(Call& c, json& rec);
// Rank of a verification level: none 0, sms 1, face 2, unknown -1 (R-IN-01).
int AuthLevelRank(std::string_view level);

// R-IN-03 timeouts: true if it cancelled the loan (legs reversed, limit restored).
bool CancelExpiredFunding(Call& c, Loan& loan);
// Runs every business day's rules up to `target` and records the new business date.
// Returns the business day reached (the target, or an earlier day when the budget ran out).
std::int64_t AdvanceTo(Call& c, std::int64_t target);
// Activates the approved parameter changes effective on `day` (R-GOV-01).
void ActivateParams(Call& c, std::int64_t day);

// A parameter set that passed ValidateParameters cannot make these throw; should a malformed
// value slip through anyway, every node rejects the transaction the same way instead of crashing.
template <ContractFn fn>
void Guarded(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  try {
    fn(call, state, receipt);
  } catch (const nlohmann::json::exception&) {
    // The library's exception text stays out of the receipt (it is consensus state).
    receipt->accepted = false;
    receipt->code = "bad-parameters";
    receipt->message = "the parameter set or a stored record is malformed";
  }
}

}  // namespace colend::contracts::lending
