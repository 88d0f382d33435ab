#include "node/node.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <nlohmann/json.hpp>

#include "consensus/replica.h"
#include "contracts/contract.h"
#include "contracts/lending.h"
#include "contracts/tx.h"
#include "genesis/genesis.h"
#include "node/config.h"
#include "node/document_store.h"
#include "node/evidence_export.h"
#include "node/ledger.h"
#include "node/mempool.h"
#include "node/rpc.h"
#include "node/serve_budget.h"
#include "node/store.h"
#include "node/transport.h"

namespace colend::node {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;

constexpr std::uint32_t kSyncBlocksPerRequestMax = 64;
constexpr std::size_t kSyncResponseBytesMax = 16u << 20;
constexpr std::int64_t kStatusIntervalMs = 1000;
constexpr std::int64_t kClockTickRetryMs = 60000;
constexpr std::size_t kStateScanMax = 10000;
constexpr std::int64_t kSyncRequestTimeoutMs = 2000;
// Frames carry at most a proposal with one block, a sync answer (blocks up to kSyncResponseBytesMax,
// plus the one that crosses it) or a document: each must fit the transport's frame limit, or a
// peer could never receive it. Checked at start-up against the configured frame limit.
constexpr std::size_t kFrameOverheadBytes = 64 * 1024;
static_assert(kSyncResponseBytesMax >= kBlockBytesMax, "a sync answer holds at least one block");
// Consensus messages for the height after the one being decided, kept until it starts.
constexpr std::size_t kEarlyMessagesMax = 256;
// Documents of committed evidence.attach records this node still lacks, and how many it asks
// peers for per housekeeping tick.
constexpr std::size_t kWantedDocumentsMax = 10000;
constexpr std::size_t kDocumentRequestsPerTick = 4;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Steady time for deadlines (consensus timeouts, sync requests): unlike NowMs it never steps
// when the host's clock is corrected.
std::int64_t MonoMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

consensus::Now ReplicaNow() { return consensus::Now(NowMs(), MonoMs()); }

std::string IsoTime(std::int64_t ms) {
  std::time_t seconds = ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[96];  // room for any int fields, so the format can never truncate
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

class KeySigner : public consensus::Signer {
 public:
  explicit KeySigner(crypto::PrivateKey key) : key_(std::move(key)) {}
  std::string Sign(std::string_view message) override {
    auto signature = key_.Sign(message);
    assert(signature.ok());  // an in-memory key that loaded fine cannot fail to sign
    return std::move(signature).value();
  }

 private:
  crypto::PrivateKey key_;
};

class Node : public consensus::Application {
 public:
  Node(asio::io_context& io, NodeConfig config, genesis::Genesis genesis,
       crypto::PrivateKey signing_key, std::unique_ptr<Store> store, bool data_was_missing)
      : io_(io),
        config_(std::move(config)),
        genesis_(std::move(genesis)),
        store_(std::move(store)),
        ledger_(genesis_, store_.get()),
        data_was_missing_(data_was_missing),
        signing_key_(signing_key),
        documents_(config_.Path("documents")),
        signer_(std::move(signing_key)),
        mempool_(MempoolLimits{}),
        replica_timer_(io),
        start_timer_(io),
        housekeeping_timer_(io) {}

  Status Start(const std::string& tls_cert_pem, const std::string& tls_key_pem);
  void Shutdown();
  // True after a fatal error stopped the node: the process must exit non-zero, so that a service
  // manager (systemd Restart=on-failure) restarts it and operators see the failure.
  bool fatal() const { return fatal_; }

  // consensus::Application
  consensus::proto::Block ProposeBlock(std::uint64_t height, std::int64_t now_ms) override;
  Status ValidateBlock(std::uint64_t height, const consensus::proto::Block& block,
                       std::int64_t now_ms, bool check_timeliness) override {
    return ledger_.ValidateBlock(height, block, now_ms, check_timeliness);
  }

 private:
  void Log(const std::string& line) {
    std::cerr << IsoTime(NowMs()) << " [" << config_.member_id << "] " << line << std::endl;
  }
  void Handle(consensus::Actions actions);
  // Equivocations the replica detected: kept durably and sent as consensus.evidence txs.
  void ReportEquivocations(const std::vector<consensus::Equivocation>& found);
  void ResubmitPendingEvidence();
  // A member whose data was wiped (key kept): how many peers must report their heights before it
  // knows the lowest height it cannot have signed at, and the handling of one report.
  void RecoverSigningFloor(const std::string& peer, std::uint64_t height);
  Result<json> RpcFaults();
  Result<json> RpcEvidenceExport(const json& params);
  // Documents (node/document_store.h): wanted after an attach commits, fetched from peers.
  void WantDocuments(const consensus::proto::Block& block);
  void AskForDocuments();
  void OnDocumentRequest(const std::string& peer, const proto::DocumentRequest& request);
  void OnDocumentResponse(const std::string& peer, const proto::DocumentResponse& response);
  Result<json> RpcState(const json& params);
  // The lead bank's node submits clock.tick once the Asia/Shanghai date has passed the committed
  // business date (docs/lending-rules.md §1.2: contracts take the date only from the chain).
  void MaybeTickClock();
  void ArmReplicaTimer();
  // Takes the membership epoch in force for the next height: the replica with its validator set
  // (none while this node is not a member: it syncs and serves, and signs nothing) and the
  // transport's peers. At start and whenever a committed block began a new epoch.
  Status ApplyMembership();
  std::vector<PeerAddress> MemberPeers() const;
  void StartHeight();
  void ScheduleStartHeight();
  void AfterCommit(const consensus::proto::Block& block, const std::string& how);
  void Housekeeping();
  void SendTo(const std::string& peer, const proto::PeerMessage& message);
  void BroadcastMessage(const proto::PeerMessage& message);
  void AnnounceStatus();
  void RequestBlocks(const std::string& peer);
  void OnFrame(const std::string& peer, std::string frame);
  void OnConsensus(const std::string& peer, const consensus::proto::ConsensusMessage& message);
  void OnStatus(const std::string& peer, const proto::StatusAnnounce& status);
  void ApplySyncedBlock(const std::string& peer);
  void OnBlockRequest(const std::string& peer, const proto::BlockRequest& request);
  // Whether `peer` may have one more block or document answer now (serve_budget.h).
  bool TakeServeBudget(const std::string& peer, const char* what);
  ServeBudget serve_budget_;
  std::map<std::string, std::int64_t> last_budget_log_;  // MonoMs() of the last refusal logged
  void OnBlockResponse(const std::string& peer, const proto::BlockResponse& response);
  Status AdmitTx(const std::string& wire, crypto::Hash256* id);
  std::uint64_t BestPeerHeight() const;

  Result<json> HandleRpc(const std::string& method, const json& params);
  Result<json> RpcSubmit(const json& params);
  Result<json> RpcTx(const json& params);
  Result<json> RpcBlock(const json& params);
  json RpcStatus();

  asio::io_context& io_;
  NodeConfig config_;
  genesis::Genesis genesis_;
  std::unique_ptr<Store> store_;
  Ledger ledger_;
  const bool data_was_missing_;
  crypto::PrivateKey signing_key_;
  bool recovering_ = false;  // signing history unknown: sync only, sign nothing
  std::set<std::string> recovery_reports_;
  std::uint64_t evidence_nonce_ = 0;
  std::optional<std::int64_t> last_clock_tick_mono_;  // MonoMs() of the last clock.tick sent
  DocumentStore documents_;
  std::set<crypto::Hash256> wanted_documents_;
  std::uint64_t document_ask_round_ = 0;
  KeySigner signer_;
  Mempool mempool_;
  std::unique_ptr<consensus::Replica> replica_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<RpcServer> rpc_;
  asio::steady_timer replica_timer_;
  asio::steady_timer start_timer_;
  asio::steady_timer housekeeping_timer_;
  bool replica_started_ = false;
  consensus::ReplicaTimeouts timeouts_;
  std::uint64_t epoch_ = 0;  // the membership epoch the replica and transport were set up for
  bool start_scheduled_ = false;
  std::uint64_t active_height_ = 0;  // height the replica works on; 0 while idle
  bool fatal_ = false;
  std::map<std::string, std::uint64_t> peer_heights_;
  // A proposer that has just committed height h proposes h+1 at once, often before the last
  // precommit of h reaches us: its proposal is kept here and handed to the replica when h+1
  // starts, instead of being lost until the proposer's next rebroadcast (a second later).
  std::deque<consensus::proto::ConsensusMessage> early_messages_;
  std::string sync_peer_;
  std::int64_t sync_deadline_ms_ = 0;
  std::deque<proto::StoredBlock> sync_queue_;  // a batch being applied, one block per io event
  std::uint64_t sync_applied_ = 0;
};

Status Node::Start(const std::string& tls_cert_pem, const std::string& tls_key_pem) {
  COLEND_RETURN_IF_ERROR(ledger_.Open());
  Log("chain " + genesis_.chain_id + " genesis " + crypto::ToHex(genesis_.hash) + " at height " +
      std::to_string(ledger_.height()) + " block " + crypto::ToHex(ledger_.last_hash()));
  timeouts_.propose_ms = genesis_.consensus.timeout_propose_ms;
  timeouts_.prevote_ms = genesis_.consensus.timeout_prevote_ms;
  timeouts_.precommit_ms = genesis_.consensus.timeout_precommit_ms;
  timeouts_.round_increment_ms = genesis_.consensus.timeout_round_increment_ms;
  epoch_ = ledger_.membership().epoch;
  COLEND_RETURN_IF_ERROR(ApplyMembership());
  // docs/consensus.md §10 (F11): a data directory that had to be created (wiped, or never made by
  // `colend-node --init`) means this member's signing history is unknown. It may have signed at
  // heights the chain has not decided yet, so it syncs and signs nothing until it knows a floor.
  if (data_was_missing_) {
    COLEND_RETURN_IF_ERROR(store_->PutAux("recovering", "data directory was missing at start"));
  }
  if (store_->GetAux("recovering")) {
    recovering_ = true;
    Log("signing history unknown (data directory was missing; wiped?): syncing, signing nothing "
        "until " + std::to_string(ledger_.validators().size() - ledger_.validators().quorum() + 1) +
        " peers have reported their heights");
  }
  ResubmitPendingEvidence();
  for (const auto& [key, unused] : store_->ScanAux("doc-wanted/")) {
    auto sha = crypto::Hash256FromHex(key.substr(std::string("doc-wanted/").size()));
    if (sha.ok() && !documents_.Has(*sha) && wanted_documents_.size() < kWantedDocumentsMax) {
      wanted_documents_.insert(*sha);
    }
  }
  TransportConfig tc;
  tc.self_id = config_.member_id;
  tc.listen_host = config_.p2p_host;
  tc.listen_port = config_.p2p_port;
  tc.ca_pem = genesis_.ca_certificate.ToPem();
  tc.cert_pem = tls_cert_pem;
  tc.key_pem = tls_key_pem;
  tc.genesis_hash = genesis_.hash;
  tc.fault_file = config_.Path("test-partition");
  if (TransportTestHooksCompiled()) Log("test hook: transport fault file " + tc.fault_file);
  tc.peers = MemberPeers();
  transport_ = std::make_unique<Transport>(
      io_, tc, [this](const std::string& peer, std::string frame) { OnFrame(peer, std::move(frame)); },
      [this](const std::string& peer, bool up) {
        Log(std::string("peer ") + peer + (up ? " connected" : " disconnected"));
        if (up) AnnounceStatus();
      },
      [this](const std::string& line) { Log("p2p: " + line); });
  const std::size_t frame_needed =
      std::max({kSyncResponseBytesMax + kBlockBytesMax, std::size_t{contracts::kDocumentBytesMax}}) +
      kFrameOverheadBytes;
  if (tc.frame_bytes_max < frame_needed) {
    return MakeError("bad-limits", "transport frame limit " + std::to_string(tc.frame_bytes_max) +
                                       " bytes is below the " + std::to_string(frame_needed) +
                                       " a sync answer, a block or a document needs");
  }
  // The mempool's limits fit together: one sender's share within the whole, and a largest
  // transaction fits one sender's share and one block.
  const MempoolLimits& pool = mempool_.limits();
  const std::size_t tx_wire_max = contracts::kTxBodyBytesMax + 1024;  // body, signature, framing
  if (pool.sender_txs_max == 0 || pool.sender_txs_max > pool.txs_max ||
      pool.sender_bytes_max < tx_wire_max || pool.sender_bytes_max > pool.bytes_max ||
      kBlockBytesMax < tx_wire_max) {
    return MakeError("bad-limits", "mempool limits do not fit together: per sender " +
                                       std::to_string(pool.sender_txs_max) + " transactions / " +
                                       std::to_string(pool.sender_bytes_max) + " bytes, in all " +
                                       std::to_string(pool.txs_max) + " / " +
                                       std::to_string(pool.bytes_max) + ", block " +
                                       std::to_string(kBlockBytesMax) + " bytes");
  }
  std::string error;
  if (!transport_->Start(&error)) return MakeError("p2p-bind-failed", error);
  RpcServerConfig rc;
  rc.host = config_.rpc_host;
  rc.port = config_.rpc_port;
  if (config_.rpc_remote) {
    // Beyond loopback (config.json "rpc_remote": true, docs/operations.md): TLS 1.3 with a client
    // certificate the consortium CA issued, our TLS certificate as the server's.
    rc.tls = RpcTlsConfig{genesis_.ca_certificate.ToPem(), tls_cert_pem, tls_key_pem};
    Log("WARNING: rpc_remote is set: the JSON-RPC on " + config_.rpc_host + ":" +
        std::to_string(config_.rpc_port) +
        " is reachable beyond this host; it requires TLS with a client certificate issued by "
        "the consortium CA");
  }
  rpc_ = std::make_unique<RpcServer>(
      io_, rc, [this](const std::string& method, const json& params) { return HandleRpc(method, params); });
  if (!rpc_->Start(&error)) return MakeError("rpc-bind-failed", error);
  Log("listening: p2p " + config_.p2p_host + ":" + std::to_string(transport_->listen_port()) +
      ", rpc " + config_.rpc_host + ":" + std::to_string(rpc_->port()) +
      (config_.rpc_remote ? " (TLS, client certificates required)" : ""));
  Housekeeping();
  return Status::Ok();
}

std::vector<PeerAddress> Node::MemberPeers() const {
  std::vector<PeerAddress> peers;
  for (const auto& peer : config_.peers) {
    // Peers of the configuration that are not members (yet, or any more) are not admitted.
    if (const genesis::GenesisMember* member = ledger_.membership().Find(peer.id)) {
      peers.push_back({peer.id, peer.host, peer.port, member->tls_certificate.Fingerprint()});
    }
  }
  return peers;
}

Status Node::ApplyMembership() {
  const genesis::Membership& membership = ledger_.membership();
  const genesis::GenesisMember* me = membership.Find(config_.member_id);
  const bool member = me != nullptr && me->signing_key.ToDer() == signing_key_.Public().ToDer();
  if (me != nullptr && !member) {
    Log("membership epoch " + std::to_string(membership.epoch) + " lists " + config_.member_id +
        " with another signing key than signing.key: not signing");
  }
  replica_timer_.cancel();
  active_height_ = 0;
  replica_started_ = false;
  replica_.reset();
  if (member) {
    replica_ = std::make_unique<consensus::Replica>(ledger_.validators(), config_.member_id,
                                                    timeouts_, this, &signer_);
    if (auto saved = store_->LoadReplicaState()) {
      COLEND_RETURN_IF_ERROR(replica_->Restore(*saved));
    }
  }
  if (transport_) transport_->SetPeers(MemberPeers());
  return Status::Ok();
}

void Node::Shutdown() {
  replica_timer_.cancel();
  start_timer_.cancel();
  housekeeping_timer_.cancel();
  if (rpc_) rpc_->Stop();
  if (transport_) transport_->Stop();
}

consensus::proto::Block Node::ProposeBlock(std::uint64_t height, std::int64_t now_ms) {
  // The timestamp must exceed the parent's even if our clock is behind it by a little.
  std::int64_t timestamp = std::max(now_ms, ledger_.last_header().timestamp_ms + 1);
  std::vector<Ledger::Dropped> dropped;
  auto block = ledger_.BuildBlock(height, timestamp, config_.member_id,
                                  mempool_.Oldest(genesis_.consensus.block_txs_max, kBlockBytesMax),
                                  &dropped);
  for (const auto& d : dropped) {
    Log("dropping transaction " + crypto::ToHex(d.tx_id) + ": " + d.error.ToString());
    mempool_.Remove(d.tx_id);
  }
  Log("proposing block " + std::to_string(height) + " with " + std::to_string(block.txs_size()) +
      " transactions");
  return block;
}

void Node::Handle(consensus::Actions actions) {
  if (fatal_) return;
  for (const auto& line : actions.log) Log("consensus: " + line);
  if (actions.persist) {
    Status saved = store_->SaveReplicaState(*actions.persist);
    if (!saved.ok()) {
      // Without durable vote state we could sign twice after a crash: stop rather than speak.
      Log("FATAL: " + saved.ToString() + "; stopping");
      fatal_ = true;
      io_.stop();
      return;
    }
  }
  for (auto& out : actions.messages) {
    proto::PeerMessage message;
    *message.mutable_consensus() = std::move(out.message);
    if (out.to) {
      SendTo(*out.to, message);
    } else {
      BroadcastMessage(message);
    }
  }
  if (!actions.equivocations.empty()) ReportEquivocations(actions.equivocations);
  if (actions.decision) {
    const auto& d = *actions.decision;
    Status committed = ledger_.CommitBlock(d.block, d.certificate);
    if (!committed.ok()) {
      Log("FATAL: cannot commit decided block: " + committed.ToString());
      fatal_ = true;
      io_.stop();
      return;
    }
    AfterCommit(d.block, "committed in round " + std::to_string(d.certificate.round()) + " with " +
                             std::to_string(d.certificate.endorsements_size()) + " endorsements");
  }
  ArmReplicaTimer();
}

void Node::ArmReplicaTimer() {
  if (active_height_ == 0 || !replica_) return;
  std::int64_t delay = std::max<std::int64_t>(0, replica_->next_deadline_ms() - MonoMs());
  replica_timer_.expires_after(std::chrono::milliseconds(delay));
  replica_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || active_height_ == 0 || !replica_) return;
    Handle(replica_->OnTick(ReplicaNow()));
  });
}

