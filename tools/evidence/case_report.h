// report/case.html of an evidence bundle: one self-contained page (no network, no scripts) that
// renders a loan's records for people. It is marked as a rendering, not as evidence: every fact
// on it comes from a record file in the same bundle, which each row links to.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace colend::evidence {

struct CaseMember {
  std::string id;
  std::string name;
  std::string role;  // lead_bank | partner_bank | payee_bank | credit_bureau | arbitrator
};

// One record of the loan as shipped in records/<seq 6 digits>/.
struct CaseRecord {
  std::uint64_t seq = 0;
  std::string dir;                 // "records/000001"
  std::string type;                // transaction type, e.g. "loan.repay"
  std::string sender;              // member id
  std::int64_t tx_time_ms = 0;     // the transaction's own timestamp
  std::uint64_t height = 0;        // block height
  std::int64_t block_time_ms = 0;  // the block's timestamp
  bool accepted = false;
  std::string code;                // receipt code ("ok" or a reason)
  std::string rule;                // receipt rule id
  std::string message;             // receipt message
  std::vector<std::pair<std::string, std::string>> fields;   // the transaction's fields
  std::vector<std::pair<std::string, std::string>> outputs;  // the receipt's outputs
  // The loan's events this transaction produced (loan-event JSON objects: "event", "rule",
  // "date", amounts in *_fen, ...), in order.
  std::vector<nlohmann::json> events;
};

struct CaseDocument {
  std::string sha256;
  std::string kind;  // contract | notice | repayment-proof | other
  std::uint64_t bytes = 0;
  std::uint64_t record_seq = 0;  // the evidence.attach record that anchors it
  bool present = false;          // the bytes are in documents/
};

struct CaseData {
  std::string chain_id;
  std::string loan_id;
  std::string exported_by;
  std::int64_t exported_at_ms = 0;
  std::uint64_t anchor_height = 0;
  std::int64_t anchor_time_ms = 0;
  std::string anchor_hash;
  std::vector<CaseMember> members;   // of the anchor's epoch
  nlohmann::json loan;               // state/loan.json parsed (contracts/lending/loan_model.cc ToJson)
  std::vector<CaseRecord> records;   // seq order
  std::vector<CaseDocument> documents;
};

// The whole HTML page. Amounts are integer fen shown as CNY with two decimals (never floating
// point); times as UTC ISO-8601 and Asia/Shanghai dates where the chain keeps dates.
std::string RenderCaseHtml(const CaseData& data);

// Integer fen as CNY with thousands separators and two decimals, e.g. 4000000 -> "40,000.00 CNY",
// -1 -> "-0.01 CNY" (integer arithmetic only; every int64 value, INT64_MIN included).
std::string FormatFen(std::int64_t fen);

}  // namespace colend::evidence
