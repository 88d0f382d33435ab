// Repayment schedules (docs/lending-rules.md §2.2-2.6): equal installment with the annuity in
// unbounded integers, equal principal with actual days, due dates, the lender columns and the
// schedule hash. Exact integer arithmetic only.
#include <algorithm>
#include <cassert>
#include <string>
#include <vector>

#include "contracts/fields.h"  // kAmountFenMax
#include "contracts/lending/money.h"
#include "crypto/hash.h"

namespace colend::contracts {
namespace {

using u128 = unsigned __int128;


// An unbounded unsigned integer for the annuity factor (1+r)^n, whose numerator and
// denominator exceed 128 bits (203^20 already needs 154). Little-endian 32-bit limbs with no
// leading zero limb; zero is the empty vector. Correctness over speed: n <= 360.
class BigUint {
 public:
  BigUint() = default;
  explicit BigUint(u128 value) {
    while (value != 0) {
      limbs_.push_back(static_cast<std::uint32_t>(value));
      value >>= 32;
    }
  }

  bool IsZero() const { return limbs_.empty(); }

  std::size_t BitLength() const {
    if (limbs_.empty()) return 0;
    std::size_t bits = 32 * (limbs_.size() - 1);
    for (std::uint32_t top = limbs_.back(); top != 0; top >>= 1) ++bits;
    return bits;
  }

  // The value as 128 bits; asserts that it fits.
  u128 ToU128() const {
    assert(limbs_.size() <= 4);
    u128 value = 0;
    for (std::size_t i = limbs_.size(); i-- > 0;) value = (value << 32) | limbs_[i];
    return value;
  }

  friend int Compare(const BigUint& a, const BigUint& b) {
    if (a.limbs_.size() != b.limbs_.size()) return a.limbs_.size() < b.limbs_.size() ? -1 : 1;
    for (std::size_t i = a.limbs_.size(); i-- > 0;) {
      if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] < b.limbs_[i] ? -1 : 1;
    }
    return 0;
  }

  friend BigUint operator+(const BigUint& a, const BigUint& b) {
    BigUint sum;
    std::size_t n = std::max(a.limbs_.size(), b.limbs_.size());
    sum.limbs_.resize(n + 1);
    std::uint64_t carry = 0;
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t s = carry + a.Limb(i) + b.Limb(i);
      sum.limbs_[i] = static_cast<std::uint32_t>(s);
      carry = s >> 32;
    }
    sum.limbs_[n] = static_cast<std::uint32_t>(carry);
    sum.Trim();
    return sum;
  }

  // a − b; asserts a >= b.
  friend BigUint operator-(const BigUint& a, const BigUint& b) {
    assert(Compare(a, b) >= 0);
    BigUint diff;
    diff.limbs_.resize(a.limbs_.size());
    std::int64_t borrow = 0;
    for (std::size_t i = 0; i < a.limbs_.size(); ++i) {
      std::int64_t d = static_cast<std::int64_t>(a.limbs_[i]) - b.Limb(i) - borrow;
      borrow = d < 0 ? 1 : 0;
      diff.limbs_[i] = static_cast<std::uint32_t>(d + (borrow << 32));
    }
    assert(borrow == 0);
    diff.Trim();
    return diff;
  }

  friend BigUint operator*(const BigUint& a, const BigUint& b) {
    if (a.IsZero() || b.IsZero()) return BigUint();
    BigUint product;
    product.limbs_.assign(a.limbs_.size() + b.limbs_.size(), 0);
    for (std::size_t i = 0; i < a.limbs_.size(); ++i) {
      std::uint64_t carry = 0;
      for (std::size_t j = 0; j < b.limbs_.size(); ++j) {
        std::uint64_t t =
            static_cast<std::uint64_t>(a.limbs_[i]) * b.limbs_[j] + product.limbs_[i + j] + carry;
        product.limbs_[i + j] = static_cast<std::uint32_t>(t);
        carry = t >> 32;
      }
      product.limbs_[i + b.limbs_.size()] = static_cast<std::uint32_t>(carry);
    }
    product.Trim();
    return product;
  }

