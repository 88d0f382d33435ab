// Schedule helpers shared by the money and schedule tests: a row of a schedule as nine integers,
// the column totals, building a schedule that must be valid, and parsing a test date.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "contracts/lending/money.h"

namespace colend::contracts::testing {

// --- helpers -------------------------------------------------------------------------------

// k, payment, principal, interest, balance, lead P, lead I, partner P, partner I.
using Row = std::array<std::int64_t, 9>;

inline Row ToRow(const Installment& i) {
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

inline Row Totals(const std::vector<Installment>& rows) {
  Row sum{};
  for (const Installment& i : rows) {
    Row r = ToRow(i);
    for (std::size_t c = 1; c < r.size(); ++c) sum[c] += r[c];
  }
  sum[4] = rows.back().balance_fen;
  return sum;
}

inline std::vector<Installment> Build(const ScheduleInput& input) {
  auto rows = BuildSchedule(input);
  EXPECT_TRUE(rows.ok()) << rows.error().ToString();
  return rows.ok() ? *rows : std::vector<Installment>{};
}

inline ScheduleInput Annuity(std::int64_t principal_fen, int periods, Rational period_rate) {
  ScheduleInput input;
  input.principal_fen = principal_fen;
  input.periods = periods;
  input.method = Method::kEqualInstallment;
  input.period_rate = period_rate;
  return input;
}

inline std::int64_t Day(const char* text) {
  auto day = ParseDate(text);
  EXPECT_TRUE(day.ok()) << text;
  return day.ok() ? *day : 0;
}


}  // namespace colend::contracts::testing
