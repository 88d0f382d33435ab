// The node's JSON-RPC methods: submit, tx, wait_tx, block, status, faults, state, evidence_export
// (metrics and health: node_metrics.cc; dashboard: node_dashboard.cc).
#include <algorithm>
#include <sstream>

#include "contracts/contract.h"
#include "contracts/lending/lending.h"
#include "node/evidence_export.h"
#include "node/node_impl.h"
#include "node/rpc.h"
#include "node/signing_recovery.h"
#include "node/state_storage.h"
#include "node/transport.h"

namespace colend::node::detail {

Result<json> Node::HandleRpc(const std::string& method, const json& params) {
  try {
    return Dispatch(method, params);
  } catch (const contracts::StateStorageError& e) {
    // The store is damaged (the node is stopping on it): refused, never answered from it.
    return StateStorageErrorOf(e);
  }
}

Result<json> Node::Dispatch(const std::string& method, const json& params) {
  if (method == "submit") return RpcSubmit(params);
  if (method == "tx") return RpcTx(params);
  if (method == "block") return RpcBlock(params);
  if (method == "status") return RpcStatus();
  if (method == "metrics") return RpcMetrics();
  if (method == "health") return RpcHealth();
  if (method == "dashboard") return RpcDashboard();
  if (method == "faults") return RpcFaults(params);
  if (method == "state") return RpcState(params);
  if (method == "evidence_export") return RpcEvidenceExport(params);
  return MakeError(
      "method-not-found",
      "unknown method '" +
          (method.size() > kEchoedTextMax ? method.substr(0, kEchoedTextMax) + "..." : method) +
          "'; methods: submit, tx, wait_tx, block, status, metrics, health, "
          "dashboard, faults, state, evidence_export");
}

bool Node::HandleDeferredRpc(const std::string& method, const json& params,
                             const std::string& client, RpcReply reply) {
  if (method == "wait_tx") {
    RpcWaitTx(params, client, std::move(reply));
    return true;
  }
  if (method != "submit" || !host_.background) return false;
  // submit answers after the signature check on a worker thread (AdmitInOrder); what it answers
  // is RpcSubmit's, as without worker threads.
  std::vector<std::string> wires;
  if (params.is_object() && params.contains("tx") && params["tx"].is_string()) {
    if (auto wire = crypto::FromHex(params["tx"].get<std::string>()); wire.ok()) wires.push_back(std::move(*wire));
  }
  auto shared_reply = std::make_shared<RpcReply>(std::move(reply));
  auto answer = [this, params, shared_reply] {
    std::optional<Result<json>> result;
    try {  // as json_rpc::CallHandler does for the methods that answer at once
      result.emplace(RpcSubmit(params));
    } catch (const std::exception& e) {
      result.emplace(MakeError("internal-error", std::string("internal error: ") + e.what()));
    }
    (*shared_reply)(std::move(*result));
  };
  if (!AdmitInOrder(wires, /*from_peer=*/false, std::move(answer))) {
    metrics_.TxRefused("admission-queue-full");
    (*shared_reply)(MakeError("admission-queue-full",
                              std::to_string(admit_queue_.size()) + " arrivals (" +
                                  std::to_string(admit_queue_.bytes()) +
                                  " bytes) wait for their signature checks; retry later"));
  }
  return true;
}

// wait_tx {"id": ID, "timeout_ms": N} answers as `tx` does as soon as ID is committed (at once if
// it is), or after N ms (default kWaitTimeoutMsDefault) with its status then and "timed_out":
// true. With {"ids": [ID, ...]} (at most kWaitIdsMax) it answers as soon as any of them is
// committed: {"committed": [tx answers], "pending": [ids], "height", "timed_out"}. The answer is
// sent from AfterCommit (NotifyWaiters) or from the waiter's timer: nothing blocks the io thread.
static_assert(kRpcWaitersPerClientMax < kRpcConnectionsPerClientDefault,
              "waiting calls from one address must leave it connections for other calls");

void Node::RpcWaitTx(const json& params, const std::string& client, RpcReply reply) {
  const std::string usage =
      "wait_tx needs {\"id\": \"<64 hex digits>\"} or {\"ids\": [up to " +
      std::to_string(kWaitIdsMax) + " ids]}, and optionally \"timeout_ms\": 0.." +
      std::to_string(kWaitTimeoutMsMax);
  if (!params.is_object() || params.contains("id") == params.contains("ids")) {
    return reply(MakeError("invalid-params", usage));
  }
  const bool several = params.contains("ids");
  json listed = several ? params["ids"] : json::array({params["id"]});
  if (!listed.is_array() || listed.empty() || listed.size() > kWaitIdsMax) {
    return reply(MakeError("invalid-params", usage));
  }
  std::vector<crypto::Hash256> ids;
  ids.reserve(listed.size());
  for (const json& text : listed) {
    if (!text.is_string()) return reply(MakeError("invalid-params", usage));
    auto id = crypto::Hash256FromHex(text.get<std::string>());
    if (!id.ok()) return reply(MakeError("invalid-params", "ids must be 64 hex digits; " + usage));
    ids.push_back(*id);
  }
  std::int64_t timeout_ms = kWaitTimeoutMsDefault;
  if (params.contains("timeout_ms")) {
    const json& t = params["timeout_ms"];
    if (!t.is_number_unsigned() || t.get<std::uint64_t>() > std::uint64_t(kWaitTimeoutMsMax)) {
      return reply(MakeError("invalid-params", "timeout_ms must be an integer from 0 to " +
                                                   std::to_string(kWaitTimeoutMsMax) +
                                                   " (ms); wait again for longer"));
    }
    timeout_ms = t.get<std::int64_t>();
  }
  for (const auto& id : ids) {
    if (store_->FindTx(id)) return reply(WaitAnswer(ids, several, false));
  }
  if (timeout_ms == 0) return reply(WaitAnswer(ids, several, true));
  if (waiters_.size() >= kRpcWaitersMax) {
    return reply(MakeError("too-many-waiters",
                           std::to_string(waiters_.size()) + " calls are already waiting on this "
                           "node, the most it keeps at once (" + std::to_string(kRpcWaitersMax) +
                           "); retry later, wait on several ids in one call, or ask tx"));
  }
  // Counted over the waiters (at most kRpcWaitersMax), not kept apart.
  const auto from_client = static_cast<std::size_t>(std::count_if(
      waiters_.begin(), waiters_.end(), [&](const auto& w) { return w.second.client == client; }));
  if (from_client >= kRpcWaitersPerClientMax) {
    return reply(MakeError("too-many-waiters",
                           std::to_string(from_client) + " calls from " + client +
                               " are already waiting on this node, the most one address may (" +
                               std::to_string(kRpcWaitersPerClientMax) +
                               ", half of the connections it may open); retry later, wait on "
                               "several ids in one call, or ask tx"));
  }
  const std::uint64_t number = next_waiter_++;
  TxWaiter& waiter = waiters_[number];
  waiter.client = client;
  waiter.ids = std::move(ids);
  waiter.several = several;
  waiter.reply = std::move(reply);
  waiter.timer = host_.make_timer();
  for (const auto& id : waiter.ids) waiting_for_.emplace(id, number);  // a repeated id: once
  waiter.timer->Arm(timeout_ms, [this, number] { FinishWaiter(number, /*timed_out=*/true); });
}

json Node::WaitAnswer(const std::vector<crypto::Hash256>& ids, bool several, bool timed_out) {
  if (!several) {
    json out = TxAnswer(ids.front());
    out["timed_out"] = timed_out;
    return out;
  }
  json committed = json::array();
  json pending = json::array();
  for (const auto& id : ids) {
    if (store_->FindTx(id)) {
      committed.push_back(TxAnswer(id));
    } else {
      pending.push_back(crypto::ToHex(id));
    }
  }
  return json{{"committed", std::move(committed)},
              {"pending", std::move(pending)},
              {"height", ledger_.height()},
              {"timed_out", timed_out}};
}

void Node::FinishWaiter(std::uint64_t number, bool timed_out) {
  auto it = waiters_.find(number);
  if (it == waiters_.end()) return;
  TxWaiter waiter = std::move(it->second);
  waiters_.erase(it);
  for (const auto& id : waiter.ids) waiting_for_.erase({id, number});
  waiter.timer->Cancel();
  waiter.reply(WaitAnswer(waiter.ids, waiter.several, timed_out));
}

void Node::NotifyWaiters(const std::vector<crypto::Hash256>& committed) {
  if (waiters_.empty()) return;
  std::set<std::uint64_t> due;
  for (const auto& id : committed) {
    for (auto entry = waiting_for_.lower_bound({id, 0});
         entry != waiting_for_.end() && entry->first == id; ++entry) {
      due.insert(entry->second);
    }
  }
  for (std::uint64_t number : due) FinishWaiter(number, /*timed_out=*/false);
}

Result<json> Node::RpcSubmit(const json& params) {
  if (!params.is_object() || !params.contains("tx") || !params["tx"].is_string()) {
    return MakeError("invalid-params", "submit needs {\"tx\": \"<hex of a SignedTx>\"}");
  }
  auto wire = crypto::FromHex(params["tx"].get<std::string>());
  if (!wire.ok()) return MakeError("invalid-params", "tx is not hex: " + wire.error().message);
  crypto::Hash256 id{};
  Status admitted = AdmitTx(*wire, &id);
  if (!admitted.ok()) {
    metrics_.TxRefused(admitted.error().code);
    return admitted.error();
  }
  GossipTx(*wire);
  ScheduleStartHeight();
  return json{{"tx", crypto::ToHex(id)}, {"status", "pending"}};
}

Result<json> Node::RpcTx(const json& params) {
  if (!params.is_object() || !params.contains("id") || !params["id"].is_string()) {
    return MakeError("invalid-params", "tx needs {\"id\": \"<64 hex digits>\"}");
  }
  auto id = crypto::Hash256FromHex(params["id"].get<std::string>());
  if (!id.ok()) return MakeError("invalid-params", "id must be 64 hex digits");
  return TxAnswer(*id);
}

json Node::TxAnswer(const crypto::Hash256& tx_id) {
  const crypto::Hash256* id = &tx_id;
  json out = {{"tx", crypto::ToHex(*id)}};
  if (auto location = store_->FindTx(*id)) {
    out["status"] = "committed";
    out["height"] = location->height;
    out["index"] = location->index;
    auto block = store_->GetBlockHeader(location->height);
    if (block.ok()) out["block_hash"] = crypto::ToHex(consensus::BlockHash(block->block().header()));
    if (auto text = ledger_.state().Get(contracts::ReceiptKey(*id))) {
      auto receipt = contracts::Receipt::ParseText(*text);
      if (receipt.ok()) {
        out["type"] = receipt->type;
        out["sender"] = receipt->sender;
        out["accepted"] = receipt->accepted;
        out["code"] = receipt->code;
        out["rule"] = receipt->rule;
        out["message"] = receipt->message;
        out["outputs"] = receipt->outputs;
      }
    }
    return out;
  }
  out["status"] = mempool_.Contains(*id) ? "pending" : "unknown";
  return out;
}

Result<json> Node::RpcBlock(const json& params) {
  if (!params.is_object() || !params.contains("height") || !params["height"].is_number_unsigned()) {
    return MakeError("invalid-params", "block needs {\"height\": <non-negative integer>}");
  }
  std::uint64_t height = params["height"].get<std::uint64_t>();
  if (height > ledger_.height()) {
    return MakeError("block-not-found", "no block at height " + std::to_string(height) +
                                            "; the chain is at height " +
                                            std::to_string(ledger_.height()));
  }
  auto stored = ledger_.ReadBlock(height);
  if (!stored.ok()) return stored.error();
  const std::string& text = stored->block().header();
  auto header = consensus::BlockHeader::ParseText(text);
  if (!header.ok()) return header.error();
  json out = {{"height", header->height},
              {"hash", crypto::ToHex(consensus::BlockHash(text))},
              {"prev_hash", crypto::ToHex(header->prev_block_hash)},
              {"timestamp", header->timestamp_ms},
              {"time", IsoTime(header->timestamp_ms)},
              {"proposer", header->proposer},
              {"tx_root", crypto::ToHex(header->tx_root)},
              {"state_root", crypto::ToHex(header->state_root)},
              {"ledger_root", crypto::ToHex(header->ledger_root)},
              {"header", text}};
  json txs = json::array();
  for (const auto& wire : stored->block().txs()) {
    auto tx = contracts::DecodeTx(wire);
    txs.push_back(tx.ok() ? crypto::ToHex(tx->id) : "unreadable");
  }
  out["txs"] = txs;
  json endorsements = json::array();
  for (const auto& e : stored->certificate().endorsements()) {
    endorsements.push_back({{"member", e.member()}, {"signature", crypto::ToHex(e.signature())}});
  }
  out["endorsements"] = endorsements;
  out["certificate_round"] = stored->certificate().round();
  out["quorum"] = ledger_.validators().quorum();
  return out;
}

Result<json> Node::RpcEvidenceExport(const json& params) {
  if (!params.is_object() || !params.contains("loan") || !params["loan"].is_string()) {
    return MakeError("invalid-params", "evidence_export needs {\"loan\": \"<loan id>\"}");
  }
  const std::string loan = params["loan"].get<std::string>();
  if (loan.size() > kEchoedTextMax) {
    return MakeError("invalid-params", "loan is " + std::to_string(loan.size()) +
                                           " bytes; a loan id has at most " +
                                           std::to_string(kEchoedTextMax));
  }
  auto evidence = ExportLoanEvidence(ledger_, loan, config_.member_id, WallMs());
  if (!evidence.ok()) return evidence.error();
  json files = json::array();
  for (const auto& file : evidence->files) {
    files.push_back({{"path", file.path}, {"hex", crypto::ToHex(file.bytes)}});
  }
  json documents = json::array();
  for (const auto& sha : evidence->documents) {
    documents.push_back({{"sha256", crypto::ToHex(sha)}, {"held", documents_.Has(sha)}});
  }
  return json{{"files", files},
              {"documents", documents},
              {"records", evidence->records},
              {"anchor_height", evidence->anchor_height}};
}

// Raw state for clients: {"key": K} gives one value; {"prefix": P, "limit": N, "after": A} the
// entries under P in key order, after key A when given, at most N (kStateScanMax), with "more":
// whether entries under P follow, so a client pages through them all (the CLI builds loan views
// from these with the contracts' own code).
json StatePage(const std::vector<std::pair<std::string, std::string>>& scanned, std::size_t limit,
               std::size_t bytes_max) {
  json entries = json::array();
  std::size_t bytes = 0;
  std::size_t i = 0;
  for (; i < scanned.size() && i < limit && bytes <= bytes_max; ++i) {
    bytes += scanned[i].first.size() + scanned[i].second.size();
    entries.push_back({{"key", scanned[i].first}, {"value", scanned[i].second}});
  }
  return json{{"entries", std::move(entries)}, {"more", i < scanned.size()}};
}

Result<json> Node::RpcState(const json& params) {
  if (!params.is_object()) return MakeError("invalid-params", "state needs {\"key\"} or {\"prefix\"}");
  json out;
  out["height"] = ledger_.height();
  out["business_day"] = contracts::BusinessDay(ledger_.state());
  if (params.contains("key") && params["key"].is_string()) {
    auto v = ledger_.state().Get(params["key"].get<std::string>());
    out["key"] = params["key"];
    out["value"] = v ? json(*v) : json(nullptr);
    return out;
  }
  if (params.contains("prefix") && params["prefix"].is_string()) {
    const std::string prefix = params["prefix"].get<std::string>();
    std::size_t limit = 1000;
    if (params.contains("limit")) {
      if (!params["limit"].is_number_unsigned() || params["limit"].get<std::size_t>() == 0) {
        return MakeError("invalid-params",
                         "limit must be a whole number of at least 1 (a page holds at most " +
                             std::to_string(kStateScanMax) + " entries; \"more\" tells)");
      }
      limit = std::min<std::size_t>(params["limit"].get<std::size_t>(), kStateScanMax);
    }
    std::string after;
    if (params.contains("after")) {
      if (!params["after"].is_string()) return MakeError("invalid-params", "after must be a key");
      after = params["after"].get<std::string>();
    }
    // One more than asked, to tell whether more follow.
    json page = StatePage(ledger_.state().ScanAfter(prefix, after, limit + 1), limit,
                          kStatePageBytesMax);
    out["entries"] = std::move(page["entries"]);
    out["more"] = page["more"];
    return out;
  }
  return MakeError("invalid-params", "state needs {\"key\": K} or {\"prefix\": P, \"limit\": N}");
}

Result<json> Node::RpcFaults(const json& params) {
  std::string after;
  if (params.is_object() && params.contains("after")) {
    if (!params["after"].is_string()) return MakeError("invalid-params", "after must be a key");
    after = params["after"].get<std::string>();
  }
  const auto scanned = ledger_.state().ScanAfter("fault/", after, kStateScanMax + 1);
  const json page = StatePage(scanned, kStateScanMax, kStatePageBytesMax);
  json list = json::array();
  for (const json& e : page["entries"]) {
    const std::string key = e["key"];
    const std::string value = e["value"];
    // key: fault/<member>/<height>/<round>/<kind>; value: tx <id> height <h> reporter <m> time-ms <t>
    std::vector<std::string> parts;
    std::string rest = key.substr(6);
    for (std::size_t pos; (pos = rest.find('/')) != std::string::npos; rest = rest.substr(pos + 1)) {
      parts.push_back(rest.substr(0, pos));
    }
    parts.push_back(rest);
    if (parts.size() != 4) continue;
    json entry = {{"member", parts[0]},
                  {"height", std::stoull(parts[1])},
                  {"round", std::stoul(parts[2])},
                  {"kind", parts[3]}};
    std::istringstream words(value);
    std::string word, arg;
    while (words >> word >> arg) {
      if (word == "tx") entry["evidence_tx"] = arg;
      if (word == "height") entry["committed_height"] = std::stoull(arg);
      if (word == "reporter") entry["reported_by"] = arg;
      if (word == "time-ms") entry["committed_time_ms"] = std::stoll(arg);
    }
    list.push_back(entry);
  }
  json out = {{"faults", std::move(list)}, {"more", page["more"]}};
  if (page["more"]) out["after"] = page["entries"].back()["key"];
  return out;
}

json Node::RpcStatus() {
  const std::uint64_t best = peers_.BestClaim();
  json out = {{"chain_id", genesis_.chain_id},
              {"genesis_hash", crypto::ToHex(genesis_.hash)},
              {"member", config_.member_id},
              {"suite", std::string(crypto::SuiteName(genesis_.suite))},
              {"quorum_rule", std::string(consensus::QuorumRuleName(ledger_.validators().rule()))},
              {"quorum", ledger_.validators().quorum()},
              {"members", ledger_.validators().size()},
              {"height", ledger_.height()},
              {"last_block_hash", crypto::ToHex(ledger_.last_hash())},
              {"last_block_time", ledger_.last_header().timestamp_ms},
              {"peers", transport_->ConnectedPeers()},
              {"rpc_address", config_.rpc_host + ":" + std::to_string(rpc_ ? rpc_->port() : config_.rpc_port)},
              {"p2p_address", config_.p2p_host + ":" + std::to_string(transport_->listen_port())},
              {"mempool_size", mempool_.size()},
              {"syncing", best > ledger_.height()},
              {"best_peer_height", best}};
  const genesis::Membership& m = ledger_.membership();
  json ids = json::array();
  for (const auto& member : m.members) ids.push_back(member.id);
  out["membership"] = {{"epoch", m.epoch},
                       {"start_height", m.start_height},
                       {"sha256", crypto::ToHex(m.sha256)},
                       {"members", ids}};
  if (replica_) {
    out["consensus"] = {{"active_height", active_height_},
                        {"round", active_height_ ? replica_->round() : 0},
                        {"signing", recovering_ ? "recovering: waiting for peers' heights"
                                    : replica_->sign_floor() > ledger_.height() + 1
                                        ? "from height " + std::to_string(replica_->sign_floor())
                                        : "yes"},
                        {"sign_floor", replica_->sign_floor()}};
  } else {
    out["consensus"] = {{"active_height", 0},
                        {"round", 0},
                        {"signing", ListedWithOtherKey()
                                        ? "no: epoch " + std::to_string(m.epoch) + " lists " +
                                              config_.member_id +
                                              " with another signing key than signing.key (is "
                                              "the rotated key in place?)"
                                        : "no: not a member of epoch " + std::to_string(m.epoch)},
                        {"sign_floor", 0}};
  }
  out["blocks_to_sync"] = best > ledger_.height() ? best - ledger_.height() : 0;
  // This member's certificates in the epoch in force, and a warning weeks before one runs out
  // (docs/operations.md, "Key rotation").
  if (const auto* me = ledger_.membership().Find(config_.member_id)) {
    json certificates = json::object();
    std::string warning;
    const std::int64_t now_s = WallMs() / 1000;
    for (const auto& [kind, cert] : {std::pair<const char*, const crypto::Certificate*>{
                                         "tls", &me->tls_certificate},
                                     {"signing", &me->signing_certificate}}) {
      const std::int64_t not_after = cert->NotAfterUnix();
      const std::int64_t days_left = (not_after - now_s) / 86400;
      certificates[kind] = {{"not_after", IsoTime(not_after * 1000)},
                            {"days_left", days_left},
                            {"sha256", crypto::ToHex(cert->Fingerprint())}};
      if (days_left < kCertificateWarnDays) {
        warning += std::string(warning.empty() ? "" : "; ") + "the " + kind +
                   " certificate expires in " + std::to_string(days_left) +
                   " days: rotate it (colend member propose --rotate)";
      }
    }
    if (!warning.empty()) certificates["warning"] = warning;
    out["certificates"] = certificates;
  }
  auto pending = store_->ScanAux("evidence/");
  out["pending_evidence"] = pending.ok() ? json(pending->size()) : json(nullptr);
  if (recovering_) {
    const RecoveryProgress progress = SigningRecoveryProgress();
    out["recovery"] = {{"why", recovering_why_},
                       {"certified_reports", progress.counted},
                       {"reports_needed", progress.needed},
                       {"caught_up", progress.caught_up},
                       {"lease_floor", lease_floor_}};
  }
  return out;
}

}  // namespace colend::node::detail