void Node::StartHeight() {
  start_timer_.cancel();
  start_scheduled_ = false;
  if (recovering_) return;  // sync only until the signing floor is known
  if (!replica_) return;     // not a member of this epoch: sync only
  std::uint64_t next = ledger_.height() + 1;
  if (active_height_ == next) return;
  active_height_ = next;
  if (!replica_started_) {
    replica_started_ = true;
    Handle(replica_->Start(next, ReplicaNow()));
  } else {
    Handle(replica_->AdvanceTo(next, ReplicaNow()));
  }
  std::deque<consensus::proto::ConsensusMessage> early;
  early.swap(early_messages_);
  for (const auto& message : early) {
    const std::uint64_t height =
        message.has_proposal() ? message.proposal().height() : message.vote().height();
    if (replica_ && height == next && active_height_ == next && ledger_.height() + 1 == next) {
      Handle(replica_->OnMessage(message, ReplicaNow()));
    } else if (height > ledger_.height() + 1) {
      early_messages_.push_back(message);  // still ahead (kept in arrival order)
    }
  }
}

// Blocks are made only when there is something to commit; the short delay lets transactions
// that arrive together share a block.
void Node::ScheduleStartHeight() {
  if (active_height_ == ledger_.height() + 1 || start_scheduled_ || mempool_.size() == 0) return;
  start_scheduled_ = true;
  start_timer_.expires_after(std::chrono::milliseconds(genesis_.consensus.block_interval_ms));
  start_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    start_scheduled_ = false;
    StartHeight();
  });
}

