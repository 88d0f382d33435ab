// Equivocation evidence (kept durably, committed as consensus.evidence transactions) and the
// documents of committed evidence.attach records (docs/evidence.md).
#include <algorithm>

#include "contracts/contract.h"
#include "node/node_impl.h"
#include "node/transport.h"

namespace colend::node::detail {

void Node::ReportEquivocations(const std::vector<consensus::Equivocation>& found) {
  for (const consensus::Equivocation& e : found) {
    auto facts = genesis::VerifyEquivocationInItsEpoch(genesis_, ledger_.state(), e.first, e.second);
    if (!facts.ok()) {
      Log("equivocation report does not verify (not sent): " + facts.error().ToString());
      continue;
    }
    const std::string key = facts->Key();
    Warn("EQUIVOCATION: " + facts->member + " signed two different " + facts->kind +
        "s at height " + std::to_string(facts->height) + " round " +
        std::to_string(facts->round) + "; submitting evidence");
    auto pending = store_->GetAux("evidence/" + key);
    if (!pending.ok()) {
      Warn("warning: " + pending.error().ToString());
      continue;
    }
    if (ledger_.state().Get("fault/" + key) || pending->has_value()) continue;
    contracts::TxBody body;
    body.chain_id = genesis_.chain_id;
    body.sender = config_.member_id;
    body.nonce = static_cast<std::uint64_t>(WallMs()) * 1000 + (evidence_nonce_++ % 1000);
    body.timestamp_ms = WallMs();
    body.type = "consensus.evidence";
    body.fields["first"] = crypto::ToHex(e.first.SerializeAsString());
    body.fields["second"] = crypto::ToHex(e.second.SerializeAsString());
    body.fields["member"] = facts->member;
    body.fields["height"] = std::to_string(facts->height);
    body.fields["round"] = std::to_string(facts->round);
    body.fields["kind"] = facts->kind;
    auto tx = contracts::SignTx(body, signing_key_);
    if (!tx.ok()) {
      Log("cannot sign evidence: " + tx.error().ToString());
      continue;
    }
    const std::string wire = tx->Encode();
    Status saved = store_->PutAux("evidence/" + key, wire);  // survives a crash until committed
    if (!saved.ok()) Warn("warning: evidence not saved: " + saved.ToString());
    crypto::Hash256 id{};
    Status admitted = AdmitTx(wire, &id);
    if (!admitted.ok()) {
      Log("evidence not admitted: " + admitted.ToString());
      continue;
    }
    proto::PeerMessage gossip;
    gossip.mutable_txs()->add_txs(wire);
    BroadcastMessage(gossip);
  }
  ScheduleStartHeight();
}

// Pending evidence that is committed is dropped; the rest (e.g. after a restart, or evidence
// whose transaction expired) is signed afresh and submitted again.
void Node::ResubmitPendingEvidence() {
  auto pending = store_->ScanAux("evidence/");
  if (!pending.ok()) return Warn("warning: pending evidence unreadable: " + pending.error().ToString());
  for (const auto& [aux_key, wire] : *pending) {
    const std::string key = aux_key.substr(std::string("evidence/").size());
    if (ledger_.state().Get("fault/" + key)) {
      Status dropped = store_->DeleteAux(aux_key);
      if (!dropped.ok()) Warn("warning: " + dropped.ToString());
      continue;
    }
    auto tx = contracts::DecodeTx(wire);
    if (!tx.ok() || store_->FindTx(tx->id) || mempool_.Contains(tx->id)) continue;
    auto first = crypto::FromHex(*tx->body.Field("first"));
    auto second = crypto::FromHex(*tx->body.Field("second"));
    consensus::Equivocation e;
    if (!first.ok() || !second.ok() || !e.first.ParseFromString(*first) ||
        !e.second.ParseFromString(*second)) {
      continue;
    }
    if (Status ok = ledger_.executor().CheckEnvelope(*tx, ledger_.state(), WallMs()); ok.ok()) {
      crypto::Hash256 id{};
      if (AdmitTx(wire, &id).ok()) {
        proto::PeerMessage gossip;
        gossip.mutable_txs()->add_txs(wire);
        BroadcastMessage(gossip);
      }
      continue;
    }
    Status dropped = store_->DeleteAux(aux_key);  // too old: sign a fresh one
    if (!dropped.ok()) Warn("warning: " + dropped.ToString());
    ReportEquivocations({e});
  }
}

void Node::WantDocuments() {
  for (const contracts::Tx& tx : ledger_.last_txs()) {
    if (tx.body.type != "evidence.attach") continue;
    auto receipt_text = ledger_.state().Get(contracts::ReceiptKey(tx.id));
    auto receipt = contracts::Receipt::ParseText(receipt_text.value_or(""));
    const std::string* digest = tx.body.Field("document-sha256");
    if (!receipt.ok() || !receipt->accepted || digest == nullptr) continue;
    auto sha = crypto::Hash256FromHex(*digest);
    if (!sha.ok() || documents_.Has(*sha)) continue;
    // On disk, every one; in memory, what fits (the rest is read back when there is room).
    Status kept = store_->PutAux("doc-wanted/" + crypto::ToHex(*sha), "");
    if (!kept.ok()) Warn("warning: cannot note document " + *digest + " as wanted: " + kept.ToString());
    wanted_documents_.Want(*sha);
  }
}

Result<std::vector<crypto::Hash256>> Node::WantedOnDisk() {
  auto wanted = store_->ScanAux("doc-wanted/");
  if (!wanted.ok()) return wanted.error();
  std::vector<crypto::Hash256> list;
  for (const auto& [key, unused] : *wanted) {
    auto sha = crypto::Hash256FromHex(key.substr(std::string("doc-wanted/").size()));
    if (sha.ok() && !documents_.Has(*sha)) list.push_back(*sha);
  }
  return list;
}

void Node::AskForDocuments() {
  if (wanted_documents_.NeedsRefill()) {
    auto wanted = WantedOnDisk();
    if (wanted.ok()) wanted_documents_.Refill(*wanted);
  }
  const std::map<std::string, std::uint64_t> claims = peers_.Claims();
  if (wanted_documents_.empty() || claims.empty()) return;
  std::vector<std::string> peers;
  for (const auto& [peer, height] : claims) peers.push_back(peer);
  std::size_t asked = 0;
  for (const auto& sha : wanted_documents_.NextToAsk(kDocumentRequestsPerTick)) {
    proto::PeerMessage message;
    message.mutable_document_request()->set_sha256(std::string(crypto::AsBytes(sha)));
    SendTo(peers[(document_ask_round_ + ++asked) % peers.size()], message);
  }
  ++document_ask_round_;
}

void Node::OnDocumentRequest(const std::string& peer, const proto::DocumentRequest& request) {
  if (request.sha256().size() != 32) return;
  if (!TakeServeBudget(peer, "document")) return;
  crypto::Hash256 sha;
  std::copy(request.sha256().begin(), request.sha256().end(), sha.begin());
  auto bytes = documents_.Get(sha);
  if (!bytes.ok()) return;  // not held (or damaged on disk): the peer asks another
  proto::PeerMessage message;
  message.mutable_document_response()->set_sha256(request.sha256());
  serve_budget_.ChargeBytes(peer, static_cast<std::int64_t>(bytes->size()));
  message.mutable_document_response()->set_content(std::move(bytes).value());
  SendTo(peer, message);
}

void Node::OnDocumentResponse(const std::string& peer, const proto::DocumentResponse& response) {
  if (response.sha256().size() != 32) return;
  crypto::Hash256 sha;
  std::copy(response.sha256().begin(), response.sha256().end(), sha.begin());
  if (!wanted_documents_.Has(sha)) return;  // unasked: dropped
  if (crypto::Sha256(response.content()) != sha) {
    Log("document " + crypto::ToHex(sha) + " from " + peer + " does not match its hash; dropped");
    return;
  }
  auto stored = documents_.Put(response.content());
  if (!stored.ok()) {
    Log("cannot store document " + crypto::ToHex(sha) + ": " + stored.error().ToString());
    return;
  }
  wanted_documents_.Got(sha);
  (void)store_->DeleteAux("doc-wanted/" + crypto::ToHex(sha));
  Log("document " + crypto::ToHex(sha) + " (" + std::to_string(response.content().size()) +
      " bytes) fetched from " + peer);
}

}  // namespace colend::node::detail
