// Proves that a loan's stored text (Loan::ToText, written by hand for speed) is byte for byte
// what nlohmann's dump() of Loan::ToJson() gives — the bytes every node hashes into the state
// root — for random records: negative and extreme integers, every optional field present or not,
// strings with quotes, backslashes and control characters, and non-ASCII text (valid UTF-8 is
// kept; invalid UTF-8 is refused as before). The oracle is nlohmann's serializer, which shares no
// code with the writer. And the text reads back to the same record; and reading a record through
// the memo (ReadLoanRecord after WriteLoanRecord) gives exactly what parsing its text gives.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>

#include "contracts/lending/loan_model.h"

namespace colend::contracts {
namespace {

class RandomLoans {
 public:
  explicit RandomLoans(std::uint64_t seed) : rng_(seed) {}

  std::int64_t Int() {
    switch (rng_() % 6) {
      case 0: return 0;
      case 1: return std::numeric_limits<std::int64_t>::max();
      case 2: return std::numeric_limits<std::int64_t>::min();
      case 3: return -static_cast<std::int64_t>(rng_() % 100000);
      default: return static_cast<std::int64_t>(rng_() % 10000000000ULL);
    }
  }
  int Small() { return static_cast<int>(rng_() % 2000) - 100; }
  bool Bool() { return rng_() % 2 == 0; }
  Rational Rate() { return {static_cast<std::int64_t>(rng_() % 100000), 1 + static_cast<std::int64_t>(rng_() % 100000)}; }
  std::string Str() {
    static const char* kPieces[] = {"lead-bank", "L-000123", "\"", "\\", "\n", "\t", "\b", "\f", "\r",
                                    "\x01", "\x1f", "\x7f", "/", "a b", "{}[],:", "\xe5\x80\x9f"};
    std::string s;
    const int n = static_cast<int>(rng_() % 5);
    for (int k = 0; k < n; ++k) s += kPieces[rng_() % std::size(kPieces)];
    return s;
  }

  Loan Next() {
    Loan l;
    l.id = Str();
    l.borrower = Str();
    l.status = Str();
    l.principal_fen = Int();
    l.periods = Small();
    l.terms.method = Bool() ? Method::kEqualInstallment : Method::kEqualPrincipal;
    l.terms.daily_rate = Rate();
    l.terms.period_rate = Rate();
    l.terms.overdue_daily_rate = Rate();
    l.terms.compound_enabled = Bool();
    l.terms.grace_days = Small();
    l.terms.report_delay_days = Small();
    l.terms.split = Bool() ? SplitMethod::kLargestRemainder : SplitMethod::kCumulativeFloorLeadRemainder;
    l.terms.param_version = Small();
    const int lenders = static_cast<int>(rng_() % 4);
    for (int k = 0; k < lenders; ++k) {
      LenderShare s;
      s.member = Str();
      s.role = Str();
      s.share_bps = Small();
      s.funded_fen = Int();
      s.funding_confirmed = Bool();
      s.funding_ref = Str();
      s.principal_repaid_fen = Int();
      s.interest_repaid_fen = Int();
      s.penalty_repaid_fen = Int();
      s.classification = static_cast<LoanClass>(rng_() % 5);
      s.written_off = Bool();
      s.reported = Bool();
      l.lenders.push_back(s);
    }
    const int rows = static_cast<int>(rng_() % 40);
    for (int k = 0; k < rows; ++k) {
      InstallmentState i;
      i.period = Small();
      i.due_day = Int();
      i.principal_fen = Int();
      i.interest_fen = Int();
      i.principal_paid_fen = Int();
      i.interest_paid_fen = Int();
      i.penalty_posted_fen = Int();
      i.penalty_paid_fen = Int();
      i.accrual_from_day = Int();
      i.reminder_day = Int();
      i.reported = Bool();
      l.installments.push_back(i);
    }
    l.schedule_sha256 = Str();
    l.created_day = Int();
    l.created_ms = Int();
    l.value_day = Int();
    l.closed_day = Int();
    l.virtual_account = Str();
    l.va_balance_fen = Int();
    l.va_spent_fen = Int();
    l.credit_balance_fen = Int();
    l.received_fen = Int();
    l.cum_principal_fen = Int();
    l.cum_interest_fen = Int();
    l.cum_penalty_fen = Int();
    l.collection_stage = Str();
    l.collection_since_day = Int();
    l.ptp_broken = Small();
    l.no_contact_days = Small();
    l.event_seq = rng_() % 3 == 0 ? std::numeric_limits<std::uint64_t>::max() : rng_() % 1000;
    // Each optional field absent about half the time.
    l.use_deadline_day = Bool() ? 0 : Int();
    l.use_prompted_day = Bool() ? 0 : Int();
    l.misuse_day = Bool() ? 0 : Int();
    l.misused_fen = Bool() ? 0 : Int();
    l.attested_fen = Bool() ? 0 : Int();
    l.misuse_from_day = Bool() ? 0 : Int();
    l.misuse_surcharge_rate = Rate();
    return l;
  }