void Node::AfterCommit(const consensus::proto::Block& block, const std::string& how) {
  for (const auto& wire : block.txs()) {
    auto tx = contracts::DecodeTx(wire);
    if (!tx.ok()) continue;
    mempool_.Remove(tx->id);
    if (tx->body.type == "consensus.evidence" && !store_->ScanAux("evidence/").empty()) {
      ResubmitPendingEvidence();  // drops what is now committed
    }
  }
  Log("block " + std::to_string(ledger_.height()) + " " + crypto::ToHex(ledger_.last_hash()) +
      " txs " + std::to_string(block.txs_size()) + " " + how);
  WantDocuments(block);
  if (ledger_.membership().epoch != epoch_) {
    const genesis::Membership& m = ledger_.membership();
    epoch_ = m.epoch;
    std::string ids;
    for (const auto& member : m.members) ids += (ids.empty() ? "" : ",") + member.id;
    Log("membership epoch " + std::to_string(m.epoch) + " begins at height " +
        std::to_string(m.start_height) + ": " + std::to_string(m.members.size()) + " members (" +
        ids + "), quorum " + std::to_string(ledger_.validators().quorum()) + " (" +
        std::string(consensus::QuorumRuleName(m.quorum)) + "), sha256 " + crypto::ToHex(m.sha256) +
        (m.Find(config_.member_id) ? "" : "; this node is not a member: syncing only"));
    Status applied = ApplyMembership();
    if (!applied.ok()) {
      Log("FATAL: cannot take up membership epoch " + std::to_string(m.epoch) + ": " +
          applied.ToString());
      fatal_ = true;
      io_.stop();
      return;
    }
  }
  active_height_ = 0;
  replica_timer_.cancel();
  AnnounceStatus();
  ScheduleStartHeight();
}

