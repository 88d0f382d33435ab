// Proves that the money code reproduces docs/lending-rules.md to the fen: worked examples 1 and 2
// (§2.3, §2.4) cell by cell, the ×365/12 variant, the 457.00 CNY equal-principal example (§2.5),
// the early-settlement and penalty accruals (§2.8, §2.9) and the split facts (§2.7); and that
// the schedule and split invariants hold over thousands of random loans and streams, with the
// annuity checked against an independent exact computation (its own base-10^9 big numbers).
#include "contracts/lending/money.h"

#include <gtest/gtest.h>

#include <array>
#include <random>

namespace colend::contracts {
namespace {

// --- an independent exact check of the annuity ---------------------------------------------
// Base-10^9 digits, little-endian; only +, × and comparison (no division), so it shares nothing
// with schedule.cc's BigUint.
using Decimal = std::vector<std::uint64_t>;
constexpr std::uint64_t kBase = 1'000'000'000;

Decimal ToDecimal(unsigned __int128 v) {
  Decimal d;
  while (v != 0) {
    d.push_back(static_cast<std::uint64_t>(v % kBase));
    v /= kBase;
  }
  return d;
}

void Trim(Decimal* d) {
  while (!d->empty() && d->back() == 0) d->pop_back();
}

Decimal Add(const Decimal& a, const Decimal& b) {
  Decimal sum(std::max(a.size(), b.size()) + 1, 0);
  std::uint64_t carry = 0;
  for (std::size_t i = 0; i < sum.size(); ++i) {
    std::uint64_t s = carry + (i < a.size() ? a[i] : 0) + (i < b.size() ? b[i] : 0);
    sum[i] = s % kBase;
    carry = s / kBase;
  }
  Trim(&sum);
  return sum;
}

Decimal Mul(const Decimal& a, const Decimal& b) {
  Decimal product(a.size() + b.size() + 1, 0);
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned __int128 carry = 0;
    for (std::size_t j = 0; j < b.size() || carry != 0; ++j) {
      unsigned __int128 t =
          product[i + j] + carry + (j < b.size() ? static_cast<unsigned __int128>(a[i]) * b[j] : 0);
      product[i + j] = static_cast<std::uint64_t>(t % kBase);
      carry = t / kBase;
    }
  }
  Trim(&product);
  return product;
}

int Cmp(const Decimal& a, const Decimal& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  for (std::size_t i = a.size(); i-- > 0;) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

Decimal Power(const Decimal& base, int n) {
  Decimal result = ToDecimal(1);
  for (int i = 0; i < n; ++i) result = Mul(result, base);
  return result;
}

// True iff A = RoundHalfUp(P·r·(1+r)^n / ((1+r)^n − 1)) for r = a/b > 0, i.e.
// (2A−1)·D ≤ 2N < (2A+1)·D with N = P·a·g, D = b·g − b^(n+1), g = (a+b)^n; rearranged so that
// nothing is subtracted.
bool IsRoundedAnnuity(std::int64_t A, std::int64_t P, const Rational& r, int n) {
  if (A < 1) return false;
  Decimal a = ToDecimal(r.num), b = ToDecimal(r.den);
  Decimal g = Power(ToDecimal(r.num + r.den), n);
  Decimal two_n = Mul(ToDecimal(2 * static_cast<unsigned __int128>(P)), Mul(a, g));
  Decimal b_g = Mul(b, g);
  Decimal b_pow = Power(b, n + 1);
  Decimal below = ToDecimal(2 * A - 1), above = ToDecimal(2 * A + 1);
  bool low_ok = Cmp(Mul(below, b_g), Add(two_n, Mul(below, b_pow))) <= 0;
  bool high_ok = Cmp(Add(two_n, Mul(above, b_pow)), Mul(above, b_g)) < 0;
  return low_ok && high_ok;
}

TEST(DecimalCheckTest, RejectsNeighbours) {
  // The checker itself must be able to fail: A ± 1 are not the rounded annuity.
  Rational r = Rational::Of(3, 200);
  EXPECT_TRUE(IsRoundedAnnuity(209089, 1000000, r, 5));
  EXPECT_FALSE(IsRoundedAnnuity(209088, 1000000, r, 5));
  EXPECT_FALSE(IsRoundedAnnuity(209090, 1000000, r, 5));
  EXPECT_TRUE(IsRoundedAnnuity(232983, 4000000, r, 20));
  EXPECT_FALSE(IsRoundedAnnuity(232982, 4000000, r, 20));
}

// --- helpers -------------------------------------------------------------------------------

// k, payment, principal, interest, balance, lead P, lead I, partner P, partner I.
using Row = std::array<std::int64_t, 9>;

Row ToRow(const Installment& i) {
  return {i.period,
          i.payment_fen,
          i.principal_fen,
          i.interest_fen,
          i.balance_fen,
          i.lead_principal_fen,
          i.lead_interest_fen,
          i.partner_principal_fen,
          i.partner_interest_fen};
}

Row Totals(const std::vector<Installment>& rows) {
  Row sum{};
  for (const Installment& i : rows) {
    Row r = ToRow(i);
    for (std::size_t c = 1; c < r.size(); ++c) sum[c] += r[c];
  }
  sum[4] = rows.back().balance_fen;
  return sum;
}

std::vector<Installment> Build(const ScheduleInput& input) {
  auto rows = BuildSchedule(input);
  EXPECT_TRUE(rows.ok()) << rows.error().ToString();
  return rows.ok() ? *rows : std::vector<Installment>{};
}

ScheduleInput Annuity(std::int64_t principal_fen, int periods, Rational period_rate) {
  ScheduleInput input;
  input.principal_fen = principal_fen;
  input.periods = periods;
  input.method = Method::kEqualInstallment;
  input.period_rate = period_rate;
  return input;
}

std::int64_t Day(const char* text) {
  auto day = ParseDate(text);
  EXPECT_TRUE(day.ok()) << text;
  return day.ok() ? *day : 0;
}

// --- worked examples -----------------------------------------------------------------------

TEST(ScheduleTest, WorkedExample1) {  // docs/lending-rules.md §2.3 example
  auto rows = Build(Annuity(1000000, 5, ParsePercent("18%")->Over(12)));
  const std::vector<Row> expected = {
      {1, 209089, 194089, 15000, 805911, 38818, 3000, 155271, 12000},
      {2, 209089, 197000, 12089, 608911, 39400, 2418, 157600, 9671},
      {3, 209089, 199955, 9134, 408956, 39991, 1827, 159964, 7307},
      {4, 209089, 202955, 6134, 206001, 40591, 1227, 162364, 4907},
      {5, 209091, 206001, 3090, 0, 41200, 618, 164801, 2472},
  };
  ASSERT_EQ(rows.size(), expected.size());
  for (std::size_t k = 0; k < rows.size(); ++k) {
    EXPECT_EQ(ToRow(rows[k]), expected[k]) << "period " << k + 1;
    EXPECT_EQ(rows[k].due_day, 0);
    EXPECT_EQ(rows[k].days, 30);
  }
  EXPECT_EQ(Totals(rows), (Row{0, 1045447, 1000000, 45447, 0, 200000, 9090, 800000, 36357}));
}

TEST(ScheduleTest, WorkedExample2) {  // docs/lending-rules.md §2.4 example
  const Rational daily = *ParsePercent("0.05%");
  auto rows = Build(Annuity(4000000, 20, daily.Times(30)));
  const std::vector<Row> expected = {
      {1, 232983, 172983, 60000, 3827017, 34597, 12000, 138386, 48000},
      {2, 232983, 175578, 57405, 3651439, 35116, 11481, 140462, 45924},
      {3, 232983, 178211, 54772, 3473228, 35642, 10955, 142569, 43817},
      {4, 232983, 180885, 52098, 3292343, 36177, 10419, 144708, 41679},
      {5, 232983, 183598, 49385, 3108745, 36719, 9877, 146879, 39508},
      {6, 232983, 186352, 46631, 2922393, 37271, 9327, 149081, 37304},
      {7, 232983, 189147, 43836, 2733246, 37829, 8767, 151318, 35069},
      {8, 232983, 191984, 40999, 2541262, 38397, 8200, 153587, 32799},
      {9, 232983, 194864, 38119, 2346398, 38973, 7623, 155891, 30496},
      {10, 232983, 197787, 35196, 2148611, 39557, 7040, 158230, 28156},
      {11, 232983, 200754, 32229, 1947857, 40151, 6445, 160603, 25784},
      {12, 232983, 203765, 29218, 1744092, 40753, 5844, 163012, 23374},
      {13, 232983, 206822, 26161, 1537270, 41364, 5232, 165458, 20929},
      {14, 232983, 209924, 23059, 1327346, 41985, 4612, 167939, 18447},
      {15, 232983, 213073, 19910, 1114273, 42615, 3982, 170458, 15928},
      {16, 232983, 216269, 16714, 898004, 43254, 3343, 173015, 13371},
      {17, 232983, 219513, 13470, 678491, 43902, 2694, 175611, 10776},
      {18, 232983, 222806, 10177, 455685, 44561, 2035, 178245, 8142},
      {19, 232983, 226148, 6835, 229537, 45230, 1367, 180918, 5468},
      {20, 232980, 229537, 3443, 0, 45907, 689, 183630, 2754},
  };
  ASSERT_EQ(rows.size(), expected.size());
  for (std::size_t k = 0; k < rows.size(); ++k) {
    EXPECT_EQ(ToRow(rows[k]), expected[k]) << "period " << k + 1;
  }
  EXPECT_EQ(Totals(rows), (Row{0, 4659657, 4000000, 659657, 0, 800000, 131932, 3200000, 527725}));
}

TEST(ScheduleTest, WorkedExample2WithDailyTimes365Over12) {  // docs/lending-rules.md §2.4
  const Rational r = ParsePercent("0.05%")->Times(365).Over(12);
  EXPECT_EQ(r, Rational::Of(73, 4800));
  auto rows = Build(Annuity(4000000, 20, r));
  ASSERT_EQ(rows.size(), 20u);
  for (int k = 0; k < 19; ++k) EXPECT_EQ(rows[k].payment_fen, 233462) << "period " << k + 1;
  EXPECT_EQ(rows[19].payment_fen, 233457);
  EXPECT_EQ(Totals(rows)[3], 669235);
  EXPECT_EQ(Totals(rows)[1], 4669235);
}

TEST(ScheduleTest, WorkedExample2DueDatesWhenValued) {
  ScheduleInput input = Annuity(4000000, 20, Rational::Of(3, 200));
  input.has_value_day = true;
  input.value_day = Day("2025-01-31");
  auto rows = Build(input);
  ASSERT_EQ(rows.size(), 20u);
  EXPECT_EQ(FormatDate(rows[0].due_day), "2025-02-28");
  EXPECT_EQ(rows[0].days, 28);
  EXPECT_EQ(FormatDate(rows[1].due_day), "2025-03-31");  // from the value date, not chained
  EXPECT_EQ(rows[1].days, 31);
  EXPECT_EQ(FormatDate(rows[2].due_day), "2025-04-30");
  EXPECT_EQ(FormatDate(rows[12].due_day), "2026-02-28");
  EXPECT_EQ(FormatDate(rows[19].due_day), "2026-09-30");
  // Interest under equal installments uses the period rate; the days are information only.
  EXPECT_EQ(Totals(rows)[3], 659657);
}

TEST(ScheduleTest, EqualPrincipalDailyInterest457Cny) {  // docs/lending-rules.md §2.5 example
  ScheduleInput input;
  input.principal_fen = 1000000;
  input.periods = 5;
  input.method = Method::kEqualPrincipal;
  input.daily_rate = *ParsePercent("0.05%");
  input.has_value_day = true;
  input.value_day = Day("2018-09-11");
  auto rows = Build(input);
  ASSERT_EQ(rows.size(), 5u);
  const std::int64_t interest[] = {15000, 12400, 9000, 6200, 3100};
  const std::int64_t days[] = {30, 31, 30, 31, 31};
  const char* due[] = {"2018-10-11", "2018-11-11", "2018-12-11", "2019-01-11", "2019-02-11"};
  for (int k = 0; k < 5; ++k) {
    EXPECT_EQ(rows[k].interest_fen, interest[k]) << "period " << k + 1;
    EXPECT_EQ(rows[k].days, days[k]) << "period " << k + 1;
    EXPECT_EQ(FormatDate(rows[k].due_day), due[k]);
    EXPECT_EQ(rows[k].principal_fen, 200000);
    EXPECT_EQ(rows[k].payment_fen, 200000 + interest[k]);
    EXPECT_EQ(rows[k].lead_principal_fen, 40000);
  }
  EXPECT_EQ(Totals(rows)[3], 45700);
}

TEST(ScheduleTest, EqualPrincipalRemainderInLastPeriodAnd30DaysWithoutValueDate) {
  ScheduleInput input;
  input.principal_fen = 1000003;
  input.periods = 5;
  input.method = Method::kEqualPrincipal;
  input.daily_rate = Rational::Of(1, 2000);
  auto rows = Build(input);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].principal_fen, 200000);
  EXPECT_EQ(rows[3].principal_fen, 200000);
  EXPECT_EQ(rows[4].principal_fen, 200003);
  EXPECT_EQ(rows[0].interest_fen, 15000);  // RoundHalfUp(1000003 × 30 / 2000) = 15000.045
  EXPECT_EQ(rows[4].interest_fen, 3000);   // RoundHalfUp(200003 × 30 / 2000) = 3000.045
  for (const Installment& row : rows) {
    EXPECT_EQ(row.days, 30);
    EXPECT_EQ(row.due_day, 0);
  }
}

