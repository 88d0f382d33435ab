// Proves that the schedules reproduce docs/lending-rules.md to the fen: worked examples 1 and 2
// (§2.3, §2.4) cell by cell, the ×365/12 variant, the 457.00 CNY equal-principal example (§2.5),
// due dates (§2.6), the refusals; and that the schedule invariants hold over thousands of random
// loans, with the annuity checked against an independent exact computation (its own base-10^9
// big numbers).
#include "contracts/lending/money.h"

#include <gtest/gtest.h>

#include <array>
#include <random>

#include "schedule_helpers.h"

namespace colend::contracts {
namespace {

using testing::Annuity;
using testing::Build;
using testing::Day;
using testing::Row;
using testing::ToRow;
using testing::Totals;

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