void Node::Housekeeping() {
  AnnounceStatus();
  std::uint64_t best = BestPeerHeight();
  if (best > ledger_.height() && (sync_peer_.empty() || MonoMs() > sync_deadline_ms_)) {
    // A peer that did not answer in time is skipped while another peer is ahead of us too.
    std::string slow = sync_peer_;
    if (!slow.empty()) Log("sync: no answer from " + slow + " in time; asking another peer");
    std::string choice;
    std::uint64_t choice_height = 0;
    for (const auto& [peer, height] : peer_heights_) {
      if (height <= ledger_.height() || (peer == slow && peer_heights_.size() > 1)) continue;
      if (height > choice_height) choice = peer, choice_height = height;
    }
    if (choice.empty() && !slow.empty() && peer_heights_[slow] > ledger_.height()) choice = slow;
    if (!choice.empty()) RequestBlocks(choice);
  }
  MaybeTickClock();
  AskForDocuments();
  ScheduleStartHeight();
  housekeeping_timer_.expires_after(std::chrono::milliseconds(kStatusIntervalMs));
  housekeeping_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Housekeeping();
  });
}

void Node::SendTo(const std::string& peer, const proto::PeerMessage& message) {
  transport_->Send(peer, message.SerializeAsString());
}

void Node::BroadcastMessage(const proto::PeerMessage& message) {
  transport_->Broadcast(message.SerializeAsString());
}