  BigUint ShiftLeft(std::size_t bits) const {
    if (IsZero()) return BigUint();
    BigUint shifted;
    std::size_t limb_shift = bits / 32;
    unsigned bit_shift = static_cast<unsigned>(bits % 32);
    shifted.limbs_.assign(limbs_.size() + limb_shift + 1, 0);
    for (std::size_t i = 0; i < limbs_.size(); ++i) {
      std::uint64_t v = static_cast<std::uint64_t>(limbs_[i]) << bit_shift;
      shifted.limbs_[i + limb_shift] |= static_cast<std::uint32_t>(v);
      shifted.limbs_[i + limb_shift + 1] |= static_cast<std::uint32_t>(v >> 32);
    }
    shifted.Trim();
    return shifted;
  }

  void SetBit(std::size_t bit) {
    if (limbs_.size() <= bit / 32) limbs_.resize(bit / 32 + 1, 0);
    limbs_[bit / 32] |= std::uint32_t{1} << (bit % 32);
  }

  // Bit-wise long division: *quotient = n / d, *remainder = n % d; d > 0.
  static void DivMod(const BigUint& n, const BigUint& d, BigUint* quotient, BigUint* remainder) {
    assert(!d.IsZero());
    *quotient = BigUint();
    *remainder = n;
    if (Compare(n, d) < 0) return;
    for (std::size_t shift = n.BitLength() - d.BitLength() + 1; shift-- > 0;) {
      BigUint shifted = d.ShiftLeft(shift);
      if (Compare(*remainder, shifted) >= 0) {
        *remainder = *remainder - shifted;
        quotient->SetBit(shift);
      }
    }
    assert(Compare(*remainder, d) < 0);
  }

  static BigUint Pow(BigUint base, int exponent) {
    assert(exponent >= 0);
    BigUint result(1);
    while (exponent > 0) {
      if (exponent & 1) result = result * base;
      exponent >>= 1;
      if (exponent > 0) base = base * base;
    }
    return result;
  }

 private:
  std::uint32_t Limb(std::size_t i) const { return i < limbs_.size() ? limbs_[i] : 0; }
  void Trim() {
    while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back();
  }

  std::vector<std::uint32_t> limbs_;
};

// Round half up of num/den with unbounded operands; asserts the result fits int64.
std::int64_t RoundHalfUpBig(const BigUint& num, const BigUint& den) {
  BigUint quotient, remainder;
  BigUint::DivMod(num, den, &quotient, &remainder);
  if (Compare(remainder.ShiftLeft(1), den) >= 0) quotient = quotient + BigUint(1);
  assert(quotient.BitLength() <= 63);
  return static_cast<std::int64_t>(quotient.ToU128());
}

Error InvalidSchedule(const std::string& message) { return MakeError("invalid-schedule", message); }

// The principal stream and the interest stream of a schedule, split between lead and partner.
void FillSplitColumns(const ScheduleInput& input, std::vector<Installment>* rows) {
  const std::vector<int> shares = {input.lead_share_bps, input.partner_share_bps};
  std::int64_t principal_cum = 0, interest_cum = 0;
  for (Installment& row : *rows) {
    auto principal = SplitIncrement(SplitMethod::kCumulativeFloorLeadRemainder, shares,
                                    principal_cum, row.principal_fen);
    auto interest = SplitIncrement(SplitMethod::kCumulativeFloorLeadRemainder, shares, interest_cum,
                                   row.interest_fen);
    principal_cum += row.principal_fen;
    interest_cum += row.interest_fen;
    row.lead_principal_fen = principal[0];
    row.partner_principal_fen = principal[1];
    row.lead_interest_fen = interest[0];
    row.partner_interest_fen = interest[1];
  }
}