TEST(ScheduleTest, ZeroRateEqualInstallment) {
  auto rows = Build(Annuity(1000003, 5, Rational{0, 1}));
  ASSERT_EQ(rows.size(), 5u);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(rows[k].payment_fen, 200001);
  EXPECT_EQ(rows[4].payment_fen, 199999);
  EXPECT_EQ(Totals(rows)[3], 0);
}

TEST(ScheduleTest, ScheduleHashIsOverTheCanonicalText) {
  // sha256 of "1 0 209089 194089 15000 805911\n2 0 209089 ...\n5 0 209091 206001 3090 0\n".
  auto rows = Build(Annuity(1000000, 5, Rational::Of(3, 200)));
  EXPECT_EQ(ScheduleSha256(rows),
            "003f6429c67cc4d96bdf3d63c0a7b5ebe4d798aa97d909c5585643239a808f47");
  auto changed = rows;
  changed[2].interest_fen += 1;
  EXPECT_NE(ScheduleSha256(changed), ScheduleSha256(rows));
}

TEST(ScheduleTest, RejectsInvalidInputNamingTheField) {
  auto expect_error = [](const ScheduleInput& input, const std::string& field) {
    auto rows = BuildSchedule(input);
    ASSERT_FALSE(rows.ok()) << field;
    EXPECT_EQ(rows.error().code, "invalid-schedule");
    EXPECT_NE(rows.error().message.find(field), std::string::npos) << rows.error().message;
  };
  ScheduleInput good = Annuity(1000000, 5, Rational::Of(3, 200));
  ASSERT_TRUE(BuildSchedule(good).ok());
  ScheduleInput input = good;
  input.periods = 0;
  expect_error(input, "periods");
  input.periods = 361;
  expect_error(input, "periods");
  input = good;
  input.principal_fen = 0;
  expect_error(input, "principal_fen");
  input.principal_fen = -5;
  expect_error(input, "principal_fen");
  for (Method method : {Method::kEqualInstallment, Method::kEqualPrincipal}) {
    input = good;
    input.method = method;
    input.daily_rate = Rational::Of(1, 2000);
    input.principal_fen = 4;  // 4 fen over 5 periods: some period would repay 0 fen
    expect_error(input, "principal_fen");
    input.period_rate = Rational{0, 1};
    expect_error(input, "principal_fen");
  }
  input = good;
  input.lead_share_bps = 2000;
  input.partner_share_bps = 7000;
  expect_error(input, "share_bps");
  input = good;
  input.period_rate = Rational::Of(3, 2);
  expect_error(input, "period_rate");
  input = good;
  input.method = Method::kEqualPrincipal;
  input.daily_rate = Rational{1, 0};
  expect_error(input, "daily_rate");
}