void Node::AnnounceStatus() {
  proto::PeerMessage message;
  message.mutable_status()->set_height(ledger_.height());
  message.mutable_status()->set_last_block_hash(std::string(crypto::AsBytes(ledger_.last_hash())));
  BroadcastMessage(message);
}

std::uint64_t Node::BestPeerHeight() const {
  std::uint64_t best = 0;
  for (const auto& [peer, height] : peer_heights_) best = std::max(best, height);
  return best;
}

void Node::RequestBlocks(const std::string& peer) {
  std::uint64_t from = ledger_.height() + 1;
  std::uint64_t behind = peer_heights_[peer] - ledger_.height();
  proto::PeerMessage message;
  message.mutable_block_request()->set_from_height(from);
  message.mutable_block_request()->set_count(
      static_cast<std::uint32_t>(std::min<std::uint64_t>(behind, kSyncBlocksPerRequestMax)));
  sync_peer_ = peer;
  sync_deadline_ms_ = MonoMs() + kSyncRequestTimeoutMs;
  Log("syncing: at height " + std::to_string(ledger_.height()) + ", " + peer + " is at " +
      std::to_string(peer_heights_[peer]) + " (" + std::to_string(behind) +
      " blocks behind); requesting from " + std::to_string(from));
  SendTo(peer, message);
}

void Node::OnFrame(const std::string& peer, std::string frame) {
  proto::PeerMessage message;
  if (!message.ParseFromString(frame)) {
    Log("dropping an unreadable message from " + peer);
    return;
  }
  switch (message.kind_case()) {
    case proto::PeerMessage::kConsensus:
      return OnConsensus(peer, message.consensus());
    case proto::PeerMessage::kTxs:
      for (const auto& wire : message.txs().txs()) {
        crypto::Hash256 id;
        (void)AdmitTx(wire, &id);  // gossip: invalid or known transactions are dropped quietly
      }
      ScheduleStartHeight();
      return;
    case proto::PeerMessage::kStatus:
      return OnStatus(peer, message.status());
    case proto::PeerMessage::kBlockRequest:
      return OnBlockRequest(peer, message.block_request());
    case proto::PeerMessage::kBlockResponse:
      return OnBlockResponse(peer, message.block_response());
    case proto::PeerMessage::kDocumentRequest:
      return OnDocumentRequest(peer, message.document_request());
    case proto::PeerMessage::kDocumentResponse:
      return OnDocumentResponse(peer, message.document_response());
    default:
      Log("dropping a message of unknown kind from " + peer);
  }
}

void Node::OnConsensus(const std::string& peer,
                       const consensus::proto::ConsensusMessage& message) {
  std::uint64_t height = message.has_proposal() ? message.proposal().height()
                                                : message.vote().height();
  if (height <= ledger_.height()) return;  // decided already; our status tells the peer
  if (height > ledger_.height() + 1) {
    if (height == ledger_.height() + 2 && !recovering_) {
      if (early_messages_.size() >= kEarlyMessagesMax) early_messages_.pop_front();
      early_messages_.push_back(message);
    }
    peer_heights_[peer] = std::max(peer_heights_[peer], height - 1);
    if (sync_peer_.empty() || MonoMs() > sync_deadline_ms_) RequestBlocks(peer);
    return;
  }
  if (recovering_ || !replica_) return;
  if (active_height_ != height) StartHeight();
  if (active_height_ != height || !replica_) return;
  Handle(replica_->OnMessage(message, ReplicaNow()));
}

void Node::OnStatus(const std::string& peer, const proto::StatusAnnounce& status) {
  peer_heights_[peer] = status.height();
  if (recovering_) RecoverSigningFloor(peer, status.height());
  if (status.height() > ledger_.height() && (sync_peer_.empty() || MonoMs() > sync_deadline_ms_)) {
    RequestBlocks(peer);
  }
}

void Node::OnBlockRequest(const std::string& peer, const proto::BlockRequest& request) {
  if (!TakeServeBudget(peer, "block")) return;
  proto::PeerMessage message;
  std::size_t bytes = 0;
  std::uint32_t count = std::min(request.count(), kSyncBlocksPerRequestMax);
  for (std::uint64_t h = request.from_height();
       h < request.from_height() + count && h <= ledger_.height() && bytes < kSyncResponseBytesMax;
       ++h) {
    auto block = store_->GetBlock(h);
    if (!block.ok()) break;
    bytes += block->ByteSizeLong();
    *message.mutable_block_response()->add_blocks() = std::move(block).value();
  }
  serve_budget_.ChargeBytes(peer, static_cast<std::int64_t>(bytes));
  SendTo(peer, message);
}

bool Node::TakeServeBudget(const std::string& peer, const char* what) {
  if (serve_budget_.TakeRequest(peer, MonoMs())) return true;
  const std::string line = std::string("not answering ") + what + " requests from " + peer +
                           ": over its serving budget";
  if (last_budget_log_[peer] + 60000 <= MonoMs()) {
    last_budget_log_[peer] = MonoMs();
    Log(line);
  }
  return false;
}

