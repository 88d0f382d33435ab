// One decision helper for every contract: the transaction, the state, the receipt and a record
// of what the decision read.
//
// Every decision fills the receipt with the rule id that decided, a stable reason code and a hash
// of the decision's inputs (output "inputs-sha256"): h0 = SHA-256(transaction body), then for
// every state record read through Get/Read, h = SHA-256(h || "\n--- " || key || "\n" || value).
// Anyone holding the state before the transaction (any node, a regulator, an arbitrator) can
// replay the decision and recompute the hash (docs/transactions.md, "Receipts").
//
// A refusal names the field and what is wrong; none repeats library error text (receipts are
// consensus state).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "contracts/contract.h"
#include "crypto/hash.h"

namespace colend::contracts {

// True for exactly 64 of [0-9a-f] (a SHA-256 in lowercase hex).
bool IsLowerHex64(std::string_view s);

class Decision {
 public:
  Decision(const CallContext& call, StateOverlay* state, Receipt* receipt, std::string rule);

  const CallContext& ctx() const { return call_; }
  StateOverlay* state() { return state_; }
  Receipt* receipt() { return receipt_; }

  // Records a state value the decision depends on (the inputs hash).
  void Read(std::string_view key, std::string_view value);
  // Reads a state record and records it.
  std::optional<std::string> Get(const std::string& key);

  // Refused: the contract's writes are discarded. An empty `rule` keeps the current one.
  void Reject(std::string rule, std::string code, std::string message);
  void Reject(const Error& e) { Reject("", e.code, e.message); }
  // Refused, but what the refusal caused (written before this call) stands.
  void RejectStanding(std::string rule, std::string code, std::string message);
  void Accept(std::string message);
  void Out(const std::string& key, std::string value) { receipt_->outputs[key] = std::move(value); }
  void Out(const std::string& key, std::int64_t value) { Out(key, std::to_string(value)); }

  // Fields of the transaction.
  const std::string* Field(const char* key) const { return call_.tx.body.Field(key); }
  // Error "invalid-field" naming the first field not in `allowed`.
  Status OnlyFields(std::initializer_list<std::string_view> allowed) const;
  // A required, non-empty field.
  Result<std::string> Str(const char* key) const;
  // A required decimal integer within [low, high].
  Result<std::int64_t> Int(const char* key, std::int64_t low, std::int64_t high) const;
  Result<std::int64_t> IntOr(const char* key, std::int64_t low, std::int64_t high,
                             std::int64_t fallback) const;
  // "yes" or "no"; `fallback` when absent.
  Result<bool> YesNo(const char* key, bool fallback) const;

 private:
  void Seal();

  const CallContext& call_;
  StateOverlay* state_;
  Receipt* receipt_;
  crypto::Hash256 inputs_hash_{};
};

}  // namespace colend::contracts
