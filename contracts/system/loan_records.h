// Each loan's chain of records in the contract state (docs/evidence-bundle.md section 1), so that an
// evidence bundle can prove that it holds every record of a loan, the last one included:
//
//   loan-record/<loan>/<seq, 12 digits>  ->  <tx id, hex>
//   loan-records/<loan>                  ->  colend-loan-records/v1\nloan: L\ncount: N\n//                                            events: E\nhead: <hex>\n
//
// E counts the loan's events (loan-event/<loan>/...), so a bundle can show it ships all of them.
//
// head_k = SHA-256("colend-loan-record/v1\nprev: <head_k-1>\nseq: <k>\ntx-id: <hex>\n"), head_0 =
// 64 zeros. A transaction is a record of loan L when, after it executed, its `loan` field is L and
// the loan exists (rejected transactions about an existing loan included), or when it changed
// loan/L or appended an event under loan-event/L/ (the daily rules of clock.tick).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "contracts/state.h"
#include "contracts/tx.h"

namespace colend::contracts {

inline constexpr std::string_view kLoanRecordChainZero =
    "0000000000000000000000000000000000000000000000000000000000000000";

std::string LoanRecordsKey(std::string_view loan);                     // loan-records/<loan>
std::string LoanRecordKey(std::string_view loan, std::uint64_t seq);  // loan-record/<loan>/<seq>

// The next chain head (hex) after `prev_head` (hex) for record `seq` with transaction `tx_id`.
std::string NextLoanRecordHead(std::string_view prev_head, std::uint64_t seq,
                               const crypto::Hash256& tx_id);

struct LoanRecords {
  std::string loan;
  std::uint64_t count = 0;
  std::uint64_t events = 0;  // loan-event/<loan>/... entries written so far
  std::string head{kLoanRecordChainZero};
  std::string ToText() const;
  // Strict: Parse(t)->ToText() == t.
  static std::optional<LoanRecords> Parse(std::string_view text);
};

// Appends `tx` to the chain of every loan it is a record of. `contract_writes` are the writes
// the contract made (empty when it was rejected); `state` already holds them. Deterministic:
// loans in key order.
void AppendLoanRecords(const Tx& tx, const StateWrites& contract_writes, StateOverlay* state);

}  // namespace colend::contracts