// Synced blocks are applied one per io event, so RPC (status shows the progress) and consensus
// messages are served between them; the peer stays our sync peer until its batch is applied.
void Node::OnBlockResponse(const std::string& peer, const proto::BlockResponse& response) {
  if (peer != sync_peer_ || !sync_queue_.empty()) return;  // late or unasked: ignore
  for (const auto& stored : response.blocks()) sync_queue_.push_back(stored);
  if (sync_queue_.empty()) {
    sync_peer_.clear();
    return;
  }
  sync_applied_ = 0;
  sync_deadline_ms_ = MonoMs() + kSyncRequestTimeoutMs;
  ApplySyncedBlock(peer);
}

void Node::ApplySyncedBlock(const std::string& peer) {
  if (fatal_ || sync_queue_.empty()) return;
  const proto::StoredBlock stored = std::move(sync_queue_.front());
  sync_queue_.pop_front();
  auto header = consensus::BlockHeader::ParseText(stored.block().header());
  if (header.ok() && header->height == ledger_.height() + 1) {
    Status committed = ledger_.CommitBlock(stored.block(), stored.certificate());
    if (!committed.ok()) {
      Log("sync: block " + std::to_string(header->height) + " from " + peer + " rejected: " +
          committed.ToString());
      sync_queue_.clear();
    } else {
      ++sync_applied_;
      AfterCommit(stored.block(), "synced from " + peer);
    }
  }
  if (!sync_queue_.empty()) {
    sync_deadline_ms_ = MonoMs() + kSyncRequestTimeoutMs;
    asio::post(io_, [this, peer] { ApplySyncedBlock(peer); });
    return;
  }
  sync_peer_.clear();
  if (sync_applied_ > 0) {
    std::uint64_t best = BestPeerHeight();
    Log("sync: applied " + std::to_string(sync_applied_) + " blocks, now at " +
        std::to_string(ledger_.height()) +
        (best > ledger_.height() ? ", " + std::to_string(best - ledger_.height()) + " to go"
                                 : ", caught up"));
    if (best > ledger_.height()) RequestBlocks(peer);
  }
}

Status Node::AdmitTx(const std::string& wire, crypto::Hash256* id) {
  auto tx = contracts::DecodeTx(wire);
  if (!tx.ok()) return tx.error();
  *id = tx->id;
  if (mempool_.Contains(tx->id) || store_->FindTx(tx->id)) {
    return MakeError("duplicate-transaction",
                     "transaction " + crypto::ToHex(tx->id) + " was submitted before");
  }
  COLEND_RETURN_IF_ERROR(ledger_.executor().CheckEnvelope(*tx, ledger_.state(), NowMs()));
  switch (mempool_.Add(tx->id, tx->body.sender, wire)) {
    case Mempool::Admission::kAdded:
      break;
    case Mempool::Admission::kDuplicate:
      return MakeError("duplicate-transaction",
                       "transaction " + crypto::ToHex(tx->id) + " was submitted before");
    case Mempool::Admission::kFull:
      return MakeError("mempool-full", "the node has " + std::to_string(mempool_.size()) +
                                           " pending transactions (" + std::to_string(mempool_.bytes()) +
                                           " bytes); retry later");
    case Mempool::Admission::kSenderQuota:
      return MakeError("sender-quota", "sender " + tx->body.sender + " has reached its quota of " +
                                           std::to_string(mempool_.limits().sender_txs_max) +
                                           " pending transactions or " +
                                           std::to_string(mempool_.limits().sender_bytes_max) +
                                           " pending bytes; retry when they commit");
  }
  return Status::Ok();
}

Result<json> Node::HandleRpc(const std::string& method, const json& params) {
  if (method == "submit") return RpcSubmit(params);
  if (method == "tx") return RpcTx(params);
  if (method == "block") return RpcBlock(params);
  if (method == "status") return RpcStatus();
  if (method == "faults") return RpcFaults();
  if (method == "state") return RpcState(params);
  if (method == "evidence_export") return RpcEvidenceExport(params);
  return MakeError("method-not-found",
                   "unknown method '" + method +
                       "'; methods: submit, tx, block, status, faults, state, evidence_export");
}

Result<json> Node::RpcSubmit(const json& params) {
  if (!params.is_object() || !params.contains("tx") || !params["tx"].is_string()) {
    return MakeError("invalid-params", "submit needs {\"tx\": \"<hex of a SignedTx>\"}");
  }
  auto wire = crypto::FromHex(params["tx"].get<std::string>());
  if (!wire.ok()) return MakeError("invalid-params", "tx is not hex: " + wire.error().message);
  crypto::Hash256 id{};
  Status admitted = AdmitTx(*wire, &id);
  if (!admitted.ok()) return admitted.error();
  proto::PeerMessage gossip;
  gossip.mutable_txs()->add_txs(*wire);
  BroadcastMessage(gossip);
  ScheduleStartHeight();
  return json{{"tx", crypto::ToHex(id)}, {"status", "pending"}};
}

