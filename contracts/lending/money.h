// Money, rates, dates and repayment schedules for the lending contracts (docs/lending-rules.md
// §2). Everything here is exact integer arithmetic:
//   - amounts are int64 fen (0.01 CNY);
//   - rates are exact rationals (0.05 % a day = 5/10000);
//   - one rounding function, round-half-up to the fen: RoundHalfUp(num, den) = (2·num + den) / (2·den);
//   - the annuity (1+r)^n is computed with unbounded integers, never with floating point.
// Dates are civil days counted from 1970-01-01 (the business date, Asia/Shanghai).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/result.h"

namespace colend::contracts {

// A schedule has at most this many periods (30 years of months).
inline constexpr int kSchedulePeriodsMax = 360;
// Lenders' shares are basis points summing to this.
inline constexpr int kShareBpsTotal = 10000;

// A non-negative rational with a positive denominator, kept reduced.
struct Rational {
  std::int64_t num = 0;
  std::int64_t den = 1;
  static Rational Of(std::int64_t num, std::int64_t den);  // reduces; den > 0, num >= 0
  Rational Times(std::int64_t k) const;                    // exact (reduced)
  Rational Over(std::int64_t k) const;                     // exact (reduced), k > 0
  bool operator==(const Rational&) const = default;
};
bool LessThan(const Rational& a, const Rational& b);  // exact comparison (128-bit)
Rational Min(const Rational& a, const Rational& b);
// a − b, exact and reduced; 0 when b >= a (rates are never negative). Asserts it fits int64.
Rational MinusOrZero(const Rational& a, const Rational& b);
bool IsValidRational(const Rational& r);      // den > 0, num >= 0
std::string RationalText(const Rational& r);  // "num/den"

// Round half up of num/den to an integer; num >= 0, den > 0. Asserts the result fits int64.
std::int64_t RoundHalfUp(unsigned __int128 num, unsigned __int128 den);
// RoundHalfUp(amount · rate · days): one rounding, 128-bit intermediate. amount, days >= 0.
std::int64_t AccrueFen(std::int64_t amount_fen, const Rational& rate, std::int64_t days);

// "0.05%" -> 5/10000, "18%" -> 18/100 (reduced: 9/50), "1.5%" -> 3/200. Exact; up to 8 decimals
// and at most 6 integer digits (below 1,000,000 %, so that num·30 or den·360 fit int64); no sign,
// no exponent, no spaces. Error "invalid-rate" naming the text.
Result<Rational> ParsePercent(std::string_view text);
// "40000.00" / "40000" / "0.5" -> fen. At most 2 decimals, no sign, no exponent, at most
// 10^13 fen. Error "invalid-amount" naming the text.
Result<std::int64_t> ParseCny(std::string_view text);
// 4000000 -> "40,000.00"; negative values get a leading '-'.
std::string FormatCny(std::int64_t fen);

// Civil dates <-> days since 1970-01-01 (proleptic Gregorian).
std::int64_t DaysFromCivil(int year, int month, int day);
void CivilFromDays(std::int64_t days, int* year, int* month, int* day);
Result<std::int64_t> ParseDate(std::string_view yyyy_mm_dd);  // error "invalid-date"
std::string FormatDate(std::int64_t days);                     // "YYYY-MM-DD"
// The due date of period k (k >= 1) of a loan valued on `value_day`: the same day of the month,
// k months later, clamped to the end of the month (Jan 31 + 1 month = Feb 28/29).
std::int64_t AddMonthsClamped(std::int64_t value_day, int months);

enum class Method { kEqualInstallment, kEqualPrincipal };
std::string_view MethodName(Method m);  // "equal-installment" | "equal-principal"
Result<Method> ParseMethod(std::string_view name);  // error "invalid-method"

struct ScheduleInput {
  std::int64_t principal_fen = 0;  // > 0
  int periods = 0;                 // 1..360
  Method method = Method::kEqualInstallment;
  // Equal installment: the period rate r (daily × 30, or annual / 12).
  Rational period_rate;
  // Equal principal: interest = RoundHalfUp(balance × daily_rate × days in the period).
  Rational daily_rate;
  // Value date (days since epoch). If has_value_day is false, due_day is 0 in every row and
  // equal-principal periods count 30 days each.
  bool has_value_day = false;
  std::int64_t value_day = 0;
  // Lender shares in basis points, lead first; they sum to 10000. Used to fill the lead_* and
  // partner_* columns with the cumulative split (SplitIncrement, kCumulativeFloorLeadRemainder)
  // over the principal stream and the interest stream, in period order.
  int lead_share_bps = 2000;
  int partner_share_bps = 8000;
};

struct Installment {
  int period = 0;
  std::int64_t due_day = 0;  // 0 when the input has no value date
  // Days in the period: due_day minus the previous due date (the value date for period 1) when
  // the input has a value date, else 30. Equal principal charges interest for these days; for
  // equal installment they are information only (interest uses the period rate).
  std::int64_t days = 0;
  std::int64_t payment_fen = 0;
  std::int64_t principal_fen = 0;
  std::int64_t interest_fen = 0;
  std::int64_t balance_fen = 0;  // after this installment
  std::int64_t lead_principal_fen = 0;
  std::int64_t partner_principal_fen = 0;
  std::int64_t lead_interest_fen = 0;
  std::int64_t partner_interest_fen = 0;
};

// docs/lending-rules.md §2.2 (equal installment: A = RoundHalfUp(P·r·(1+r)^n / ((1+r)^n − 1)),
// interest RoundHalfUp(B·r) per period, the last installment absorbs the remainder) and §2.5
// (equal principal: principal P/n with the remainder in the last period, interest on the
// balance for the actual days). Postconditions: Σ principal == P, final balance 0, every
// principal > 0. Errors "invalid-schedule" naming the input that is wrong: a principal so small
// that a period would repay 0 fen, principal_fen outside 1..10^13, periods outside 1..360,
// shares that are negative or do not sum to 10000, the method's rate (period_rate or daily_rate)
// not in [0, 1], a value_day outside 1900-01-01..9000-01-01. Rate 0 for equal installment is
// allowed and gives RoundHalfUp(P, n) installments, the last absorbing the remainder.
Result<std::vector<Installment>> BuildSchedule(const ScheduleInput& input);
// SHA-256 (hex) of the schedule's canonical text: one line per row,
// "period due_day payment principal interest balance\n". Stored with the loan.
std::string ScheduleSha256(const std::vector<Installment>& rows);

// Splitting one component stream (principal, interest, penalty, ...) of a loan between its
// lenders (docs/lending-rules.md §2.7). shares_bps sum to 10000, lead first.
enum class SplitMethod { kCumulativeFloorLeadRemainder, kLargestRemainder };
Result<SplitMethod> ParseSplitMethod(std::string_view name);  // "cumulative-floor-lead-remainder"
                                                               // | "largest-remainder"
std::string_view SplitMethodName(SplitMethod m);               // the name ParseSplitMethod reads
// Each lender's cumulative target for a stream total `cum`:
//   cumulative floor: non-lead j gets floor(cum·share_j/10000), the lead the remainder;
//   largest remainder (Hamilton): floors, then the leftover fen one each to the largest
//   fractional parts, ties to the lower index.
std::vector<std::int64_t> SplitTargets(SplitMethod method, const std::vector<int>& shares_bps,
                                       std::int64_t cum);
// The parts of `amount` when the stream's total goes from cum_before to cum_before + amount:
// SplitTargets(after) − SplitTargets(before). They sum to amount.
std::vector<std::int64_t> SplitIncrement(SplitMethod method, const std::vector<int>& shares_bps,
                                         std::int64_t cum_before, std::int64_t amount);

}  // namespace colend::contracts