// Due dates and day counts: period k is due k months after the value date (always counted from
// the value date, not chained, so a Jan 31 loan is due Feb 28, Mar 31, Apr 30, ...).
void FillDates(const ScheduleInput& input, std::vector<Installment>* rows) {
  std::int64_t previous_due = input.value_day;
  for (Installment& row : *rows) {
    if (input.has_value_day) {
      row.due_day = AddMonthsClamped(input.value_day, row.period);
      row.days = row.due_day - previous_due;
      previous_due = row.due_day;
    } else {
      row.due_day = 0;
      row.days = 30;
    }
  }
}

// The annuity A = RoundHalfUp(P·a·(a+b)^n / (b·((a+b)^n − b^n))) for r = a/b > 0.
std::int64_t Annuity(std::int64_t principal_fen, const Rational& r, int periods) {
  assert(r.num > 0 && r.den > 0);
  BigUint a(static_cast<u128>(r.num));
  BigUint b(static_cast<u128>(r.den));
  BigUint growth = BigUint::Pow(a + b, periods);
  BigUint numerator = BigUint(static_cast<u128>(principal_fen)) * a * growth;
  BigUint denominator = b * (growth - BigUint::Pow(b, periods));
  return RoundHalfUpBig(numerator, denominator);
}

Error TooSmall(const ScheduleInput& input, int period, std::int64_t principal_fen) {
  return InvalidSchedule("principal_fen " + std::to_string(input.principal_fen) +
                         " is too small for " + std::to_string(input.periods) +
                         " periods with this method and rate: period " + std::to_string(period) +
                         " would repay " + std::to_string(principal_fen) + " fen of principal");
}

Result<std::vector<Installment>> EqualInstallment(const ScheduleInput& input) {
  const Rational& r = input.period_rate;
  const int n = input.periods;
  const std::int64_t installment =
      r.num == 0 ? RoundHalfUp(static_cast<u128>(input.principal_fen), static_cast<u128>(n))
                 : Annuity(input.principal_fen, r, n);
  std::vector<Installment> rows;
  std::int64_t balance = input.principal_fen;
  for (int k = 1; k <= n; ++k) {
    Installment row;
    row.period = k;
    row.interest_fen = AccrueFen(balance, r, 1);
    row.principal_fen = k < n ? installment - row.interest_fen : balance;
    if (row.principal_fen <= 0) return TooSmall(input, k, row.principal_fen);
    // A rounded-up installment on a tiny loan can repay everything before the last period,
    // which would then repay nothing.
    if (k < n && row.principal_fen >= balance) {
      return TooSmall(input, k + 1, balance - row.principal_fen);
    }
    row.payment_fen = row.principal_fen + row.interest_fen;
    balance -= row.principal_fen;
    row.balance_fen = balance;
    rows.push_back(row);
  }
  return rows;
}

Result<std::vector<Installment>> EqualPrincipal(const ScheduleInput& input) {
  const std::int64_t n = input.periods;
  const std::int64_t share = input.principal_fen / n;
  if (share == 0) return TooSmall(input, 1, 0);
  std::vector<Installment> rows(static_cast<std::size_t>(n));
  for (int k = 1; k <= n; ++k) rows[k - 1].period = k;
  FillDates(input, &rows);
  std::int64_t balance = input.principal_fen;
  for (Installment& row : rows) {
    row.interest_fen = AccrueFen(balance, input.daily_rate, row.days);
    row.principal_fen = row.period < n ? share : balance;
    row.payment_fen = row.principal_fen + row.interest_fen;
    balance -= row.principal_fen;
    row.balance_fen = balance;
  }
  return rows;
}