// --- accrual, rates and rounding -----------------------------------------------------------

TEST(AccrueTest, EarlySettlementAndPenalties) {  // docs/lending-rules.md §2.8, §2.9 examples
  const Rational d = Rational::Of(5, 10000);
  EXPECT_EQ(AccrueFen(3292343, d, 10), 16462);
  EXPECT_EQ(AccrueFen(172983, d, 10), 865);
  EXPECT_EQ(RoundHalfUp(static_cast<unsigned __int128>(172983) * 5 * 10, 10000 * 2), 432);
  EXPECT_EQ(AccrueFen(60000, Rational::Of(15, 20000), 10), 450);
  const Rational cap = Min(d.Times(3).Over(2), Rational::Of(2400, 10000).Over(365));
  EXPECT_EQ(cap, Rational::Of(6, 9125));
  EXPECT_EQ(AccrueFen(172983, cap, 10), 1137);
  EXPECT_EQ(AccrueFen(60000, cap, 10), 395);
  // Below the cap the contract multiplier wins.
  const Rational low = Rational::Of(4, 10000);
  EXPECT_EQ(Min(low.Times(3).Over(2), Rational::Of(2400, 10000).Over(365)), Rational::Of(3, 5000));
}

TEST(AccrueTest, RoundHalfUp) {
  EXPECT_EQ(RoundHalfUp(5, 10), 1);
  EXPECT_EQ(RoundHalfUp(4, 10), 0);
  EXPECT_EQ(RoundHalfUp(15, 10), 2);
  EXPECT_EQ(RoundHalfUp(149, 100), 1);
  EXPECT_EQ(RoundHalfUp(0, 7), 0);
  // Operands near 2^127 do not overflow.
  unsigned __int128 big = static_cast<unsigned __int128>(1) << 126;
  EXPECT_EQ(RoundHalfUp(big, big), 1);
  EXPECT_EQ(RoundHalfUp(big + big / 2, big), 2);
  EXPECT_EQ(RoundHalfUp(big + big / 2 - 1, big), 1);
}

