// consensus.evidence: commits proof that a member signed two conflicting consensus messages
// (docs/consensus.md §11). Any member's node sends it when its replica detects an
// equivocation; every node re-verifies the two signed messages before accepting it.
//
// Fields: first, second   the two messages, each a serialised colend.consensus.proto.
//                          ConsensusMessage in lowercase hex (proposal blocks without their
//                          transactions: the signature binds the header hash only)
//         member, height, round, kind   what the messages prove; must match the verification
// State:  fault/<member>/<height 20 digits>/<round 10 digits>/<kind>
//           -> "tx <id> height <h> reporter <member> time-ms <t>"  (first report wins)
//         fault-evidence/<same key> -> "<first hex> <second hex>"
//         count/fault/<member> -> number of distinct equivocations recorded
#include <string>

#include "contracts/decision.h"

namespace colend::contracts {
void RunConsensusEvidence(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Decision d(call, state, receipt, "CONSENSUS-EVIDENCE");
  for (const auto& [key, value] : call.tx.body.fields) {
    if (key != "first" && key != "second" && key != "member" && key != "height" &&
        key != "round" && key != "kind") {
      return d.Reject("", "invalid-field", "unknown field '" + key + "'");
    }
  }
  const std::string* first = call.tx.body.Field("first");
  const std::string* second = call.tx.body.Field("second");
  if (first == nullptr || second == nullptr) {
    return d.Reject("", "invalid-field", "fields 'first' and 'second' are required");
  }
  auto first_bytes = crypto::FromHex(*first);
  auto second_bytes = crypto::FromHex(*second);
  if (!first_bytes.ok() || !second_bytes.ok()) {
    return d.Reject("", "invalid-field", "'first' and 'second' must be lowercase hex");
  }
  if (!call.rules.verify_equivocation) {
    return d.Reject("", "not-supported", "this chain has no equivocation verifier");
  }
  auto claim = call.rules.verify_equivocation(*first_bytes, *second_bytes, *state);
  if (!claim.ok()) {
    return d.Reject("", "invalid-evidence", claim.error().OwnText());
  }
  const std::string* member = call.tx.body.Field("member");
  const std::string* height = call.tx.body.Field("height");
  const std::string* round = call.tx.body.Field("round");
  const std::string* kind = call.tx.body.Field("kind");
  if (member == nullptr || *member != claim->member || height == nullptr ||
      *height != std::to_string(claim->height) || round == nullptr ||
      *round != std::to_string(claim->round) || kind == nullptr || *kind != claim->kind) {
    return d.Reject("", "invalid-evidence",
                  "member/height/round/kind do not match what the messages prove: " + claim->key);
  }
  const std::string key = "fault/" + claim->key;
  if (auto existing = d.Get(key)) {
    return d.Reject("", "already-recorded", "equivocation " + claim->key +
                                                   " was recorded before: " + *existing);
  }
  state->Put(key, "tx " + crypto::ToHex(call.tx.id) + " height " +
                      std::to_string(call.block.height) + " reporter " + call.sender.id +
                      " time-ms " + std::to_string(call.block.timestamp_ms));
  state->Put("fault-evidence/" + claim->key, *first + " " + *second);
  const std::string count_key = "count/fault/" + claim->member;
  std::uint64_t count = 0;
  if (auto c = state->Get(count_key)) count = std::stoull(*c);
  state->Put(count_key, std::to_string(count + 1));
  d.Accept("equivocation by " + claim->member + " recorded");
  receipt->outputs["member"] = claim->member;
  receipt->outputs["height"] = std::to_string(claim->height);
  receipt->outputs["round"] = std::to_string(claim->round);
  receipt->outputs["kind"] = claim->kind;
}

}  // namespace colend::contracts
