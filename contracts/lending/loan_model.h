// The on-chain record of a joint loan and the pure computations over it that the contracts, the
// node's queries and the CLI share: days past due, outstanding amounts, penalty accrued so far,
// the early-settlement quote and the JSON view `colend loan show` prints.
//
// A loan is stored as canonical JSON (nlohmann's object is an ordered map and every number is an
// integer, so the bytes are identical on every node) under "loan/<id>".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "contracts/lending/money.h"
#include "crypto/result.h"

namespace colend::contracts {

// Five-category classification (五级分类), in order of severity.
enum class LoanClass { kNormal = 0, kSpecialMention, kSubstandard, kDoubtful, kLoss };
std::string_view ClassName(LoanClass c);  // normal | special-mention | substandard | doubtful | loss
Result<LoanClass> ParseClass(std::string_view name);

struct LenderShare {
  std::string member;  // member id
  std::string role;    // lead_bank | partner_bank
  int share_bps = 0;
  std::int64_t funded_fen = 0;  // leg amount (R-IN-03)
  bool funding_confirmed = false;
  std::string funding_ref;
  std::int64_t principal_repaid_fen = 0;
  std::int64_t interest_repaid_fen = 0;
  std::int64_t penalty_repaid_fen = 0;
  LoanClass classification = LoanClass::kNormal;
  bool written_off = false;
  bool reported = false;  // a negative credit report is outstanding for this lender's share
  bool operator==(const LenderShare&) const = default;
};

struct InstallmentState {
  int period = 0;
  std::int64_t due_day = 0;
  std::int64_t principal_fen = 0;
  std::int64_t interest_fen = 0;
  std::int64_t principal_paid_fen = 0;
  std::int64_t interest_paid_fen = 0;
  std::int64_t penalty_posted_fen = 0;  // accrued and posted (rounded once per posting)
  std::int64_t penalty_paid_fen = 0;
  std::int64_t accrual_from_day = 0;    // 0: no penalty accruing; else unposted accrual from here
  std::int64_t reminder_day = 0;        // day the AI reminder went out (0: none)
  bool reported = false;

  std::int64_t PrincipalDue() const { return principal_fen - principal_paid_fen; }
  std::int64_t InterestDue() const { return interest_fen - interest_paid_fen; }
  bool Paid() const { return PrincipalDue() == 0 && InterestDue() == 0 && penalty_posted_fen == penalty_paid_fen && accrual_from_day == 0; }
  bool operator==(const InstallmentState&) const = default;
};

// Terms frozen into the loan at drawdown (R-GOV-01: later parameter changes do not touch them).
struct LoanTerms {
  Method method = Method::kEqualInstallment;
  Rational daily_rate;
  Rational period_rate;
  Rational overdue_daily_rate;  // min(daily × penalty multiplier, annual cost cap / day basis)
  bool compound_enabled = true;
  int grace_days = 1;
  int report_delay_days = 1;
  SplitMethod split = SplitMethod::kCumulativeFloorLeadRemainder;
  int param_version = 1;
  bool operator==(const LoanTerms&) const = default;
};

struct Loan {
  std::string id;
  std::string borrower;
  // approval | funding | funded | active | closed | cancelled | written-off
  std::string status;
  std::int64_t principal_fen = 0;
  int periods = 0;
  LoanTerms terms;
  std::vector<LenderShare> lenders;  // lead first
  std::vector<InstallmentState> installments;
  std::string schedule_sha256;
  std::int64_t created_day = 0;
  std::int64_t created_ms = 0;
  std::int64_t value_day = 0;
  std::int64_t closed_day = 0;
  std::string virtual_account;
  std::int64_t va_balance_fen = 0;     // loan money still in the restricted virtual account
  std::int64_t va_spent_fen = 0;
  std::int64_t credit_balance_fen = 0; // received but not yet due (held, applied on due dates)
  std::int64_t received_fen = 0;       // every fen the payee bank passed on for this loan
  // Cumulative streams split between the lenders (docs/lending-rules.md §2.7).
  std::int64_t cum_principal_fen = 0;
  std::int64_t cum_interest_fen = 0;
  std::int64_t cum_penalty_fen = 0;
  // Collection (R-POST-05): none | ai | outsourced | litigation
  std::string collection_stage = "none";
  std::int64_t collection_since_day = 0;
  int ptp_broken = 0;
  int no_contact_days = 0;
  std::uint64_t event_seq = 0;
  // Loan use (R-IN-07, docs/lending-rules.md §6.5): the day unused money must be returned or
  // prepaid (set at payout), the day the borrower was prompted, and attested misuse. Stored only
  // when not zero, so loans without them keep their bytes.
  std::int64_t use_deadline_day = 0;
  std::int64_t use_prompted_day = 0;
  std::int64_t misuse_day = 0;    // first detection
  std::int64_t misused_fen = 0;   // total attested misuse
  std::int64_t attested_fen = 0;  // total attested use, allowed and misused (at most what left)
  // The misuse surcharge (R-IN-07, docs/lending-rules.md §6.5): from detection, the misused
  // principal not yet due bears misuse_multiplier × the contract rate (within the annual cost
  // cap), i.e. the contract rate plus this surcharge, accrued per period and posted as penalty
  // of that period's installment. Unposted accrual runs from misuse_from_day (0: none).
  std::int64_t misuse_from_day = 0;
  Rational misuse_surcharge_rate;

