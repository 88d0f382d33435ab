// A long advance is cut into clock transactions of whole days (docs/lending-rules.md §1.2).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "test_chain.h"

namespace colend::contracts::testing {
namespace {

// Every record under `prefix`, key and value, in key order; an event's block height and
// transaction id (which tell the two chains apart by design) are left out.
std::vector<std::pair<std::string, std::string>> Records(Chain& chain, const std::string& prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, value] : chain.tree().Scan(prefix, 1000000)) {
    json record = json::parse(value, nullptr, false);
    if (record.is_object()) {
      record.erase("height");
      record.erase("tx");
      out.emplace_back(key, record.dump());
    } else {
      out.emplace_back(key, value);
    }
  }
  return out;
}

// With clock_loans_per_tx = 1, a 100-day advance over three open loans (one paid on time, two
// going overdue and woken every day) stops after each day that looked at a loan: the receipt
// names the day reached and the target, the business date is the day reached, and clock.tick
// continues. Cut so, it leaves every loan, event, report and counter exactly as one transaction
// does on a twin chain whose budget is never reached.
TEST(LendingClock, ALongAdvanceIsCutIntoTransactionsOfWholeDays) {
  Chain cut, whole;
  Govern(cut, "C1", R"({"clock_loans_per_tx":1})");
  Govern(whole, "C1", R"({"clock_loans_per_tx":1000000})");
  for (Chain* chain : {&cut, &whole}) {
    for (int k = 0; k < 3; ++k) {
      const std::string b = chain->Admit("clock-" + std::to_string(k));
      chain->Originate("L" + std::to_string(k), b, 1000000 + 10000 * k, 5);
      chain->Advance(1);
    }
    const Loan l0 = chain->GetLoan("L0");
    chain->AdvanceTo(l0.installments[0].due_day);
    ASSERT_TRUE(chain->Repay("L0", l0.installments[0].principal_fen + l0.installments[0].interest_fen).accepted);
  }
  const std::int64_t start = cut.Today(), target = start + 100;
  ASSERT_EQ(whole.Today(), start);

  Receipt first = cut.Send("lead-bank", "clock.advance", {{"days", "100"}});
  ASSERT_TRUE(first.accepted) << first.message;
  ASSERT_TRUE(first.outputs.count("pending-until")) << first.message;
  EXPECT_EQ(first.outputs.at("pending-until"), FormatDate(target));
  EXPECT_EQ(first.outputs.at("business-date"), FormatDate(cut.Today()));
  EXPECT_LT(cut.Today(), target);
  EXPECT_NE(first.message.find("follow in the next clock.tick"), std::string::npos) << first.message;
  int transactions = 1;
  while (cut.Today() < target) {
    const std::int64_t before = cut.Today();
    Receipt tick = cut.Send("lead-bank", "clock.tick", {});
    ASSERT_TRUE(tick.accepted) << tick.message;
    ASSERT_GT(cut.Today(), before);
    // A transaction that looked at more than the budget did so within its first day only.
    if (std::stoll(tick.outputs.at("loans-looked-at")) > 1) {
      EXPECT_EQ(cut.Today(), before + 1);
    }
    ASSERT_LT(++transactions, 200);
  }
  EXPECT_GT(transactions, 50);  // two loans overdue: about one transaction a day
  EXPECT_EQ(cut.Send("lead-bank", "clock.tick", {}).code, "clock-current");

  Receipt once = whole.Send("lead-bank", "clock.advance", {{"days", "100"}});
  ASSERT_TRUE(once.accepted) << once.message;
  EXPECT_EQ(once.outputs.count("pending-until"), 0u);
  EXPECT_EQ(whole.Today(), target);
  for (const char* prefix : {"loan/", "loan-event/", "credit-report/", "count/", "wake/", "open-loan/", "borrower/"}) {
    const auto a = Records(cut, prefix), b = Records(whole, prefix);
    EXPECT_EQ(a.size(), b.size()) << prefix;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
      EXPECT_EQ(a[i], b[i]) << prefix;
      if (a[i] != b[i]) break;
    }
  }
  ASSERT_GT(Records(cut, "credit-report/").size(), 0u);  // the overdue loans were reported
}

}  // namespace
}  // namespace colend::contracts::testing
