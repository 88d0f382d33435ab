// evidence.anchor: records a document's SHA-256 as a timestamped, signed record. The document
// itself stays in the submitting institution's store; the chain proves that this institution
// held exactly these bytes no later than the block time.
//
// Fields: document-sha256 (required, 64 lowercase hex), document-bytes (optional decimal),
//         document-name (optional, no personal data), loan-id (optional).
// State:  anchor/<sha256> -> first anchoring tx id, height, sender, block time.
#include <string>

#include "contracts/decision.h"

namespace colend::contracts {
void RunEvidenceAnchor(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Decision d(call, state, receipt, "EVIDENCE-ANCHOR");
  const std::string* digest = call.tx.body.Field("document-sha256");
  if (digest == nullptr || !IsLowerHex64(*digest)) {
    return d.Reject("", "invalid-field", "document-sha256 must be 64 lowercase hex digits");
  }
  for (const auto& [key, value] : call.tx.body.fields) {
    if (key != "document-sha256" && key != "document-bytes" && key != "document-name" &&
        key != "loan-id") {
      return d.Reject("", "invalid-field", "unknown field '" + key + "'");
    }
  }
  std::string key = "anchor/" + *digest;
  if (auto existing = d.Get(key)) {
    return d.Reject("", "already-anchored",
                  "document " + *digest + " was anchored before: " + *existing);
  }
  std::string record = "tx " + crypto::ToHex(call.tx.id) + " height " +
                       std::to_string(call.block.height) + " sender " + call.sender.id +
                       " time-ms " + std::to_string(call.block.timestamp_ms);
  state->Put(key, record);
  std::string count_key = "count/anchor/" + call.sender.id;
  std::uint64_t count = 0;
  if (auto c = state->Get(count_key)) count = std::stoull(*c);
  state->Put(count_key, std::to_string(count + 1));
  d.Accept("document anchored");
  receipt->outputs["document-sha256"] = *digest;
  receipt->outputs["anchored-at-ms"] = std::to_string(call.block.timestamp_ms);
}

}  // namespace colend::contracts