  nlohmann::json ToJson() const;
  // The stored record: exactly ToJson().dump(), written without building the tree (loan_text.cc).
  std::string ToText() const;
  static Result<Loan> FromText(std::string_view text);
  bool operator==(const Loan&) const = default;

  // Days past due on `day`: day − the earliest due date (< day) of an unpaid installment; 0 if
  // none. The grace day counts in DPD (but suppresses penalty and reporting).
  std::int64_t Dpd(std::int64_t day) const;
  // Penalty accrued on an installment up to (not including) `day` but not yet posted:
  // RoundHalfUp(overdue principal × overdue rate × days) + the same on overdue interest when
  // compounding is enabled (docs/lending-rules.md §2.9). 算头不算尾: `day` itself is not counted.
  std::int64_t UnpostedPenalty(const InstallmentState& inst, std::int64_t day) const;
  // The misuse surcharge accrued in `inst`'s period (from the later of the period's start and
  // misuse_from_day, to the earlier of its due date and `day`) and not yet posted:
  // RoundHalfUp(min(misused, principal outstanding in the period) × surcharge rate × days).
  // `inst` must be one of this loan's installments.
  std::int64_t UnpostedMisuse(const InstallmentState& inst, std::int64_t day) const;
  // Posted, unpaid penalty + unposted penalty + unposted misuse surcharge.
  std::int64_t PenaltyDue(const InstallmentState& inst, std::int64_t day) const;
  // Outstanding on `day`: principal not repaid + billed interest not paid + penalty due.
  std::int64_t PrincipalOutstanding() const;
  std::int64_t OverdueTotal(std::int64_t day) const;  // everything due before `day`, unpaid
  // Full early settlement on `day` (R-IN-06): every billed amount (due on or before `day`) with
  // its penalty + the principal not yet billed + RoundHalfUp(that principal × daily × days since
  // the last due date or the value date). No fee.
  std::int64_t SettlementQuote(std::int64_t day) const;
  const LenderShare* Lender(std::string_view member) const;
  LenderShare* Lender(std::string_view member);

  // What `colend loan show --json` prints for `day` (the business date).
  nlohmann::json View(std::int64_t day) const;
};

// Reading and writing "loan/<id>" records through a memo kept per thread (loan_text.cc). Every
// lending transaction reads its loan and writes it back, and the next transaction about the loan
// reads what the last one wrote: parsing that text again was a fifth of executing a block. The
// memo holds, per loan id, the exact text last read or written on this thread and the record it
// parses to, so ReadLoanRecord returns exactly what FromText(text) returns (the same record or
// the same refusal), only without parsing when the text is byte-identical. At most
// kLoanMemoEntries loans are held; when full, the memo is emptied (it only saves time).
inline constexpr std::size_t kLoanMemoEntries = 4096;
Result<Loan> ReadLoanRecord(const std::string& id, const std::string& text);
std::string WriteLoanRecord(const Loan& loan);  // ToText(), remembered as read back

}  // namespace colend::contracts
