// Transactions, every payload type: the input is tried both as a wire transaction (serialised
// SignedTx: contracts::DecodeTx, then Executor::CheckEnvelope over the fixture chain's state) and
// as a body text (TxBody::ParseText, the per-type field checks of contracts/fields.h, and, when
// the sender is a fixture member, signed with that member's test key so that it passes the
// signature check, CheckEnvelope and then Executor::Execute: the contracts themselves).
//
// Properties: canonical parsers round-trip (ParseText(t) ok => ToText() == t; DecodeTx(w) ok =>
// DecodeTx(Encode()) gives the same transaction); every error has a kebab-case code, the
// documented one where the API documents it; CheckTxFields agrees with CheckField field by field;
// CheckEnvelope passes only if CheckTxFields does; execution is deterministic (two runs write the
// same bytes); a receipt is "ok" exactly when accepted, is stored under ReceiptKey, and its text
// round-trips; a rejected transaction writes only its receipt and its loans' record chain; every
// loan and loan-records value written parses back canonically.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>

#include "contracts/executor.h"
#include "contracts/fields.h"
#include "contracts/lending/loan_model.h"
#include "contracts/system/loan_records.h"
#include "contracts/tx.h"
#include "tests/fuzz/fixture.h"

namespace {

using namespace colend;  // NOLINT

bool IsCode(const std::string& code) {
  if (code.empty()) return false;
  for (char c : code) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

const std::set<std::string> kFieldCodes = {"unknown-type",      "invalid-field",
                                           "invalid-utf8",      "control-character",
                                           "bidi-control",      "invisible-character",
                                           "personal-data"};

const contracts::Executor& TheExecutor() {
  static const contracts::Executor* executor =
      new contracts::Executor(fuzz::GetFixture().genesis.Rules());
  return *executor;
}

void CheckEnvelopeResult(const contracts::Tx& tx, const Status& envelope) {
  if (envelope.ok()) {
    FUZZ_CHECK(contracts::CheckTxFields(tx.body).ok());
  } else {
    FUZZ_CHECK(IsCode(envelope.error().code));
    FUZZ_CHECK(!envelope.error().message.empty());
  }
}

contracts::StateWrites ExecuteOnce(const contracts::Tx& tx, contracts::Receipt* receipt) {
  contracts::StateOverlay overlay(&fuzz::GetFixture().state);
  *receipt = TheExecutor().Execute(tx, {100, tx.body.timestamp_ms}, 0, &overlay);
  return overlay.writes();
}

void CheckExecution(const contracts::Tx& tx) {
  contracts::Receipt receipt, again;
  const contracts::StateWrites writes = ExecuteOnce(tx, &receipt);
  FUZZ_CHECK(ExecuteOnce(tx, &again) == writes);  // deterministic
  FUZZ_CHECK(again.ToText() == receipt.ToText());
  FUZZ_CHECK(IsCode(receipt.code));
  FUZZ_CHECK(receipt.accepted == (receipt.code == "ok"));
  FUZZ_CHECK(receipt.tx_id == tx.id && receipt.type == tx.body.type &&
             receipt.sender == tx.body.sender);
  const std::string text = receipt.ToText();
  if (fuzz::Verbose()) std::fprintf(stderr, "  receipt %s %s: %s\n", receipt.code.c_str(), receipt.rule.c_str(), receipt.message.c_str());
  const auto stored = writes.find(contracts::ReceiptKey(tx.id));
  FUZZ_CHECK(stored != writes.end() && stored->second == text);
  const auto parsed = contracts::Receipt::ParseText(text);
  FUZZ_CHECK(parsed.ok() && parsed->ToText() == text);
  for (const auto& [key, value] : writes) {
    FUZZ_CHECK(!key.empty());
    if (!receipt.accepted) {
      FUZZ_CHECK(key == stored->first || key.starts_with("loan-record/") ||
                 key.starts_with("loan-records/"));
    }
    if (!value) continue;
    if (key.starts_with("loan/")) {
      const auto loan = contracts::Loan::FromText(*value);
      FUZZ_CHECK(loan.ok() && loan->ToText() == *value);
    } else if (key.starts_with("loan-records/")) {
      const auto records = contracts::LoanRecords::Parse(*value);
      FUZZ_CHECK(records.has_value());
    }
  }
}

void FuzzWire(std::string_view wire) {
  const auto tx = contracts::DecodeTx(wire);
  if (!tx.ok()) {
    FUZZ_CHECK(tx.error().code == "malformed-transaction");
    return;
  }
  FUZZ_CHECK(tx->id == crypto::Sha256(tx->body_text));
  FUZZ_CHECK(tx->body.ToText() == tx->body_text);
  const auto again = contracts::DecodeTx(tx->Encode());
  FUZZ_CHECK(again.ok() && again->id == tx->id && again->signature == tx->signature &&
             again->body_text == tx->body_text);
  const fuzz::Fixture& f = fuzz::GetFixture();
  CheckEnvelopeResult(*tx, TheExecutor().CheckEnvelope(*tx, f.state, tx->body.timestamp_ms));
}

void FuzzBody(std::string_view text) {
  const auto body = contracts::TxBody::ParseText(text);
  if (!body.ok()) {
    FUZZ_CHECK(body.error().code == "malformed-transaction");
    return;
  }
  FUZZ_CHECK(body->ToText() == text);
  const Status fields = contracts::CheckTxFields(*body);
  if (!fields.ok()) FUZZ_CHECK(kFieldCodes.count(fields.error().code) == 1);
  if (contracts::FindTxSchema(body->type) != nullptr) {
    bool all_fields_ok = true;
    for (const auto& [key, value] : body->fields) {
      const Status one = contracts::CheckField(body->type, key, value);
      if (!one.ok()) FUZZ_CHECK(kFieldCodes.count(one.error().code) == 1);
      all_fields_ok = all_fields_ok && one.ok();
    }
    // CheckTxFields also refuses a missing required field, which CheckField cannot see.
    if (fields.ok()) FUZZ_CHECK(all_fields_ok);
    if (!all_fields_ok) FUZZ_CHECK(!fields.ok());
  }
  const fuzz::Fixture& f = fuzz::GetFixture();
  const auto key = f.keys.find(body->sender);
  if (key == f.keys.end()) return;
  const auto tx = contracts::SignTx(*body, key->second);
  FUZZ_CHECK(tx.ok());
  const Status envelope = TheExecutor().CheckEnvelope(*tx, f.state, body->timestamp_ms);
  CheckEnvelopeResult(*tx, envelope);
  if (fuzz::Verbose()) std::fprintf(stderr, "%s: envelope %s\n", body->type.c_str(), envelope.ToString().c_str());
  if (envelope.ok()) CheckExecution(*tx);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)TheExecutor();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FuzzWire(input);
  FuzzBody(input);
  return 0;
}