TEST(RationalTest, ReducesAndCompares) {
  EXPECT_EQ(Rational::Of(5, 10000), (Rational{1, 2000}));
  EXPECT_EQ(Rational::Of(0, 7), (Rational{0, 1}));
  EXPECT_EQ(Rational::Of(1, 2000).Times(30), (Rational{3, 200}));
  EXPECT_EQ(Rational::Of(9, 50).Over(12), (Rational{3, 200}));
  EXPECT_EQ(Rational::Of(9, 50).Over(360), (Rational{1, 2000}));
  EXPECT_TRUE(LessThan(Rational::Of(1, 3), Rational::Of(1, 2)));
  EXPECT_FALSE(LessThan(Rational::Of(2, 4), Rational::Of(1, 2)));
  EXPECT_EQ(Min(Rational::Of(2, 3), Rational::Of(3, 5)), Rational::Of(3, 5));
}

TEST(ParseTest, Percent) {
  EXPECT_EQ(*ParsePercent("0.05%"), Rational::Of(1, 2000));
  EXPECT_EQ(*ParsePercent("18%"), Rational::Of(9, 50));
  EXPECT_EQ(*ParsePercent("1.5%"), Rational::Of(3, 200));
  EXPECT_EQ(*ParsePercent("0%"), (Rational{0, 1}));
  EXPECT_EQ(*ParsePercent("0.00000001%"), Rational::Of(1, 10000000000));
  for (const char* bad : {"abc", "-1%", "0.05", "1e3%", "%", "", ".5%", "5.%", "1.000000001%",
                          " 1%", "1 %", "+1%", "1,5%", "1000000%"}) {
    auto rate = ParsePercent(bad);
    ASSERT_FALSE(rate.ok()) << bad;
    EXPECT_EQ(rate.error().code, "invalid-rate");
    EXPECT_NE(rate.error().message.find("'" + std::string(bad) + "'"), std::string::npos);
  }
}