 private:
  std::mt19937_64 rng_;
};

TEST(LoanText, IsExactlyNlohmannsDumpOfTheRecord) {
  RandomLoans random(20261204);
  int non_ascii = 0;
  for (int n = 0; n < 3000; ++n) {
    const Loan l = random.Next();
    const std::string expected = l.ToJson().dump();
    const std::string text = l.ToText();
    const auto at = std::mismatch(text.begin(), text.end(), expected.begin(), expected.end());
    ASSERT_TRUE(text == expected) << "record " << n << " differs from nlohmann's at byte " << (at.first - text.begin())
                                  << ": ..." << std::string(at.first, std::min(at.first + 40, text.end())) << " instead of ..."
                                  << std::string(at.second, std::min(at.second + 40, expected.end()));
    if (expected.find('\xe5') != std::string::npos) ++non_ascii;
  }
  EXPECT_GT(non_ascii, 100);  // the nlohmann path was taken too
}

TEST(LoanText, ReadsBackToTheSameRecord) {
  RandomLoans random(7);
  for (int n = 0; n < 500; ++n) {
    Loan l = random.Next();
    for (Rational* r : {&l.terms.daily_rate, &l.terms.period_rate, &l.terms.overdue_daily_rate, &l.misuse_surcharge_rate}) {
      *r = Rational::Of(r->num, r->den);  // stored rates are reduced
    }
    auto back = Loan::FromText(l.ToText());
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->ToText(), l.ToText()) << "record " << n;
  }
}

TEST(LoanText, InvalidUtf8IsRefusedAsBefore) {
  Loan l;
  l.id = "L-1";
  l.borrower = std::string("\xff\xfe", 2);
  EXPECT_ANY_THROW(l.ToJson().dump());
  EXPECT_ANY_THROW(l.ToText());
}

TEST(LoanMemo, ReadingWhatWasWrittenIsExactlyParsingIt) {
  RandomLoans random(99);
  int unreduced = 0;
  for (int n = 0; n < 2000; ++n) {
    Loan l = random.Next();
    l.id = "M" + std::to_string(n % 300);  // ids come back: entries are replaced
    if (l.terms.daily_rate != Rational::Of(l.terms.daily_rate.num, l.terms.daily_rate.den)) ++unreduced;
    const std::string text = WriteLoanRecord(l);
    ASSERT_TRUE(text == l.ToJson().dump()) << "record " << n;
    auto parsed = Loan::FromText(text);
    auto read = ReadLoanRecord(l.id, text);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    ASSERT_TRUE(read.ok()) << read.error().message;
    ASSERT_TRUE(*read == *parsed) << "record " << n << ": the memo differs from parsing its text";
  }
  EXPECT_GT(unreduced, 100);  // rates the parser reduces were written
}

TEST(LoanMemo, AnotherTextIsParsedAndARefusedRecordIsRefused) {
  RandomLoans random(5);
  Loan l = random.Next();
  l.id = "X1";
  const std::string text = WriteLoanRecord(l);
  // The stored text changed (another node's block, a repair): the memo must not answer.
  Loan other = random.Next();
  other.id = "X1";
  const std::string other_text = other.ToText();
  auto read = ReadLoanRecord("X1", other_text);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(*read == *Loan::FromText(other_text));
  // A record the parser refuses (a rate with a zero denominator) is refused after writing it too.
  l.terms.daily_rate = Rational{3, 0};
  const std::string bad = WriteLoanRecord(l);
  auto refused = ReadLoanRecord("X1", bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Loan::FromText(bad).error().code);
  EXPECT_FALSE(ReadLoanRecord("X1", "{\"id\":").ok());
}

TEST(LoanMemo, HoldsItsLimitAndStaysCorrectPastIt) {
  RandomLoans random(11);
  std::vector<std::pair<std::string, std::string>> written;
  for (std::size_t n = 0; n < kLoanMemoEntries + 500; ++n) {
    Loan l = random.Next();
    l.id = "Y" + std::to_string(n);
    written.emplace_back(l.id, WriteLoanRecord(l));
  }
  for (const auto& [id, text] : written) {
    auto read = ReadLoanRecord(id, text);
    ASSERT_TRUE(read.ok());
    ASSERT_TRUE(*read == *Loan::FromText(text)) << id;
  }
}

}  // namespace
}  // namespace colend::contracts
