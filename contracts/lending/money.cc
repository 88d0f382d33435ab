// Exact money arithmetic: rationals, round-half-up, parsing, civil dates, repayment schedules and
// the lender split. No floating point, no clock, no I/O: every node must compute the same fen.
#include "contracts/lending/money.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <numeric>

#include "crypto/hash.h"

namespace colend::contracts {
namespace {

using u128 = unsigned __int128;
using i128 = __int128;

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kAmountFenMax = 10'000'000'000'000;  // 10^13 fen = 10^11 CNY
constexpr int kPeriodsMax = 360;
constexpr int kPercentDecimalsMax = 8;
constexpr int kPercentIntegerDigitsMax = 6;  // below 1,000,000 %: products stay within int64
constexpr int kShareBpsTotal = 10000;

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

// a · b · c in 128 bits; asserts there is no overflow.
u128 MulChecked(u128 a, u128 b, u128 c = 1) {
  u128 ab = 0, abc = 0;
  [[maybe_unused]] bool overflow = __builtin_mul_overflow(a, b, &ab);
  overflow |= __builtin_mul_overflow(ab, c, &abc);
  assert(!overflow);
  return abc;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Error InvalidSchedule(const std::string& message) { return MakeError("invalid-schedule", message); }

bool IsValidRational(const Rational& r) { return r.den > 0 && r.num >= 0; }

std::string RationalText(const Rational& r) {
  return std::to_string(r.num) + "/" + std::to_string(r.den);
}

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
  if (input.periods < 1 || input.periods > kPeriodsMax) {
    return InvalidSchedule("periods must be 1.." + std::to_string(kPeriodsMax) + ", not " +
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

Rational Rational::Of(std::int64_t num, std::int64_t den) {
  assert(den > 0 && num >= 0);
  std::int64_t g = std::gcd(num, den);
  return Rational{num / g, den / g};
}

Rational Rational::Times(std::int64_t k) const {
  assert(k >= 0 && den > 0);
  if (k == 0) return Rational{0, 1};
  std::int64_t g = std::gcd(k, den);
  i128 product = static_cast<i128>(num) * (k / g);
  assert(product <= kInt64Max);
  return Of(static_cast<std::int64_t>(product), den / g);
}

Rational Rational::Over(std::int64_t k) const {
  assert(k > 0 && den > 0);
  if (num == 0) return Rational{0, 1};
  std::int64_t g = std::gcd(num, k);
  i128 product = static_cast<i128>(den) * (k / g);
  assert(product <= kInt64Max);
  return Of(num / g, static_cast<std::int64_t>(product));
}

bool LessThan(const Rational& a, const Rational& b) {
  assert(a.den > 0 && b.den > 0);
  return static_cast<i128>(a.num) * b.den < static_cast<i128>(b.num) * a.den;
}

Rational Min(const Rational& a, const Rational& b) { return LessThan(b, a) ? b : a; }

Rational MinusOrZero(const Rational& a, const Rational& b) {
  if (!LessThan(b, a)) return Rational{0, 1};
  const i128 num = static_cast<i128>(a.num) * b.den - static_cast<i128>(b.num) * a.den;
  const i128 den = static_cast<i128>(a.den) * b.den;
  i128 g = num, r = den;  // Euclid (std::gcd is not defined for __int128 in strict C++)
  while (r != 0) {
    const i128 t = g % r;
    g = r;
    r = t;
  }
  assert(num / g <= kInt64Max && den / g <= kInt64Max);
  return Rational{static_cast<std::int64_t>(num / g), static_cast<std::int64_t>(den / g)};
}

std::int64_t RoundHalfUp(u128 num, u128 den) {
  assert(den > 0);
  // (2·num + den) / (2·den) without the 2·num overflow: floor(num/den + 1/2).
  u128 quotient = num / den;
  u128 remainder = num % den;
  if (remainder >= den - remainder) ++quotient;
  assert(quotient <= static_cast<u128>(kInt64Max));
  return static_cast<std::int64_t>(quotient);
}

std::int64_t AccrueFen(std::int64_t amount_fen, const Rational& rate, std::int64_t days) {
  assert(amount_fen >= 0 && days >= 0 && IsValidRational(rate));
  return RoundHalfUp(MulChecked(static_cast<u128>(amount_fen), static_cast<u128>(rate.num),
                                static_cast<u128>(days)),
                     static_cast<u128>(rate.den));
}

Result<Rational> ParsePercent(std::string_view text) {
  auto invalid = [&] {
    return MakeError("invalid-rate",
                     "'" + std::string(text) +
                         "' is not a percentage such as 0.05% or 18% (digits, at most " +
                         std::to_string(kPercentDecimalsMax) + " decimals, then %)");
  };
  if (text.size() < 2 || text.back() != '%') return invalid();
  std::string_view number = text.substr(0, text.size() - 1);
  std::size_t point = number.find('.');
  std::string_view whole = number.substr(0, point);
  std::string_view fraction =
      point == std::string_view::npos ? std::string_view() : number.substr(point + 1);
  if (whole.empty() || (point != std::string_view::npos && fraction.empty())) return invalid();
  if (fraction.size() > kPercentDecimalsMax) return invalid();
  std::int64_t num = 0;
  int significant = 0;
  for (char c : whole) {
    if (!IsDigit(c)) return invalid();
    if (num != 0 || c != '0') ++significant;
    num = num * 10 + (c - '0');
    if (significant > kPercentIntegerDigitsMax) return invalid();
  }
  std::int64_t den = 100;
  for (char c : fraction) {
    if (!IsDigit(c)) return invalid();
    num = num * 10 + (c - '0');
    den *= 10;
  }
  return Rational::Of(num, den);
}

Result<std::int64_t> ParseCny(std::string_view text) {
  auto invalid = [&] {
    return MakeError("invalid-amount", "'" + std::string(text) +
                                           "' is not an amount in CNY such as 40000.00 (digits, "
                                           "at most 2 decimals, no sign, at most " +
                                           FormatCny(kAmountFenMax) + ")");
  };
  std::size_t point = text.find('.');
  std::string_view whole = text.substr(0, point);
  std::string_view fraction =
      point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
  if (whole.empty() || (point != std::string_view::npos && fraction.empty())) return invalid();
  if (fraction.size() > 2) return invalid();
  std::int64_t yuan = 0;
  for (char c : whole) {
    if (!IsDigit(c)) return invalid();
    yuan = yuan * 10 + (c - '0');
    if (yuan > kAmountFenMax / 100) return invalid();
  }
  std::int64_t fen = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    if (i < fraction.size() && !IsDigit(fraction[i])) return invalid();
    fen = fen * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  }
  std::int64_t total = yuan * 100 + fen;
  if (total > kAmountFenMax) return invalid();
  return total;
}

std::string FormatCny(std::int64_t fen) {
  // Magnitude as unsigned so that INT64_MIN formats too.
  std::uint64_t magnitude =
      fen < 0 ? 0 - static_cast<std::uint64_t>(fen) : static_cast<std::uint64_t>(fen);
  std::string yuan = std::to_string(magnitude / 100);
  std::string grouped;
  for (std::size_t i = 0; i < yuan.size(); ++i) {
    if (i > 0 && (yuan.size() - i) % 3 == 0) grouped.push_back(',');
    grouped.push_back(yuan[i]);
  }
  unsigned cents = static_cast<unsigned>(magnitude % 100);
  std::string out = fen < 0 ? "-" : "";
  out += grouped + "." + static_cast<char>('0' + cents / 10) + static_cast<char>('0' + cents % 10);
  return out;
}

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
std::int64_t DaysFromCivil(int year, int month, int day) {
  std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
  std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  std::int64_t yoe = y - era * 400;                                             // [0, 399]
  std::int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;  // [0, 365]
  std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                     // [0, 146096]
  return era * 146097 + doe - 719468;
}

void CivilFromDays(std::int64_t days, int* year, int* month, int* day) {
  days += 719468;
  std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  std::int64_t doe = days - era * 146097;                                    // [0, 146096]
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  std::int64_t y = yoe + era * 400;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);  // [0, 365]
  std::int64_t mp = (5 * doy + 2) / 153;                       // [0, 11]
  *day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = static_cast<int>(y + (*month <= 2 ? 1 : 0));
}

namespace {

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

}  // namespace

Result<std::int64_t> ParseDate(std::string_view text) {
  auto invalid = [&] {
    return MakeError("invalid-date",
                     "'" + std::string(text) + "' is not a calendar date YYYY-MM-DD");
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return invalid();
  auto number = [&](std::size_t from, std::size_t count, int* out) {
    *out = 0;
    for (std::size_t i = from; i < from + count; ++i) {
      if (!IsDigit(text[i])) return false;
      *out = *out * 10 + (text[i] - '0');
    }
    return true;
  };
  int year = 0, month = 0, day = 0;
  if (!number(0, 4, &year) || !number(5, 2, &month) || !number(8, 2, &day)) return invalid();
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return invalid();
  return DaysFromCivil(year, month, day);
}

std::string FormatDate(std::int64_t days) {
  int year = 0, month = 0, day = 0;
  CivilFromDays(days, &year, &month, &day);
  assert(year >= 0 && year <= 9999);
  char buf[11];
  buf[0] = static_cast<char>('0' + year / 1000);
  buf[1] = static_cast<char>('0' + year / 100 % 10);
  buf[2] = static_cast<char>('0' + year / 10 % 10);
  buf[3] = static_cast<char>('0' + year % 10);
  buf[4] = '-';
  buf[5] = static_cast<char>('0' + month / 10);
  buf[6] = static_cast<char>('0' + month % 10);
  buf[7] = '-';
  buf[8] = static_cast<char>('0' + day / 10);
  buf[9] = static_cast<char>('0' + day % 10);
  buf[10] = '\0';
  return buf;
}

std::int64_t AddMonthsClamped(std::int64_t value_day, int months) {
  int year = 0, month = 0, day = 0;
  CivilFromDays(value_day, &year, &month, &day);
  std::int64_t index = static_cast<std::int64_t>(year) * 12 + (month - 1) + months;
  std::int64_t new_year = index >= 0 ? index / 12 : (index - 11) / 12;
  int new_month = static_cast<int>(index - new_year * 12) + 1;
  int last = DaysInMonth(static_cast<int>(new_year), new_month);
  return DaysFromCivil(static_cast<int>(new_year), new_month, std::min(day, last));
}

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

Result<SplitMethod> ParseSplitMethod(std::string_view name) {
  if (name == "cumulative-floor-lead-remainder") return SplitMethod::kCumulativeFloorLeadRemainder;
  if (name == "largest-remainder") return SplitMethod::kLargestRemainder;
  return MakeError("invalid-split-method",
                   "unknown split method '" + std::string(name) +
                       "' (cumulative-floor-lead-remainder or largest-remainder)");
}

std::vector<std::int64_t> SplitTargets(SplitMethod method, const std::vector<int>& shares_bps,
                                       std::int64_t cum) {
  assert(!shares_bps.empty() && cum >= 0);
  assert(std::all_of(shares_bps.begin(), shares_bps.end(), [](int s) { return s >= 0; }));
  assert(std::accumulate(shares_bps.begin(), shares_bps.end(), 0) == kShareBpsTotal);
  const std::size_t n = shares_bps.size();
  std::vector<std::int64_t> targets(n, 0);
  std::vector<std::int64_t> remainders(n, 0);  // cum·share mod 10000: the fractional part
  std::int64_t assigned = 0;
  for (std::size_t j = 0; j < n; ++j) {
    i128 exact = static_cast<i128>(cum) * shares_bps[j];
    targets[j] = static_cast<std::int64_t>(exact / kShareBpsTotal);
    remainders[j] = static_cast<std::int64_t>(exact % kShareBpsTotal);
    assigned += targets[j];
  }
  std::int64_t leftover = cum - assigned;
  assert(leftover >= 0 && leftover < static_cast<std::int64_t>(n));
  if (method == SplitMethod::kCumulativeFloorLeadRemainder) {
    targets[0] += leftover;  // the lead's target is the remainder: cum − Σ non-lead floors
    return targets;
  }
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return remainders[a] > remainders[b];  // stable: ties keep the lower index first
  });
  for (std::int64_t i = 0; i < leftover; ++i) ++targets[order[i]];
  return targets;
}

std::vector<std::int64_t> SplitIncrement(SplitMethod method, const std::vector<int>& shares_bps,
                                         std::int64_t cum_before, std::int64_t amount) {
  assert(cum_before >= 0 && amount >= 0 && cum_before <= kInt64Max - amount);
  std::vector<std::int64_t> before = SplitTargets(method, shares_bps, cum_before);
  std::vector<std::int64_t> parts = SplitTargets(method, shares_bps, cum_before + amount);
  for (std::size_t j = 0; j < parts.size(); ++j) parts[j] -= before[j];
  return parts;
}

}  // namespace colend::contracts