TEST(ParseTest, Cny) {
  EXPECT_EQ(*ParseCny("40000.00"), 4000000);
  EXPECT_EQ(*ParseCny("40000.01"), 4000001);
  EXPECT_EQ(*ParseCny("40000"), 4000000);
  EXPECT_EQ(*ParseCny("0.5"), 50);
  EXPECT_EQ(*ParseCny("0.05"), 5);
  EXPECT_EQ(*ParseCny("100000000000"), 10'000'000'000'000);
  for (const char* bad : {"40000.001", "-1", "1,000", "", "1e3", "+1", ".5", "5.", "1.2.3",
                          "100000000000.01", "99999999999999999999999", " 1"}) {
    auto fen = ParseCny(bad);
    ASSERT_FALSE(fen.ok()) << bad;
    EXPECT_EQ(fen.error().code, "invalid-amount");
  }
}

TEST(ParseTest, FormatCny) {
  EXPECT_EQ(FormatCny(4000000), "40,000.00");
  EXPECT_EQ(FormatCny(5), "0.05");
  EXPECT_EQ(FormatCny(0), "0.00");
  EXPECT_EQ(FormatCny(99999), "999.99");
  EXPECT_EQ(FormatCny(100000), "1,000.00");
  EXPECT_EQ(FormatCny(-123456), "-1,234.56");
  EXPECT_EQ(FormatCny(123456789012), "1,234,567,890.12");
}

TEST(ParseTest, MethodNames) {
  for (Method m : {Method::kEqualInstallment, Method::kEqualPrincipal}) {
    EXPECT_EQ(*ParseMethod(MethodName(m)), m);
  }
  EXPECT_EQ(ParseMethod("annuity").error().code, "invalid-method");
  EXPECT_EQ(*ParseSplitMethod("largest-remainder"), SplitMethod::kLargestRemainder);
  EXPECT_EQ(*ParseSplitMethod("cumulative-floor-lead-remainder"),
            SplitMethod::kCumulativeFloorLeadRemainder);
  EXPECT_FALSE(ParseSplitMethod("floor").ok());
}

// --- dates ---------------------------------------------------------------------------------

TEST(DateTest, CivilDays) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1970, 1, 2), 1);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(2018, 10, 11) - DaysFromCivil(2018, 9, 11), 30);
  // Every day from 1900 to 2200 round-trips and follows the previous one on the calendar.
  const std::int64_t first = DaysFromCivil(1900, 1, 1), last = DaysFromCivil(2200, 12, 31);
  int py = 1899, pm = 12, pd = 31;
  for (std::int64_t day = first; day <= last; ++day) {
    int y = 0, m = 0, d = 0;
    CivilFromDays(day, &y, &m, &d);
    ASSERT_EQ(DaysFromCivil(y, m, d), day);
    bool next_day = y == py && m == pm && d == pd + 1;
    bool next_month = y == py && m == pm + 1 && d == 1;
    bool next_year = y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31;
    ASSERT_TRUE(next_day || next_month || next_year) << y << "-" << m << "-" << d;
    if (d == 1 && day > first && pm == 2) {
      bool leap = (py % 4 == 0 && py % 100 != 0) || py % 400 == 0;
      ASSERT_EQ(pd, leap ? 29 : 28) << py;
    }
    std::string text = FormatDate(day);
    ASSERT_EQ(*ParseDate(text), day) << text;
    py = y, pm = m, pd = d;
  }
  EXPECT_EQ(py, 2200);
}

