#include "contracts/executor.h"

#include <charconv>

#include "contracts/contract.h"
#include "contracts/fields.h"
#include "contracts/system/loan_records.h"

namespace colend::contracts {

bool IsValidRole(std::string_view role) {
  for (auto r : kRoles) {
    if (r == role) return true;
  }
  return false;
}

std::string ReceiptKey(const crypto::Hash256& tx_id) { return "tx/" + crypto::ToHex(tx_id); }

std::string Receipt::ToText() const {
  std::string out = "colend-receipt/v1\ntx-id: " + crypto::ToHex(tx_id);
  out += "\nheight: " + std::to_string(height);
  out += "\nindex: " + std::to_string(index);
  out += "\ntype: " + type;
  out += "\nsender: " + sender;
  out += std::string("\nstatus: ") + (accepted ? "accepted" : "rejected");
  out += "\ncode: " + code;
  out += "\nrule: " + rule;
  out += "\nmessage: " + message;
  for (const auto& [key, value] : outputs) out += "\nout." + key + ": " + value;
  out += "\n";
  return out;
}

Result<Receipt> Receipt::ParseText(std::string_view text) {
  auto bad = [](std::string what) { return MakeError("bad-receipt", std::move(what)); };
  Receipt r;
  std::size_t start = 0;
  int line_no = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) return bad("missing final line feed");
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (line_no++ == 0) {
      if (line != "colend-receipt/v1") return bad("bad magic");
      continue;
    }
    std::size_t sep = line.find(": ");
    std::string_view key = sep == std::string_view::npos ? line : line.substr(0, sep);
    std::string value(sep == std::string_view::npos ? "" : line.substr(sep + 2));
    auto number = [&](auto* out) {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), *out);
      return ec == std::errc() && p == value.data() + value.size();
    };
    if (key == "tx-id") {
      auto id = crypto::Hash256FromHex(value);
      if (!id.ok()) return bad("bad tx-id");
      r.tx_id = *id;
    } else if (key == "height") {
      if (!number(&r.height)) return bad("bad height");
    } else if (key == "index") {
      if (!number(&r.index)) return bad("bad index");
    } else if (key == "type") {
      r.type = value;
    } else if (key == "sender") {
      r.sender = value;
    } else if (key == "status") {
      r.accepted = value == "accepted";
    } else if (key == "code") {
      r.code = value;
    } else if (key == "rule") {
      r.rule = value;
    } else if (key == "message") {
      r.message = value;
    } else if (key.starts_with("out.")) {
      r.outputs.emplace(std::string(key.substr(4)), value);
    } else {
      return bad("unknown key '" + std::string(key) + "'");
    }
  }
  return r;
}

Executor::Executor(ChainRules rules) : rules_(std::move(rules)) {}

const crypto::PublicKey* Executor::SenderKey(const Tx& tx) const {
  if (tx.body.chain_id != rules_.chain_id) return nullptr;
  auto member = rules_.members.find(tx.body.sender);
  return member == rules_.members.end() ? nullptr : &member->second.signing_key;
}

Status Executor::CheckSignature(const Tx& tx) const {
  if (tx.body.chain_id != rules_.chain_id) {
    return MakeError("wrong-chain", "transaction is for chain '" + tx.body.chain_id +
                                        "', this is '" + rules_.chain_id + "'");
  }
  auto member = rules_.members.find(tx.body.sender);
  if (member == rules_.members.end()) {
    return MakeError("unknown-sender",
                     "sender '" + tx.body.sender + "' is not a member of the consortium");
  }
  Status verified = member->second.signing_key.Verify(tx.body_text, tx.signature);
  if (!verified.ok()) {
    return MakeError(verified.error().code, "signature of transaction " + crypto::ToHex(tx.id) +
                                                " is not valid for sender '" + tx.body.sender +
                                                "': " + verified.error().message);
  }
  if (FindTxType(tx.body.type) == nullptr) {
    return MakeError("unknown-type", "unknown transaction type '" + tx.body.type + "'");
  }
  return Status::Ok();
}

Status Executor::CheckEnvelope(const Tx& tx, const StateReader& state,
                               std::int64_t block_time_ms) const {
  COLEND_RETURN_IF_ERROR(CheckSignature(tx));
  // Every field known to the type and in its format; no personal data, malformed UTF-8 or hidden
  // characters (contracts/fields.h, docs/transactions.md).
  COLEND_RETURN_IF_ERROR(CheckTxFields(tx.body));
  if (state.Get(ReceiptKey(tx.id))) {
    return MakeError("duplicate-transaction",
                     "transaction " + crypto::ToHex(tx.id) + " is already committed");
  }
  if (tx.body.timestamp_ms < block_time_ms - rules_.tx_time_window_ms) {
    return MakeError("stale-transaction", "transaction time " +
                                              std::to_string(tx.body.timestamp_ms) +
                                              " ms is more than " +
                                              std::to_string(rules_.tx_time_window_ms) +
                                              " ms before the block time");
  }
  if (tx.body.timestamp_ms > block_time_ms + rules_.tx_time_window_ms) {
    return MakeError("future-transaction", "transaction time " +
                                               std::to_string(tx.body.timestamp_ms) +
                                               " ms is more than " +
                                               std::to_string(rules_.tx_time_window_ms) +
                                               " ms after the block time");
  }
  return Status::Ok();
}

Receipt Executor::Execute(const Tx& tx, const BlockContext& block, std::uint32_t index,
                          StateOverlay* state) const {
  Receipt receipt;
  receipt.tx_id = tx.id;
  receipt.height = block.height;
  receipt.index = index;
  receipt.type = tx.body.type;
  receipt.sender = tx.body.sender;
  const TxType* type = FindTxType(tx.body.type);
  const MemberRecord& sender = rules_.members.find(tx.body.sender)->second;
  assert(type != nullptr);  // CheckEnvelope precondition
  bool permitted = false;
  for (auto role : type->roles) permitted |= role == sender.role;
  if (!permitted) {
    receipt.code = "not-permitted";
    receipt.rule = "ROLE";
    receipt.message = "role '" + sender.role + "' may not send '" + tx.body.type + "'";
    AppendLoanRecords(tx, {}, state);  // a refused step about a loan is one of its records
  } else {
    StateOverlay scope(state);
    CallContext call{tx, sender, block, rules_};
    type->run(call, &scope, &receipt);
    const bool stands = receipt.accepted || receipt.keep_writes;
    if (stands) state->Absorb(scope);
    AppendLoanRecords(tx, stands ? scope.writes() : StateWrites{}, state);
  }
  state->Put(ReceiptKey(tx.id), receipt.ToText());
  return receipt;
}

}  // namespace colend::contracts
