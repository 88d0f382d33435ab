#include "contracts/loan_records.h"

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

std::optional<LoanRecords> LoanRecords::Parse(std::string_view text) {
  constexpr std::string_view kMagic = "colend-loan-records/v1\nloan: ";
  if (!text.starts_with(kMagic)) return std::nullopt;
  std::size_t loan_end = text.find('\n', kMagic.size());
  if (loan_end == std::string_view::npos) return std::nullopt;
  LoanRecords r;
  r.loan = std::string(text.substr(kMagic.size(), loan_end - kMagic.size()));
  std::string_view rest = text.substr(loan_end + 1);
  if (!rest.starts_with("count: ")) return std::nullopt;
  std::size_t count_end = rest.find('\n');
  if (count_end == std::string_view::npos) return std::nullopt;
  std::string_view count = rest.substr(7, count_end - 7);
  auto [p, ec] = std::from_chars(count.data(), count.data() + count.size(), r.count);
  if (ec != std::errc() || p != count.data() + count.size()) return std::nullopt;
  rest = rest.substr(count_end + 1);
  if (!rest.starts_with("events: ")) return std::nullopt;
  std::size_t events_end = rest.find('\n');
  if (events_end == std::string_view::npos) return std::nullopt;
  std::string_view events = rest.substr(8, events_end - 8);
  auto [q, ec2] = std::from_chars(events.data(), events.data() + events.size(), r.events);
  if (ec2 != std::errc() || q != events.data() + events.size()) return std::nullopt;
  rest = rest.substr(events_end + 1);
  if (!rest.starts_with("head: ") || rest.size() != 6 + 64 + 1) return std::nullopt;
  r.head = std::string(rest.substr(6, 64));
  if (r.ToText() != text) return std::nullopt;
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