TEST(DateTest, AddMonthsClamped) {
  EXPECT_EQ(FormatDate(AddMonthsClamped(Day("2025-01-31"), 1)), "2025-02-28");
  EXPECT_EQ(FormatDate(AddMonthsClamped(Day("2024-01-31"), 1)), "2024-02-29");
  EXPECT_EQ(FormatDate(AddMonthsClamped(Day("2025-01-31"), 2)), "2025-03-31");
  EXPECT_EQ(FormatDate(AddMonthsClamped(Day("2025-01-15"), 12)), "2026-01-15");
  EXPECT_EQ(FormatDate(AddMonthsClamped(Day("2025-11-30"), 3)), "2026-02-28");
  EXPECT_EQ(FormatDate(AddMonthsClamped(Day("2025-03-31"), -1)), "2025-02-28");
  EXPECT_EQ(FormatDate(AddMonthsClamped(Day("2025-03-31"), 0)), "2025-03-31");
  EXPECT_EQ(FormatDate(AddMonthsClamped(Day("2024-02-29"), 12)), "2025-02-28");
}

TEST(DateTest, ParseDateRejects) {
  for (const char* bad : {"2025-02-30", "2025-2-3", "2025-13-01", "2025-00-10", "2025-01-00",
                          "2100-02-29", "20250101", "2025/01/01", "", "2025-01-01 "}) {
    auto day = ParseDate(bad);
    ASSERT_FALSE(day.ok()) << bad;
    EXPECT_EQ(day.error().code, "invalid-date");
  }
  EXPECT_EQ(*ParseDate("2000-02-29"), DaysFromCivil(2000, 2, 29));
  EXPECT_EQ(FormatDate(0), "1970-01-01");
}

// --- split ---------------------------------------------------------------------------------

