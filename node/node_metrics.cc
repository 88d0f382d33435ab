// The operator's view of a node: GET /metrics (Prometheus text, node/metrics.h) and GET /health
// (live, and ready when synced, connected to a quorum and signing); docs/operations.md,
// "Metrics and health".
#include "contracts/executor.h"
#include "node/node_impl.h"
#include "node/rpc.h"
#include "node/transport.h"

namespace colend::node::detail {

void Node::CountCommitted(const consensus::proto::Block& block) {
  std::optional<double> latency;
  std::uint32_t round = 0;
  if (decided_round_) {
    round = *decided_round_;
    if (height_started_mono_ms_ > 0) {
      latency = static_cast<double>(SteadyMs() - height_started_mono_ms_) / 1000.0;
    }
    decided_round_.reset();
  }
  metrics_.BlockCommitted(static_cast<std::size_t>(block.txs_size()), block.ByteSizeLong(), round,
                          latency);
  for (const contracts::Tx& tx : ledger_.last_txs()) {
    auto text = ledger_.state().Get(contracts::ReceiptKey(tx.id));
    if (!text) continue;
    auto receipt = contracts::Receipt::ParseText(*text);
    if (!receipt.ok()) continue;
    metrics_.TxCommitted(receipt->accepted, receipt->code, receipt->rule);
    if (!receipt->accepted) {
      metrics_.RecordRejection({receipt->height, crypto::ToHex(receipt->tx_id), receipt->type,
                                receipt->code, receipt->rule, receipt->message});
    }
  }
}

MetricsGauges Node::Gauges(GaugeScope scope) {
  MetricsGauges g;
  g.height = ledger_.height();
  g.round = (replica_ && active_height_ != 0) ? replica_->round() : 0;
  g.mempool_txs = mempool_.size();
  g.mempool_bytes = mempool_.bytes();
  g.mempool_memory_bytes = mempool_.memory();
  g.peers_connected = transport_ ? transport_->ConnectedPeers().size() : 0;
  g.members = ledger_.validators().size();
  g.quorum = ledger_.validators().quorum();
  g.membership_epoch = ledger_.membership().epoch;
  g.best_peer_height = peers_.BestClaim();
  for (const auto& [peer, report] : peers_.CertifiedReports()) {
    g.peer_heights[peer] = report.certified_height;
  }
  g.signing_state = recovering_               ? "recovering"
                    : replica_                  ? "signing"
                    : ListedWithOtherKey()      ? "wrong-key"
                                                : "not-a-member";
  if (scope == GaugeScope::kChain) return g;
  g.data_bytes = DirectoryBytes(config_.StatePath("data"));
  if (rpc_) {
    const RpcServer::Stats rpc = rpc_->stats();
    g.rpc_connections_evicted = rpc.evicted;
    g.rpc_connections_refused = rpc.refused;
    g.rpc_connections_busy = rpc.busy;
  }
  g.rss_bytes = ProcessRssBytes();
  // The certificates peers and verifiers check now: the epoch in force's (after a rotation, the
  // rotated ones).
  if (const auto* member = ledger_.membership().Find(config_.member_id)) {
    const std::int64_t now_s = WallMs() / 1000;
    g.certificate_expiry_seconds["tls"] = member->tls_certificate.NotAfterUnix() - now_s;
    g.certificate_expiry_seconds["signing"] = member->signing_certificate.NotAfterUnix() - now_s;
  }
  return g;
}

json Node::RpcMetrics() { return json{{"text", metrics_.Render(Gauges(GaugeScope::kAll))}}; }

json Node::RpcHealth() {
  const MetricsGauges g = Gauges(GaugeScope::kChain);
  const bool synced = g.best_peer_height <= g.height;
  // This node counts towards the quorum itself when it is a member.
  const std::uint64_t reachable = g.peers_connected + (replica_ ? 1 : 0);
  const bool quorum_connected = reachable >= g.quorum;
  const bool signing = g.signing_state == "signing";
  return json{{"live", true},
              {"ready", synced && quorum_connected && signing},
              {"synced", synced},
              {"height", g.height},
              {"best_peer_height", g.best_peer_height},
              {"quorum_connected", quorum_connected},
              {"reachable_members", reachable},
              {"quorum", g.quorum},
              {"signing_state", g.signing_state}};
}

}  // namespace colend::node::detail
