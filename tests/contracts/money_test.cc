// Proves that the money code reproduces docs/lending-rules.md to the fen: the early-settlement
// and penalty accruals (§2.8, §2.9), rates and rounding (§2.1), civil dates (§2.6) and the split
// facts (§2.7), with the split invariants over thousands of random streams. Schedules:
// schedule_test.cc.
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
using testing::Totals;

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


}  // namespace
}  // namespace colend::contracts
