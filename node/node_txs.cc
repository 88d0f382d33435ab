// Transactions at a node: admission to the mempool (envelope, duplicates, quotas), gossip to the
// peers in batches, and the lead bank's clock.tick when a new business day begins.
#include <algorithm>

#include "contracts/lending/lending.h"
#include "node/node_impl.h"

namespace colend::node::detail {

Status Node::AdmitTx(const std::string& wire, crypto::Hash256* id) {
  auto tx = contracts::DecodeTx(wire);
  if (!tx.ok()) return tx.error();
  *id = tx->id;
  if (mempool_.Contains(tx->id)) {
    return MakeError("duplicate-transaction",
                     "transaction " + crypto::ToHex(tx->id) + " is pending already");
  }
  // A committed one is refused by CheckEnvelope, which finds its receipt in the state (every
  // committed transaction has one); the store's transaction index would only answer that again.
  COLEND_RETURN_IF_ERROR(ledger_.executor().CheckEnvelope(*tx, ledger_.state(), WallMs()));
  switch (mempool_.Add(tx->id, tx->body.sender, wire)) {
    case Mempool::Admission::kAdded:
      break;
    case Mempool::Admission::kDuplicate:
      return MakeError("duplicate-transaction",
                       "transaction " + crypto::ToHex(tx->id) + " is pending already");
    case Mempool::Admission::kFull:
      return MakeError("mempool-full", "the mempool is full: " + std::to_string(mempool_.size()) +
                                           " of " + std::to_string(mempool_.limits().txs_max) +
                                           " transactions, " + std::to_string(mempool_.memory()) +
                                           " of " + std::to_string(mempool_.limits().memory_max) +
                                           " bytes of memory, and this one counts " +
                                           std::to_string(Mempool::EntryBytes(wire.size())) +
                                           "; retry later");
    case Mempool::Admission::kSenderQuota:
      return MakeError("sender-quota", "sender " + tx->body.sender + " has reached its quota of " +
                                           std::to_string(mempool_.limits().sender_txs_max) +
                                           " pending transactions or " +
                                           std::to_string(mempool_.limits().sender_memory_max) +
                                           " bytes of pending memory (this one counts " +
                                           std::to_string(Mempool::EntryBytes(wire.size())) +
                                           "); retry when they commit");
  }
  return Status::Ok();
}

bool Node::AdmitInOrder(const std::vector<std::string>& wires, bool from_peer,
                        std::function<void()> then) {
  if (!host_.background) {
    then();
    return true;
  }
  std::size_t bytes = 0;
  for (const std::string& wire : wires) bytes += wire.size();
  if (!admit_queue_.HasRoom(bytes, from_peer)) return false;
  struct Check {
    crypto::PublicKey key;
    std::string message, signature;
  };
  std::vector<Check> checks;
  for (const std::string& wire : wires) {
    auto tx = contracts::DecodeTx(wire);
    if (!tx.ok() || mempool_.Contains(tx->id)) continue;  // AdmitTx says why, at its turn
    const crypto::PublicKey* key = ledger_.executor().SenderKey(*tx);
    if (key != nullptr) checks.push_back({*key, std::move(tx->body_text), std::move(tx->signature)});
  }
  // Queued last, when nothing above can throw any more: a queued arrival is always checked.
  const std::optional<std::uint64_t> number = admit_queue_.Add(bytes, std::move(then), from_peer);
  if (!number) return false;
  host_.background(
      [checks = std::move(checks)] {
        // A valid signature is remembered by Verify; an invalid one is refused again by AdmitTx.
        for (const Check& c : checks) (void)c.key.Verify(c.message, c.signature);
      },
      [this, n = *number] { admit_queue_.Checked(n); });
  return true;
}

void Node::MaybeTickClock() {
  const genesis::GenesisMember* me = ledger_.membership().Find(config_.member_id);
  if (me == nullptr || me->role != "lead_bank") return;
  if (peers_.BestClaim() > ledger_.height()) return;  // syncing: the state is not current
  const std::int64_t business_day = contracts::BusinessDay(ledger_.state());
  // Retried after kClockTickRetryMs, or at once when the last one committed short of its target
  // (docs/lending-rules.md §1.2: a long advance is cut into transactions of whole days).
  if (last_clock_tick_mono_ && SteadyMs() - *last_clock_tick_mono_ < kClockTickRetryMs &&
      business_day <= last_clock_tick_day_) {
    return;
  }
  const std::int64_t now = WallMs();
  std::int64_t offset = 0;
  if (auto o = ledger_.state().Get("clock/offset-days")) offset = std::stoll(*o);
  if (contracts::ShanghaiDay(now) + offset <= business_day) return;
  last_clock_tick_mono_ = SteadyMs();
  last_clock_tick_day_ = business_day;
  contracts::TxBody body;
  body.chain_id = genesis_.chain_id;
  body.sender = config_.member_id;
  body.nonce = static_cast<std::uint64_t>(now) * 1000 + (evidence_nonce_++ % 1000);
  body.timestamp_ms = now;
  body.type = "clock.tick";
  auto tx = contracts::SignTx(body, signing_key_);
  if (!tx.ok()) return Log("cannot sign clock.tick: " + tx.error().ToString());
  const std::string wire = tx->Encode();
  crypto::Hash256 id{};
  Status admitted = AdmitTx(wire, &id);
  if (!admitted.ok()) return Log("clock.tick not admitted: " + admitted.ToString());
  Log("new business day: submitted clock.tick " + crypto::ToHex(id).substr(0, 16));
  GossipTx(wire);
  ScheduleStartHeight();
}

void Node::GossipTx(const std::string& wire) {
  gossip_batch_.mutable_txs()->add_txs(wire);
  gossip_batch_bytes_ += wire.size();
  if (static_cast<std::size_t>(gossip_batch_.txs().txs_size()) >= kGossipBatchTxsMax ||
      gossip_batch_bytes_ >= kGossipBatchBytesMax) {
    return FlushGossip();
  }
  if (gossip_armed_) return;
  gossip_armed_ = true;
  const std::int64_t since = SteadyMs() - gossip_sent_mono_ms_;
  gossip_timer_->Arm(std::clamp<std::int64_t>(kGossipDelayMs - since, 0, kGossipDelayMs),
                     [this] { FlushGossip(); });
}

void Node::FlushGossip() {
  gossip_timer_->Cancel();
  gossip_armed_ = false;
  if (gossip_batch_.txs().txs_size() == 0) return;
  BroadcastMessage(gossip_batch_);
  gossip_sent_mono_ms_ = SteadyMs();
  gossip_batch_.Clear();
  gossip_batch_bytes_ = 0;
}

}  // namespace colend::node::detail
