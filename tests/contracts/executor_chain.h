// What contract tests and the lending benchmark share: the five default institutions' chain
// rules and executing one unsigned-but-well-formed transaction over a state (the executor's
// envelope check is the node's; these call Execute directly, one transaction per block).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "contracts/executor.h"
#include "contracts/tx.h"
#include "crypto/hash.h"
#include "crypto/signature.h"

namespace colend::contracts::testing {

inline ChainRules DefaultInstitutionRules(const std::string& chain_id, bool dev_clock) {
  static const std::vector<std::pair<std::string, std::string>> kMembers = {
      {"lead-bank", "lead_bank"}, {"partner-bank", "partner_bank"}, {"payee-bank", "payee_bank"},
      {"credit-bureau", "credit_bureau"}, {"arbitration", "arbitrator"}};
  static std::map<std::string, crypto::PrivateKey> keys;
  ChainRules rules;
  rules.chain_id = chain_id;
  rules.dev_clock = dev_clock;
  for (const auto& [id, role] : kMembers) {
    if (!keys.count(id)) keys.emplace(id, *crypto::PrivateKey::Generate(crypto::Suite::kStd));
    rules.members.emplace(id, MemberRecord{id, role, keys.at(id).Public()});
  }
  return rules;
}

// Executes `body` (its id computed from its text) at (height, time_ms) over `state` (anything
// with Apply(StateWrites) that is a StateReader) and applies the writes. Returns the receipt.
template <class State>
Receipt ExecuteOne(const Executor& executor, State* state, TxBody body, std::uint64_t height,
                   std::int64_t time_ms, StateWrites* writes = nullptr) {
  Tx tx;
  tx.body_text = body.ToText();
  tx.body = std::move(body);
  tx.id = crypto::Sha256(tx.body_text);
  StateOverlay overlay(state);
  Receipt receipt = executor.Execute(tx, {height, time_ms}, 0, &overlay);
  if (writes != nullptr) *writes = overlay.writes();
  state->Apply(overlay.writes());
  return receipt;
}

}  // namespace colend::contracts::testing
