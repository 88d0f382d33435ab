#include "contracts/system/loan_records.h"

#include <charconv>
#include <cstdio>
#include <map>
#include <set>

namespace colend::contracts {
namespace {

constexpr std::string_view kLoanPrefix = "loan/";
constexpr std::string_view kLoanEventPrefix = "loan-event/";

}  // namespace

std::string LoanRecordsKey(std::string_view loan) { return "loan-records/" + std::string(loan); }

std::string LoanRecordKey(std::string_view loan, std::uint64_t seq) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%012llu", static_cast<unsigned long long>(seq));
  return "loan-record/" + std::string(loan) + "/" + buf;
}

std::string NextLoanRecordHead(std::string_view prev_head, std::uint64_t seq,
                               const crypto::Hash256& tx_id) {
  std::string text = "colend-loan-record/v1\nprev: ";
  text.append(prev_head);
  text += "\nseq: " + std::to_string(seq) + "\ntx-id: " + crypto::ToHex(tx_id) + "\n";
  return crypto::ToHex(crypto::Sha256(text));
}

std::string LoanRecords::ToText() const {
  return "colend-loan-records/v1\nloan: " + loan + "\ncount: " + std::to_string(count) +
         "\nevents: " + std::to_string(events) + "\nhead: " + head + "\n";
}

namespace {

// "<key>: <value>\n" at the front of `rest`: the value, and `rest` moves past the line.
std::optional<std::string_view> TakeLine(std::string_view* rest, std::string_view key) {
  if (!rest->starts_with(key) || rest->substr(key.size()).substr(0, 2) != ": ") return std::nullopt;
  const std::size_t end = rest->find('\n');
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view value = rest->substr(key.size() + 2, end - key.size() - 2);
  rest->remove_prefix(end + 1);
  return value;
}

std::optional<std::uint64_t> Decimal(std::optional<std::string_view> s) {
  std::uint64_t n = 0;
  if (!s || s->empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
  if (ec != std::errc() || p != s->data() + s->size()) return std::nullopt;
  return n;
}

}  // namespace

std::optional<LoanRecords> LoanRecords::Parse(std::string_view text) {
  constexpr std::string_view kMagic = "colend-loan-records/v1\n";
  if (!text.starts_with(kMagic)) return std::nullopt;
  std::string_view rest = text.substr(kMagic.size());
  auto loan = TakeLine(&rest, "loan");
  auto count = Decimal(TakeLine(&rest, "count"));
  auto events = Decimal(TakeLine(&rest, "events"));
  auto head = TakeLine(&rest, "head");
  if (!loan || !count || !events || !head || head->size() != 64 || !rest.empty()) return std::nullopt;
  LoanRecords r;
  r.loan = std::string(*loan);
  r.count = *count;
  r.events = *events;
  r.head = std::string(*head);
  if (r.ToText() != text) return std::nullopt;  // canonical form only
  return r;
}

void AppendLoanRecords(const Tx& tx, const StateWrites& contract_writes, StateOverlay* state) {
  std::set<std::string> loans;
  std::map<std::string, std::uint64_t> new_events;  // loan -> events this transaction appended
  for (auto it = contract_writes.lower_bound(kLoanPrefix);
       it != contract_writes.end() && it->first.starts_with(kLoanPrefix); ++it) {
    loans.insert(it->first.substr(kLoanPrefix.size()));
  }
  for (auto it = contract_writes.lower_bound(kLoanEventPrefix);
       it != contract_writes.end() && it->first.starts_with(kLoanEventPrefix); ++it) {
    std::string_view rest = std::string_view(it->first).substr(kLoanEventPrefix.size());
    std::size_t slash = rest.rfind('/');
    if (slash != std::string_view::npos && slash > 0 && it->second.has_value()) {
      const std::string loan(rest.substr(0, slash));
      loans.insert(loan);
      ++new_events[loan];
    }
  }
  if (const std::string* loan = tx.body.Field("loan");
      loan != nullptr && !loan->empty() && state->Get(std::string(kLoanPrefix) + *loan)) {
    loans.insert(*loan);
  }
  for (const std::string& loan : loans) {
    LoanRecords records;
    records.loan = loan;
    if (auto text = state->Get(LoanRecordsKey(loan))) {
      auto parsed = LoanRecords::Parse(*text);
      assert(parsed.has_value());  // only this function writes it
      records = *parsed;
    }
    ++records.count;
    records.events += new_events[loan];
    records.head = NextLoanRecordHead(records.head, records.count, tx.id);
    state->Put(LoanRecordKey(loan, records.count), crypto::ToHex(tx.id));
    state->Put(LoanRecordsKey(loan), records.ToText());
  }
}

}  // namespace colend::contracts
