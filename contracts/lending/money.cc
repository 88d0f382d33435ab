// Exact money arithmetic: rationals, round-half-up, parsing and formatting amounts, and the
// lender split (docs/lending-rules.md §2.1, §2.7). Civil dates are in civil_date.cc, repayment
// schedules in schedule.cc. No floating point, no clock, no I/O: every node computes the same fen.
#include "contracts/lending/money.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <numeric>

#include "contracts/fields.h"  // kAmountFenMax

namespace colend::contracts {
namespace {

using u128 = unsigned __int128;
using i128 = __int128;

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr int kPercentDecimalsMax = 8;
constexpr int kPercentIntegerDigitsMax = 6;  // below 1,000,000 %: products stay within int64

// a · b · c in 128 bits; asserts there is no overflow.
u128 MulChecked(u128 a, u128 b, u128 c = 1) {
  u128 ab = 0, abc = 0;
  [[maybe_unused]] bool overflow = __builtin_mul_overflow(a, b, &ab);
  overflow |= __builtin_mul_overflow(ab, c, &abc);
  assert(!overflow);
  return abc;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool IsValidRational(const Rational& r) { return r.den > 0 && r.num >= 0; }

std::string RationalText(const Rational& r) {
  return std::to_string(r.num) + "/" + std::to_string(r.den);
}

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

Result<SplitMethod> ParseSplitMethod(std::string_view name) {
  if (name == "cumulative-floor-lead-remainder") return SplitMethod::kCumulativeFloorLeadRemainder;
  if (name == "largest-remainder") return SplitMethod::kLargestRemainder;
  return MakeError("invalid-split-method",
                   "unknown split method '" + std::string(name) +
                       "' (cumulative-floor-lead-remainder or largest-remainder)");
}

std::string_view SplitMethodName(SplitMethod m) {
  return m == SplitMethod::kLargestRemainder ? "largest-remainder" : "cumulative-floor-lead-remainder";
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