TEST(SplitTest, ResearchFacts) {  // docs/lending-rules.md §2.7 examples
  const auto floor = SplitMethod::kCumulativeFloorLeadRemainder;
  const auto hamilton = SplitMethod::kLargestRemainder;
  EXPECT_EQ(SplitIncrement(floor, {2000, 8000}, 0, 7), (std::vector<std::int64_t>{2, 5}));
  EXPECT_EQ(SplitIncrement(hamilton, {2000, 8000}, 0, 7), (std::vector<std::int64_t>{1, 6}));
  EXPECT_EQ(SplitIncrement(hamilton, {2000, 8000}, 0, 3), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(SplitIncrement(hamilton, {2000, 3000, 5000}, 0, 101),
            (std::vector<std::int64_t>{20, 30, 51}));
  // Ties go to the lower index: 1 fen at 50/50.
  EXPECT_EQ(SplitTargets(hamilton, {5000, 5000}, 1), (std::vector<std::int64_t>{1, 0}));
  // Cumulative: the second increment is split so that the totals stay exact.
  EXPECT_EQ(SplitIncrement(floor, {2000, 8000}, 7, 7), (std::vector<std::int64_t>{1, 6}));
  EXPECT_EQ(SplitTargets(floor, {2000, 8000}, 14), (std::vector<std::int64_t>{3, 11}));
}

TEST(SplitTest, EarlySettlementAndPenaltyOfWorkedExample2) {  // docs/lending-rules.md §2.8, §2.9
  const auto floor = SplitMethod::kCumulativeFloorLeadRemainder;
  auto rows = Build(Annuity(4000000, 20, Rational::Of(3, 200)));
  ASSERT_EQ(rows.size(), 20u);
  // After 4 installments, settled 10 days into period 5: balance + accrued interest.
  std::int64_t principal_paid = 0, interest_paid = 0;
  for (int k = 0; k < 4; ++k) {
    principal_paid += rows[k].principal_fen;
    interest_paid += rows[k].interest_fen;
  }
  const std::int64_t balance = rows[3].balance_fen;
  const std::int64_t accrued = AccrueFen(balance, Rational::Of(5, 10000), 10);
  EXPECT_EQ(balance + accrued, 3308805);
  EXPECT_EQ(SplitIncrement(floor, {2000, 8000}, principal_paid, balance),
            (std::vector<std::int64_t>{658468, 2633875}));
  EXPECT_EQ(SplitIncrement(floor, {2000, 8000}, interest_paid, accrued),
            (std::vector<std::int64_t>{3293, 13169}));
  EXPECT_EQ(interest_paid + accrued, 240737);  // 2,407.37 CNY on this path
  // Penalty stream of installment 1 overdue 10 days: 865 + 432 + 450 = 1,747.
  EXPECT_EQ(SplitIncrement(floor, {2000, 8000}, 0, 865 + 432 + 450),
            (std::vector<std::int64_t>{350, 1397}));
}

TEST(SplitTest, PerPaymentFloorWouldDrift) {  // docs/lending-rules.md §2.7: why it is cumulative
  auto per_payment_lead = [](const std::vector<Installment>& rows, bool interest) {
    std::int64_t lead = 0;
    for (const Installment& row : rows) {
      std::int64_t amount = interest ? row.interest_fen : row.principal_fen;
      lead += amount - amount * 8000 / 10000;
    }
    return lead;
  };
  auto example1 = Build(Annuity(1000000, 5, Rational::Of(3, 200)));
  EXPECT_EQ(per_payment_lead(example1, false), 200001);
  EXPECT_EQ(Totals(example1)[5], 200000);
  auto example2 = Build(Annuity(4000000, 20, Rational::Of(3, 200)));
  EXPECT_EQ(per_payment_lead(example2, false), 800008);
  EXPECT_EQ(per_payment_lead(example2, true), 131938);
  EXPECT_EQ(Totals(example2)[5], 800000);
  EXPECT_EQ(Totals(example2)[6], 131932);
}

TEST(SplitTest, RandomStreamsNeverLoseAFen) {
  std::mt19937_64 rng(20250115);
  for (int stream = 0; stream < 2500; ++stream) {
    const int partner = static_cast<int>(rng() % 10001);
    const std::vector<int> shares = {10000 - partner, partner};
    const int steps = 1 + static_cast<int>(rng() % 40);
    const bool small = rng() % 2 == 0;
    std::int64_t cum = 0, lead_total = 0, partner_total = 0, hamilton_lead = 0;
    for (int step = 0; step < steps; ++step) {
      std::int64_t amount = static_cast<std::int64_t>(rng() % (small ? 20 : 5'000'000));
      auto parts = SplitIncrement(SplitMethod::kCumulativeFloorLeadRemainder, shares, cum, amount);
      auto hamilton = SplitIncrement(SplitMethod::kLargestRemainder, shares, cum, amount);
      ASSERT_EQ(parts.size(), 2u);
      ASSERT_EQ(parts[0] + parts[1], amount);
      ASSERT_EQ(hamilton[0] + hamilton[1], amount);
      ASSERT_GE(parts[0], 0);
      ASSERT_GE(parts[1], 0);
      ASSERT_GE(hamilton[0], 0);
      ASSERT_GE(hamilton[1], 0);
      cum += amount;
      lead_total += parts[0];
      partner_total += parts[1];
      hamilton_lead += hamilton[0];
      const __int128 exact_partner_x10000 = static_cast<__int128>(cum) * partner;
      ASSERT_EQ(partner_total, static_cast<std::int64_t>(exact_partner_x10000 / 10000));
      // |partner_total − cum·share/10000| < 1 fen, and so for the lead.
      const __int128 error_x10000 =
          exact_partner_x10000 - static_cast<__int128>(partner_total) * 10000;
      ASSERT_GE(error_x10000, 0);
      ASSERT_LT(error_x10000, 10000);
      const __int128 lead_error =
          static_cast<__int128>(lead_total) * 10000 - static_cast<__int128>(cum) * shares[0];
      ASSERT_GE(lead_error, 0);
      ASSERT_LT(lead_error, 10000);
      // Largest remainder: within half a fen of the exact share.
      const __int128 hamilton_error =
          static_cast<__int128>(hamilton_lead) * 10000 - static_cast<__int128>(cum) * shares[0];
      ASSERT_LE(hamilton_error < 0 ? -hamilton_error : hamilton_error, 5000);
    }
  }
}

TEST(SplitTest, ThreeLendersLargestRemainderSumsToTheTotal) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    int a = static_cast<int>(rng() % 10001);
    int b = static_cast<int>(rng() % (10001 - a));
    std::vector<int> shares = {a, b, 10000 - a - b};
    std::int64_t cum = static_cast<std::int64_t>(rng() % 1'000'000);
    auto targets = SplitTargets(SplitMethod::kLargestRemainder, shares, cum);
    std::int64_t sum = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      sum += targets[j];
      __int128 error =
          static_cast<__int128>(targets[j]) * 10000 - static_cast<__int128>(cum) * shares[j];
      ASSERT_LT(error < 0 ? -error : error, 10000);
    }
    ASSERT_EQ(sum, cum);
  }
}

// --- random loans --------------------------------------------------------------------------