Status CheckInput(const ScheduleInput& input) {
  if (input.principal_fen <= 0 || input.principal_fen > kAmountFenMax) {
    return InvalidSchedule("principal_fen must be 1.." + std::to_string(kAmountFenMax) + ", not " +
                           std::to_string(input.principal_fen));
  }
  if (input.periods < 1 || input.periods > kSchedulePeriodsMax) {
    return InvalidSchedule("periods must be 1.." + std::to_string(kSchedulePeriodsMax) + ", not " +
                           std::to_string(input.periods));
  }
  if (input.lead_share_bps < 0 || input.partner_share_bps < 0 ||
      input.lead_share_bps + input.partner_share_bps != kShareBpsTotal) {
    return InvalidSchedule("lead_share_bps and partner_share_bps must be non-negative and sum to " +
                           std::to_string(kShareBpsTotal) + ", not " +
                           std::to_string(input.lead_share_bps) + " + " +
                           std::to_string(input.partner_share_bps));
  }
  // Rates above 100 % per period (or per day) are not loans; the bound also keeps every payment
  // within 31 × the principal, far inside int64.
  const bool annuity = input.method == Method::kEqualInstallment;
  const Rational& rate = annuity ? input.period_rate : input.daily_rate;
  const char* name = annuity ? "period_rate" : "daily_rate";
  if (!IsValidRational(rate) || LessThan(Rational{1, 1}, rate)) {
    return InvalidSchedule(std::string(name) + " must be a rational in [0, 1], not " +
                           RationalText(rate));
  }
  if (input.has_value_day && (input.value_day < DaysFromCivil(1900, 1, 1) ||
                              input.value_day > DaysFromCivil(9000, 1, 1))) {
    return InvalidSchedule("value_day " + std::to_string(input.value_day) +
                           " is outside 1900-01-01..9000-01-01");
  }
  return Status::Ok();
}

}  // namespace

std::string_view MethodName(Method m) {
  switch (m) {
    case Method::kEqualInstallment:
      return "equal-installment";
    case Method::kEqualPrincipal:
      return "equal-principal";
  }
  assert(false);
  return "";
}

Result<Method> ParseMethod(std::string_view name) {
  if (name == "equal-installment") return Method::kEqualInstallment;
  if (name == "equal-principal") return Method::kEqualPrincipal;
  return MakeError("invalid-method", "unknown repayment method '" + std::string(name) +
                                         "' (equal-installment or equal-principal)");
}

Result<std::vector<Installment>> BuildSchedule(const ScheduleInput& input) {
  COLEND_RETURN_IF_ERROR(CheckInput(input));
  auto rows =
      input.method == Method::kEqualInstallment ? EqualInstallment(input) : EqualPrincipal(input);
  if (!rows.ok()) return rows;
  if (input.method == Method::kEqualInstallment) FillDates(input, &*rows);
  FillSplitColumns(input, &*rows);

  // Postconditions (docs/lending-rules.md §2.2): Σ principal == P, final balance 0, every
  // principal > 0, payment == principal + interest, lender columns add up.
  std::int64_t principal_sum = 0;
  for (const Installment& row : *rows) {
    assert(row.principal_fen > 0);
    assert(row.payment_fen == row.principal_fen + row.interest_fen);
    assert(row.lead_principal_fen + row.partner_principal_fen == row.principal_fen);
    assert(row.lead_interest_fen + row.partner_interest_fen == row.interest_fen);
    principal_sum += row.principal_fen;
  }
  assert(principal_sum == input.principal_fen);
  assert(rows->size() == static_cast<std::size_t>(input.periods));
  assert(rows->back().balance_fen == 0);
  return rows;
}

std::string ScheduleSha256(const std::vector<Installment>& rows) {
  std::string text;
  for (const Installment& row : rows) {
    text += std::to_string(row.period) + " " + std::to_string(row.due_day) + " " +
            std::to_string(row.payment_fen) + " " + std::to_string(row.principal_fen) + " " +
            std::to_string(row.interest_fen) + " " + std::to_string(row.balance_fen) + "\n";
  }
  return crypto::ToHex(crypto::Sha256(text));
}

}  // namespace colend::contracts