Result<json> Node::RpcTx(const json& params) {
  if (!params.is_object() || !params.contains("id") || !params["id"].is_string()) {
    return MakeError("invalid-params", "tx needs {\"id\": \"<64 hex digits>\"}");
  }
  auto id = crypto::Hash256FromHex(params["id"].get<std::string>());
  if (!id.ok()) return MakeError("invalid-params", "id must be 64 hex digits");
  json out = {{"tx", crypto::ToHex(*id)}};
  if (auto location = store_->FindTx(*id)) {
    out["status"] = "committed";
    out["height"] = location->height;
    out["index"] = location->index;
    auto block = store_->GetBlock(location->height);
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
  auto stored = store_->GetBlock(height);
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
  auto evidence = ExportLoanEvidence(ledger_, params["loan"].get<std::string>(),
                                     config_.member_id, NowMs());
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

void Node::WantDocuments(const consensus::proto::Block& block) {
  for (const auto& wire : block.txs()) {
    auto tx = contracts::DecodeTx(wire);
    if (!tx.ok() || tx->body.type != "evidence.attach") continue;
    auto receipt_text = ledger_.state().Get(contracts::ReceiptKey(tx->id));
    auto receipt = contracts::Receipt::ParseText(receipt_text.value_or(""));
    const std::string* digest = tx->body.Field("document-sha256");
    if (!receipt.ok() || !receipt->accepted || digest == nullptr) continue;
    auto sha = crypto::Hash256FromHex(*digest);
    if (!sha.ok() || documents_.Has(*sha) || wanted_documents_.size() >= kWantedDocumentsMax) {
      continue;
    }
    wanted_documents_.insert(*sha);
    (void)store_->PutAux("doc-wanted/" + *digest, "");  // lost on failure: asked again at export
  }
}

void Node::AskForDocuments() {
  if (wanted_documents_.empty() || peer_heights_.empty()) return;
  std::vector<std::string> peers;
  for (const auto& [peer, height] : peer_heights_) peers.push_back(peer);
  std::size_t asked = 0;
  for (const auto& sha : wanted_documents_) {
    if (asked++ >= kDocumentRequestsPerTick) break;
    proto::PeerMessage message;
    message.mutable_document_request()->set_sha256(std::string(crypto::AsBytes(sha)));
    SendTo(peers[(document_ask_round_ + asked) % peers.size()], message);
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
  if (!wanted_documents_.count(sha)) return;  // unasked: dropped
  if (crypto::Sha256(response.content()) != sha) {
    Log("document " + crypto::ToHex(sha) + " from " + peer + " does not match its hash; dropped");
    return;
  }
  auto stored = documents_.Put(response.content());
  if (!stored.ok()) {
    Log("cannot store document " + crypto::ToHex(sha) + ": " + stored.error().ToString());
    return;
  }
  wanted_documents_.erase(sha);
  (void)store_->DeleteAux("doc-wanted/" + crypto::ToHex(sha));
  Log("document " + crypto::ToHex(sha) + " (" + std::to_string(response.content().size()) +
      " bytes) fetched from " + peer);
}

void Node::RecoverSigningFloor(const std::string& peer, std::uint64_t height) {
  recovery_reports_.insert(peer);
  const std::size_t needed = ledger_.validators().size() - ledger_.validators().quorum() + 1;
  if (recovery_reports_.size() < needed) return;
  // Before the wipe this member signed at a height h only after h-1 was committed, i.e. after q
  // members precommitted at h-1 (their tips >= h-2). Any n-q+1 other members include one of
  // them, so h <= (highest reported tip) + 2: nothing signed at or above tip + 3.
  std::uint64_t top = ledger_.height();
  for (const std::string& p : recovery_reports_) top = std::max(top, peer_heights_[p]);
  const std::uint64_t floor = top + 3;
  if (!replica_) return;  // not a member now: the floor is raised when it is one again
  Handle(replica_->RaiseSignFloor(floor, ReplicaNow()));
  if (fatal_) return;
  Status cleared = store_->DeleteAux("recovering");
  if (!cleared.ok()) Log("warning: " + cleared.ToString());
  recovering_ = false;
  Log("signing floor recovered: " + std::to_string(recovery_reports_.size()) +
      " peers report at most height " + std::to_string(top) + "; signing from height " +
      std::to_string(floor));
  ScheduleStartHeight();
}

void Node::ReportEquivocations(const std::vector<consensus::Equivocation>& found) {
  const consensus::ValidatorSet& validators = ledger_.validators();
  for (const consensus::Equivocation& e : found) {
    auto facts = consensus::VerifyEquivocation(validators, e.first, e.second);
    if (!facts.ok()) {
      Log("equivocation report does not verify (not sent): " + facts.error().ToString());
      continue;
    }
    const std::string key = facts->Key();
    Log("EQUIVOCATION: " + facts->member + " signed two different " + facts->kind +
        "s at height " + std::to_string(facts->height) + " round " +
        std::to_string(facts->round) + "; submitting evidence");
    if (ledger_.state().Get("fault/" + key) || store_->GetAux("evidence/" + key)) continue;
    contracts::TxBody body;
    body.chain_id = genesis_.chain_id;
    body.sender = config_.member_id;
    body.nonce = static_cast<std::uint64_t>(NowMs()) * 1000 + (evidence_nonce_++ % 1000);
    body.timestamp_ms = NowMs();
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
    if (!saved.ok()) Log("warning: evidence not saved: " + saved.ToString());
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

void Node::MaybeTickClock() {
  const genesis::GenesisMember* me = ledger_.membership().Find(config_.member_id);
  if (me == nullptr || me->role != "lead_bank") return;
  if (BestPeerHeight() > ledger_.height()) return;  // syncing: the state is not current
  if (last_clock_tick_mono_ && MonoMs() - *last_clock_tick_mono_ < kClockTickRetryMs) return;
  const std::int64_t now = NowMs();
  std::int64_t offset = 0;
  if (auto o = ledger_.state().Get("clock/offset-days")) offset = std::stoll(*o);
  if (contracts::ShanghaiDay(now) + offset <= contracts::BusinessDay(ledger_.state())) return;
  last_clock_tick_mono_ = MonoMs();
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
  proto::PeerMessage gossip;
  gossip.mutable_txs()->add_txs(wire);
  BroadcastMessage(gossip);
  ScheduleStartHeight();
}

// Raw state for clients: {"key": K} gives one value; {"prefix": P, "limit": N} the entries under
// P in key order (the CLI builds loan views from these with the contracts' own code).
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
    std::size_t limit = 1000;
    if (params.contains("limit") && params["limit"].is_number_unsigned()) {
      limit = std::min<std::size_t>(params["limit"].get<std::size_t>(), kStateScanMax);
    }
    json entries = json::array();
    for (auto& [k, v] : ledger_.state().Scan(params["prefix"].get<std::string>(), limit)) {
      entries.push_back({{"key", k}, {"value", v}});
    }
    out["entries"] = entries;
    return out;
  }
  return MakeError("invalid-params", "state needs {\"key\": K} or {\"prefix\": P, \"limit\": N}");
}

// Pending evidence that is committed is dropped; the rest (e.g. after a restart, or evidence
// whose transaction expired) is signed afresh and submitted again.
void Node::ResubmitPendingEvidence() {
  for (const auto& [aux_key, wire] : store_->ScanAux("evidence/")) {
    const std::string key = aux_key.substr(std::string("evidence/").size());
    if (ledger_.state().Get("fault/" + key)) {
      Status dropped = store_->DeleteAux(aux_key);
      if (!dropped.ok()) Log("warning: " + dropped.ToString());
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
    if (Status ok = ledger_.executor().CheckEnvelope(*tx, ledger_.state(), NowMs()); ok.ok()) {
      crypto::Hash256 id{};
      if (AdmitTx(wire, &id).ok()) {
        proto::PeerMessage gossip;
        gossip.mutable_txs()->add_txs(wire);
        BroadcastMessage(gossip);
      }
      continue;
    }
    Status dropped = store_->DeleteAux(aux_key);  // too old: sign a fresh one
    if (!dropped.ok()) Log("warning: " + dropped.ToString());
    ReportEquivocations({e});
  }
}

Result<json> Node::RpcFaults() {
  json list = json::array();
  const auto& entries = ledger_.state().entries();
  for (auto it = entries.lower_bound(std::string("fault/"));
       it != entries.end() && it->first.rfind("fault/", 0) == 0; ++it) {
    const std::string& key = it->first;
    const std::string& value = it->second.value;
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
  return json{{"faults", list}};
}

json Node::RpcStatus() {
  std::uint64_t best = BestPeerHeight();
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
              {"rpc_address", config_.rpc_host + ":" + std::to_string(rpc_->port())},
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
                        {"signing", "no: not a member of epoch " + std::to_string(m.epoch)},
                        {"sign_floor", 0}};
  }
  out["blocks_to_sync"] = best > ledger_.height() ? best - ledger_.height() : 0;
  out["pending_evidence"] = store_->ScanAux("evidence/").size();
  return out;
}

Result<std::string> ReadHomeFile(const NodeConfig& config, const char* name) {
  auto text = ReadFile(config.Path(name));
  if (!text.ok()) return MakeError("missing-file", "cannot read " + config.Path(name));
  return text;
}

}  // namespace

int RunNode(const NodeOptions& options) {
  auto fail = [](const std::string& what) {
    std::cerr << "colend-node: " << what << std::endl;
    return 1;
  };
  auto config = LoadNodeConfig(options.home);
  if (!config.ok()) return fail(config.error().message);
  auto genesis_text = ReadHomeFile(*config, "genesis.json");
  if (!genesis_text.ok()) return fail(genesis_text.error().message);
  auto genesis = genesis::ParseGenesis(*genesis_text);
  if (!genesis.ok()) return fail(config->Path("genesis.json") + ": " + genesis.error().message);
  auto tls_cert = ReadHomeFile(*config, "tls.pem");
  auto tls_key = ReadHomeFile(*config, "tls.key");
  auto signing_pem = ReadHomeFile(*config, "signing.key");
  for (const auto* r : {&tls_cert, &tls_key, &signing_pem}) {
    if (!r->ok()) return fail(r->error().message);
  }
  auto signing_key = crypto::PrivateKey::FromPem(*signing_pem, genesis->suite);
  if (!signing_key.ok()) return fail("signing.key: " + signing_key.error().message);
  // A genesis member's key must match its certificate. A member_id the genesis file does not
  // list is an institution that joins by a membership change: its node syncs, and signs once an
  // epoch lists it with this key.
  if (const auto* member = genesis->FindMember(config->member_id)) {
    if (signing_key->Public().ToDer() != member->signing_key.ToDer()) {
      return fail("signing.key does not match " + config->member_id +
                  "'s signing certificate in genesis.json");
    }
  }
  std::error_code fs_error;
  const bool data_was_missing = !std::filesystem::exists(config->Path("data"), fs_error);
  if (options.init) {
    if (!data_was_missing) return fail(config->Path("data") + " exists already; --init is only for a new member");
    auto store = Store::Open(config->Path("data"), genesis->hash);
    if (!store.ok()) return fail(store.error().message);
    Ledger ledger(*genesis, store->get());
    Status opened = ledger.Open();
    if (!opened.ok()) return fail(opened.ToString());
    std::cout << "initialised " << config->Path("data") << " for " << config->member_id
              << " (a member that has never signed on chain " << genesis->chain_id << ")\n";
    return 0;
  }
  auto store = Store::Open(config->Path("data"), genesis->hash);
  if (!store.ok()) return fail(store.error().message);

  asio::io_context io;
  Node node(io, *config, std::move(genesis).value(), std::move(signing_key).value(),
            std::move(store).value(), data_was_missing);
  Status started = node.Start(*tls_cert, *tls_key);
  if (!started.ok()) return fail(started.ToString());
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int signal) {
    std::cerr << "colend-node: signal " << signal << ", stopping" << std::endl;
    node.Shutdown();
    io.stop();
  });
  io.run();
  if (node.fatal()) return fail("stopped after a fatal error (see the FATAL line above)");
  return 0;
}

}  // namespace colend::node