TEST(ScheduleTest, RandomLoansKeepEveryInvariant) {
  std::mt19937_64 rng(18);
  const int periods_choices[] = {5, 10, 20};
  const int splits[] = {2000, 3000, 5000, 7000};
  int annuities_checked = 0;
  for (int loan = 0; loan < 2400; ++loan) {
    ScheduleInput input;
    input.principal_fen = 50000 + static_cast<std::int64_t>(rng() % (20000000 - 50000 + 1));
    input.periods = periods_choices[rng() % 3];
    input.method = rng() % 2 == 0 ? Method::kEqualInstallment : Method::kEqualPrincipal;
    if (rng() % 4 != 0) {
      input.daily_rate = Rational::Of(2 + static_cast<std::int64_t>(rng() % 4), 10000);
      input.period_rate = input.daily_rate.Times(30);
    } else {
      Rational annual = Rational::Of(400 + static_cast<std::int64_t>(rng() % 2001), 10000);
      input.period_rate = annual.Over(12);
      input.daily_rate = annual.Over(360);
    }
    input.lead_share_bps = splits[rng() % 4];
    input.partner_share_bps = 10000 - input.lead_share_bps;
    input.has_value_day = rng() % 2 == 0;
    input.value_day = DaysFromCivil(2024, 1, 1) + static_cast<std::int64_t>(rng() % 800);
    auto built = BuildSchedule(input);
    ASSERT_TRUE(built.ok()) << built.error().ToString();
    const std::vector<Installment>& rows = *built;
    ASSERT_EQ(rows.size(), static_cast<std::size_t>(input.periods));
    std::int64_t principal = 0, lead_p = 0, partner_p = 0, balance = input.principal_fen;
    std::int64_t previous_due = input.value_day;
    for (const Installment& row : rows) {
      ASSERT_GT(row.principal_fen, 0);
      ASSERT_EQ(row.payment_fen, row.principal_fen + row.interest_fen);
      balance -= row.principal_fen;
      ASSERT_EQ(row.balance_fen, balance);
      principal += row.principal_fen;
      lead_p += row.lead_principal_fen;
      partner_p += row.partner_principal_fen;
      ASSERT_GE(row.lead_interest_fen, 0);
      ASSERT_GE(row.partner_interest_fen, 0);
      ASSERT_EQ(row.lead_interest_fen + row.partner_interest_fen, row.interest_fen);
      if (input.has_value_day) {
        ASSERT_EQ(row.due_day, AddMonthsClamped(input.value_day, row.period));
        ASSERT_EQ(row.days, row.due_day - previous_due);
        previous_due = row.due_day;
      } else {
        ASSERT_EQ(row.due_day, 0);
        ASSERT_EQ(row.days, 30);
      }
    }
    ASSERT_EQ(principal, input.principal_fen);
    ASSERT_EQ(rows.back().balance_fen, 0);
    ASSERT_EQ(lead_p + partner_p, input.principal_fen);
    ASSERT_EQ(partner_p, input.principal_fen * input.partner_share_bps / 10000);
    if (input.method == Method::kEqualInstallment) {
      const std::int64_t A = rows[0].payment_fen;
      ASSERT_TRUE(IsRoundedAnnuity(A, input.principal_fen, input.period_rate, input.periods))
          << "P " << input.principal_fen << " r " << input.period_rate.num << "/"
          << input.period_rate.den << " n " << input.periods << " A " << A;
      ++annuities_checked;
      for (int k = 0; k + 1 < input.periods; ++k) ASSERT_EQ(rows[k].payment_fen, A);
      ASSERT_LE(std::abs(rows.back().payment_fen - A), input.periods);
      for (const Installment& row : rows) {
        ASSERT_EQ(row.interest_fen,
                  AccrueFen(row.balance_fen + row.principal_fen, input.period_rate, 1));
      }
    } else {
      const std::int64_t share = input.principal_fen / input.periods;
      for (int k = 0; k + 1 < input.periods; ++k) ASSERT_EQ(rows[k].principal_fen, share);
      for (const Installment& row : rows) {
        ASSERT_EQ(row.interest_fen,
                  AccrueFen(row.balance_fen + row.principal_fen, input.daily_rate, row.days));
      }
    }
  }
  EXPECT_GT(annuities_checked, 1000);
}

TEST(ScheduleTest, LongLoansAndExtremeRates) {
  // 360 periods with an 8-decimal annual rate: (a+b)^360 has thousands of bits.
  Rational r = ParsePercent("18.12345678%")->Over(12);
  auto rows = Build(Annuity(20000000, 360, r));
  ASSERT_EQ(rows.size(), 360u);
  EXPECT_TRUE(IsRoundedAnnuity(rows[0].payment_fen, 20000000, r, 360));
  EXPECT_EQ(rows.back().balance_fen, 0);
  // 100 % per period, one period: pay back twice the principal.
  rows = Build(Annuity(1000, 1, Rational{1, 1}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].payment_fen, 2000);
}

}  // namespace
}  // namespace colend::contracts
