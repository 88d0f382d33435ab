// Transaction execution: (state view, transaction, block context) in; writes and a receipt out.
// Deterministic: no clock (time comes from the block), no I/O, ordered containers only.
//
// Two kinds of failure, kept apart on purpose:
//   - CheckEnvelope: the transaction is unfit for any block (unknown sender, bad signature, wrong
//     chain, unknown type, a field its type does not have or in the wrong format, personal data,
//     replay, timestamp outside the window). A block holding one is invalid.
//   - Execute: a business decision. A rejected transaction is still committed, with a receipt
//     giving the rule id and a stable reason code, and changes nothing but its receipt.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "contracts/state.h"
#include "contracts/tx.h"
#include "crypto/result.h"
#include "crypto/signature.h"

namespace colend::contracts {

// Member roles from genesis.
inline constexpr std::string_view kRoles[] = {"lead_bank", "partner_bank", "payee_bank",
                                              "credit_bureau", "arbitrator"};
bool IsValidRole(std::string_view role);

struct MemberRecord {
  std::string id;
  std::string role;
  crypto::PublicKey signing_key;
};

// What a verified equivocation proves (see consensus::VerifyEquivocation, which the genesis
// module plugs in: contracts do not depend on consensus).
struct EquivocationClaim {
  std::string member;
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  std::string kind;  // proposal | prevote | precommit
  std::string key;   // "<member>/<height 20 digits>/<round 10 digits>/<kind>"
};
// Verifies two serialised consensus messages as an equivocation; a pure function of the bytes
// and the membership of the messages' epoch, which it reads from `state` (deterministic on every
// node). Error names what is wrong.
using EquivocationVerifier = std::function<Result<EquivocationClaim>(
    std::string_view first, std::string_view second, const StateReader& state)>;
// Checks a proposed member, given as a genesis member object in JSON (id, name, role,
// tls_certificate, signing_certificate), with the checks the genesis file's members pass: ids,
// roles, certificates issued by the consortium CA, keys of the chain's suite; and that both
// certificates (and the CA's) are valid at `at_ms`, the block time (deterministic).
using MemberChecker =
    std::function<Result<MemberRecord>(std::string_view member_json, std::int64_t at_ms)>;

struct ChainRules {
  EquivocationVerifier verify_equivocation;  // unset: consensus.evidence is rejected
  MemberChecker check_member;                // unset: member.propose of an addition is rejected
  std::string chain_id;
  // The members of the epoch in force for the block being executed (senders are checked
  // against it); the ledger replaces it when a membership epoch begins.
  std::map<std::string, MemberRecord, std::less<>> members;
  std::int64_t tx_time_window_ms = 10 * 60 * 1000;  // |tx time - block time| bound
  bool dev_clock = false;
};

struct BlockContext {
  std::uint64_t height = 0;
  std::int64_t timestamp_ms = 0;
};

struct Receipt {
  crypto::Hash256 tx_id{};
  std::uint64_t height = 0;
  std::uint32_t index = 0;  // position in the block
  std::string type;
  std::string sender;
  bool accepted = false;
  std::string code;  // "ok" or a stable reason code
  std::string rule;  // rule id that decided
  std::string message;
  std::map<std::string, std::string> outputs;  // contract outputs, ordered
  // A refusal whose consequences stand (not in the text): the transaction is refused, yet what
  // its refusal caused is written, e.g. a funding leg that comes too late cancels the loan and
  // reverses the legs at once (docs/lending-rules.md §6.3).
  bool keep_writes = false;

  // Canonical text, stored in state under ReceiptKey(tx_id).
  std::string ToText() const;
  static Result<Receipt> ParseText(std::string_view text);
};

std::string ReceiptKey(const crypto::Hash256& tx_id);  // "tx/<hex>"

class Executor {
 public:
  explicit Executor(ChainRules rules);
  const ChainRules& rules() const { return rules_; }
  // A membership epoch began: senders are checked against these members from now on.
  void SetMembers(std::map<std::string, MemberRecord, std::less<>> members) {
    rules_.members = std::move(members);
  }

  // Signature and membership only (what a mempool can check without a block).
  Status CheckSignature(const Tx& tx) const;
  // The key CheckSignature checks `tx`'s signature with: its sender's, if the transaction is for
  // this chain and the sender a member; otherwise null.
  const crypto::PublicKey* SenderKey(const Tx& tx) const;
  // Everything that makes a transaction unfit for a block at `block_time_ms` over `state`.
  // Codes: "wrong-chain", "unknown-sender", "bad-signature" (and the crypto codes),
  // "unknown-type", the field codes of CheckTxFields ("invalid-field", "invalid-utf8",
  // "control-character", "bidi-control", "invisible-character", "personal-data":
  // contracts/fields.h), "duplicate-transaction", "stale-transaction", "future-transaction".
  Status CheckEnvelope(const Tx& tx, const StateReader& state, std::int64_t block_time_ms) const;
  // Runs the contract. Writes go to `state` (the receipt always; contract writes only if
  // accepted). Precondition: CheckEnvelope passed.
  Receipt Execute(const Tx& tx, const BlockContext& block, std::uint32_t index,
                  StateOverlay* state) const;

 private:
  ChainRules rules_;
};

}  // namespace colend::contracts
