// evidence.attach: attaches a document (a signed loan contract, a collection notice, a repayment
// proof) to a loan. Only its SHA-256, size and kind go on chain; the bytes stay in the nodes'
// document stores, and an evidence bundle ships them (docs/evidence-bundle.md section 1). A label
// may only be given as a SHA-256 (never a name or anything personal in clear).
//
// Fields: loan, kind (contract|notice|repayment-proof|other), document-sha256 (64 lowercase hex),
//         document-bytes (decimal, 1..kDocumentBytesMax), label-sha256 (optional, 64 lowercase hex).
// State:  document/<sha256>/<loan> -> "tx <id> kind <kind> bytes <n> height <h>".
// The transaction is one of the loan's records (contracts/system/loan_records.h).
#include <charconv>
#include <string>

#include "contracts/decision.h"

namespace colend::contracts {
bool IsDocumentKind(std::string_view kind) {
  return kind == "contract" || kind == "notice" || kind == "repayment-proof" || kind == "other";
}

void RunEvidenceAttach(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Decision d(call, state, receipt, "EVIDENCE-ATTACH");
  for (const auto& [key, value] : call.tx.body.fields) {
    if (key != "loan" && key != "kind" && key != "document-sha256" && key != "document-bytes" &&
        key != "label-sha256") {
      return d.Reject("", "invalid-field", "unknown field '" + key + "' for evidence.attach");
    }
  }
  const std::string* loan = call.tx.body.Field("loan");
  const std::string* kind = call.tx.body.Field("kind");
  const std::string* digest = call.tx.body.Field("document-sha256");
  const std::string* bytes = call.tx.body.Field("document-bytes");
  const std::string* label = call.tx.body.Field("label-sha256");
  if (loan == nullptr || loan->empty()) return d.Reject("", "invalid-field", "loan is required");
  if (kind == nullptr || !IsDocumentKind(*kind)) {
    return d.Reject("", "invalid-field",
                  "kind must be one of contract, notice, repayment-proof, other");
  }
  if (digest == nullptr || !IsLowerHex64(*digest)) {
    return d.Reject("", "invalid-field", "document-sha256 must be 64 lowercase hex digits");
  }
  std::uint64_t size = 0;
  if (bytes == nullptr ||
      std::from_chars(bytes->data(), bytes->data() + bytes->size(), size).ptr !=
          bytes->data() + bytes->size() ||
      bytes->empty() || (*bytes)[0] == '0' || size == 0 || size > kDocumentBytesMax) {
    return d.Reject("", "invalid-field",
                  "document-bytes must be a decimal from 1 to " + std::to_string(kDocumentBytesMax));
  }
  if (label != nullptr && !IsLowerHex64(*label)) {
    return d.Reject("", "invalid-field",
                  "label-sha256 must be 64 lowercase hex digits (labels go on chain only hashed)");
  }
  if (!d.Get("loan/" + *loan)) {
    return d.Reject("", "loan-not-found", "loan '" + *loan + "' does not exist");
  }
  const std::string key = "document/" + *digest + "/" + *loan;
  if (d.Get(key)) {
    return d.Reject("", "already-attached",
                  "document " + *digest + " is already attached to loan " + *loan);
  }
  state->Put(key, "tx " + crypto::ToHex(call.tx.id) + " kind " + *kind + " bytes " + *bytes +
                      " height " + std::to_string(call.block.height));
  d.Accept("document attached to loan " + *loan);
  receipt->outputs["document-sha256"] = *digest;
  receipt->outputs["kind"] = *kind;
}

}  // namespace colend::contracts
