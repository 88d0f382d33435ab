#include "node/node.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "contracts/contract.h"
#include "node/node_impl.h"
#include "node/rpc.h"
#include "node/state_storage.h"
#include "node/transport.h"

namespace colend::node {
namespace detail {

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

std::string KeySigner::Sign(std::string_view message) {
  auto signature = key_.Sign(message);
  assert(signature.ok());  // an in-memory key that loaded fine cannot fail to sign
  return std::move(signature).value();
}

Node::Node(NodeHost host, NodeConfig config, genesis::Genesis genesis,
           crypto::PrivateKey signing_key, std::unique_ptr<Store> store)
    : host_(std::move(host)),
      config_(std::move(config)),
      genesis_(std::move(genesis)),
      store_(std::move(store)),
      ledger_(genesis_, store_.get()),
      signing_key_(signing_key),
      documents_(config_.StatePath("documents")),
      signer_(std::move(signing_key)),
      mempool_(config_.mempool),
      replica_timer_(host_.make_timer()),
      start_timer_(host_.make_timer()),
      housekeeping_timer_(host_.make_timer()),
      gossip_timer_(host_.make_timer()) {}

Node::~Node() = default;

Logger MakeLogger(const NodeConfig& config, std::ostream* out) {
  auto level = ParseLogLevel(config.log_level);
  auto format = ParseLogFormat(config.log_format);
  return Logger(config.member_id, level.ok() ? *level : LogLevel::kInfo,
                format.ok() ? *format : LogFormat::kText, out != nullptr ? out : &std::cerr);
}

void Node::LogAt(LogLevel level, const std::string& message, const LogFields& fields) {
  logger_.Write(WallMs(), level, message, fields);
}

void Node::Fatal(const std::string& what) {
  LogAt(LogLevel::kError, "FATAL: " + what + "; stopping");
  fatal_ = true;
  host_.stop();
}

Status Node::Start(const std::string& tls_cert_pem, const std::string& tls_key_pem) {
  // A damaged read of the state stops the node whichever path made it (node/state_storage.h);
  // found while starting (each bucket is checked when first read), it refuses to start.
  store_->OnStateDamage([this](const std::string& what) {
    if (!fatal_) Fatal(what);
  });
  store_->OnSynced([this](Store::Synced write, double seconds) {
    metrics_.Synced(write == Store::Synced::kBlock ? SyncedWrite::kBlock : SyncedWrite::kVoteState,
                    seconds);
  });
  try {
    return StartChecked(tls_cert_pem, tls_key_pem);
  } catch (const contracts::StateStorageError& e) {
    return StateStorageErrorOf(e);
  }
}

Status Node::StartChecked(const std::string& tls_cert_pem, const std::string& tls_key_pem) {
  tls_cert_pem_ = tls_cert_pem;
  tls_key_pem_ = tls_key_pem;
  COLEND_RETURN_IF_ERROR(ledger_.Open());
  Log("chain " + genesis_.chain_id + " genesis " + crypto::ToHex(genesis_.hash) + " at height " +
      std::to_string(ledger_.height()) + " block " + crypto::ToHex(ledger_.last_hash()) +
      ", store write buffer " + StoreWriteBufferText(store_->write_buffer_bytes(), config_) +
      ", mempool " + config_.MempoolText());
  timeouts_.propose_ms = genesis_.consensus.timeout_propose_ms;
  timeouts_.prevote_ms = genesis_.consensus.timeout_prevote_ms;
  timeouts_.precommit_ms = genesis_.consensus.timeout_precommit_ms;
  timeouts_.round_increment_ms = genesis_.consensus.timeout_round_increment_ms;
  epoch_ = ledger_.membership().epoch;
  COLEND_RETURN_IF_ERROR(ApplyMembership());
  COLEND_RETURN_IF_ERROR(JudgeHistory());
  auto wanted = WantedOnDisk();
  if (!wanted.ok()) return wanted.error();
  wanted_documents_.Refill(*wanted);
  TransportConfig tc;
  tc.self_id = config_.member_id;
  tc.listen_host = config_.p2p_host;
  tc.listen_port = config_.p2p_port;
  tc.ca_pem = genesis_.ca_certificate.ToPem();
  tc.cert_pem = tls_cert_pem_;  // the staged one when the epoch in force lists it
  tc.key_pem = tls_key_pem_;
  tc.genesis_hash = genesis_.hash;
  tc.fault_file = config_.Path("test-partition");
  if (TransportTestHooksCompiled()) Log("test hook: transport fault file " + tc.fault_file);
  tc.peers = MemberPeers();
  transport_ = host_.make_network(
      tc,
      [this](const std::string& peer, std::string frame) { OnFrame(peer, std::move(frame)); },
      [this](const std::string& peer, bool up) { OnPeerConnection(peer, up); },
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
      pool.sender_memory_max < Mempool::EntryBytes(tx_wire_max) ||
      pool.sender_memory_max > pool.memory_max || kBlockBytesMax < tx_wire_max) {
    return MakeError("bad-limits", "mempool limits do not fit together: per sender " +
                                       std::to_string(pool.sender_txs_max) + " transactions / " +
                                       std::to_string(pool.sender_memory_max) +
                                       " bytes of memory, in all " +
                                       std::to_string(pool.txs_max) + " / " +
                                       std::to_string(pool.memory_max) + ", block " +
                                       std::to_string(kBlockBytesMax) + " bytes");
  }
  std::string error;
  if (!transport_->Start(&error)) return MakeError("p2p-bind-failed", error);
  // Evidence detected before a restart and not yet committed goes out again: after the network
  // exists (before it, a restart with pending evidence crashed the node; colend-sim --real-node
  // seed 3).
  ResubmitPendingEvidence();
  if (host_.serve_rpc) {
    COLEND_RETURN_IF_ERROR(StartRpc());
  } else {
    Log("no RPC server (the host calls the node's methods itself): p2p " + config_.p2p_host + ":" +
        std::to_string(transport_->listen_port()));
  }
  Housekeeping();
  return Status::Ok();
}

Status Node::StartRpc() {
  std::string error;
  RpcServerConfig rc;
  rc.host = config_.rpc_host;
  rc.port = config_.rpc_port;
  if (config_.rpc_remote) {
    // Beyond loopback (config.json "rpc_remote": true, docs/operations.md): TLS 1.3 with a client
    // certificate the consortium CA issued, our TLS certificate as the server's.
    rc.tls = RpcTlsConfig{genesis_.ca_certificate.ToPem(), tls_cert_pem_, tls_key_pem_};
    Warn("WARNING: rpc_remote is set: the JSON-RPC on " + config_.rpc_host + ":" +
        std::to_string(config_.rpc_port) +
        " is reachable beyond this host; it requires TLS with a client certificate issued by "
        "the consortium CA");
  }
  rpc_ = std::make_unique<RpcServer>(
      *host_.io, rc,
      [this](const std::string& method, const json& params) { return HandleRpc(method, params); },
      [this](const std::string& method, const json& params, const std::string& client,
             RpcReply reply) {
        return HandleDeferredRpc(method, params, client, std::move(reply));
      });
  if (!rpc_->Start(&error)) return MakeError("rpc-bind-failed", error);
  Log("listening: p2p " + config_.p2p_host + ":" + std::to_string(transport_->listen_port()) +
      ", rpc " + config_.rpc_host + ":" + std::to_string(rpc_->port()) +
      (config_.rpc_remote ? " (TLS, client certificates required)" : ""));
  return Status::Ok();
}

void Node::AdoptRotatedKeys(const genesis::GenesisMember& me) {
  const std::string epoch = std::to_string(ledger_.membership().epoch);
  // The epoch lists a key or certificate this node neither uses nor has staged: the operator may
  // have staged it since the node started (no restart needed), so read the staged files now.
  auto current_tls = crypto::Certificate::FromPem(tls_cert_pem_);
  const bool signing_unknown =
      me.signing_key.ToDer() != signing_key_.Public().ToDer() &&
      !(staged_.signing && me.signing_key.ToDer() == staged_.signing->Public().ToDer());
  const bool tls_unknown = (!current_tls.ok() || me.tls_certificate.Fingerprint() != current_tls->Fingerprint()) &&
                           me.tls_certificate.Fingerprint() != staged_.tls_fingerprint;
  if (!tls_cert_pem_.empty() && (signing_unknown || tls_unknown)) {
    std::vector<std::string> notes;
    auto fresh = LoadStagedKeys(config_, genesis_, &notes);
    if (fresh.ok()) {
      staged_ = std::move(fresh).value();
    } else {
      Log("membership epoch " + epoch + " lists keys of " + config_.member_id +
          " this node does not hold, and its staged keys do not load: " + fresh.error().message);
    }
  }
  if (staged_.signing && me.signing_key.ToDer() != signing_key_.Public().ToDer() &&
      me.signing_key.ToDer() == staged_.signing->Public().ToDer()) {
    signing_key_ = *staged_.signing;
    signer_.Replace(*staged_.signing);
    Log("membership epoch " + epoch +
        " lists this member's rotated signing key: signing with signing.next.key from height " +
        std::to_string(ledger_.height() + 1));
  }
  if (!staged_.tls_cert_pem.empty() && me.tls_certificate.Fingerprint() == staged_.tls_fingerprint &&
      tls_cert_pem_ != staged_.tls_cert_pem) {
    tls_cert_pem_ = staged_.tls_cert_pem;
    tls_key_pem_ = staged_.tls_key_pem;
    std::string error;
    if (transport_ && !transport_->SetIdentity(tls_cert_pem_, tls_key_pem_, &error)) {
      return Fatal("the rotated TLS certificate does not load: " + error);
    }
    Log("membership epoch " + epoch +
        " lists this member's rotated TLS certificate: presenting tls.next.pem");
  }
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
  if (me != nullptr) AdoptRotatedKeys(*me);
  const bool other_key = ListedWithOtherKey();
  const bool member = me != nullptr && !other_key;
  if (other_key) {
    Warn("membership epoch " + std::to_string(membership.epoch) + " lists " + config_.member_id +
         " with another signing key than signing.key: not signing");
  }
  replica_timer_->Cancel();
  active_height_ = 0;
  replica_started_ = false;
  replica_.reset();
  if (member) {
    replica_ = std::make_unique<consensus::Replica>(ledger_.validators(), config_.member_id,
                                                    timeouts_, this, &signer_);
    auto saved = store_->LoadReplicaState();
    if (!saved.ok()) return saved.error();
    if (*saved) COLEND_RETURN_IF_ERROR(replica_->Restore(**saved));
  }
  if (transport_) transport_->SetPeers(MemberPeers());
  return Status::Ok();
}

void Node::Shutdown() {
  replica_timer_->Cancel();
  start_timer_->Cancel();
  housekeeping_timer_->Cancel();
  gossip_timer_->Cancel();
  for (auto& [number, waiter] : waiters_) waiter.timer->Cancel();
  waiters_.clear();  // their connections close with the server
  waiting_for_.clear();
  if (rpc_) rpc_->Stop();
  if (transport_) transport_->Stop();
}

void Node::Housekeeping() {
  AnnounceStatus();
  if (peers_.BestClaim() > ledger_.height() && SyncIdle()) {
    // A peer that did not answer in time is skipped while another peer is ahead of us too.
    const std::string slow = sync_peer_;
    ExpireSyncRequest();
    if (auto choice = peers_.SyncPeer(ledger_.height(), slow)) RequestBlocks(*choice);
  }
  if (recovering_) TryRecoverSigning();
  MaybeTickClock();
  AskForDocuments();
  ScheduleStartHeight();
  housekeeping_timer_->Arm(kStatusIntervalMs, [this] { Housekeeping(); });
}

void Node::SendTo(const std::string& peer, const proto::PeerMessage& message) {
  transport_->Send(peer, message.SerializeAsString());
}

void Node::BroadcastMessage(const proto::PeerMessage& message) {
  transport_->Broadcast(message.SerializeAsString());
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
    case proto::PeerMessage::kTxs: {
      std::vector<std::string> wires(message.txs().txs().begin(), message.txs().txs().end());
      auto admit = [this, wires] {
        for (const auto& wire : wires) {
          crypto::Hash256 id;
          (void)AdmitTx(wire, &id);  // gossip: invalid or known transactions are dropped quietly
        }
        ScheduleStartHeight();
      };
      if (!AdmitInOrder(wires, /*from_peer=*/true, std::move(admit)) && admit_drops_++ % 1000 == 0) {
        Log("dropping gossiped transactions (" + std::to_string(admit_drops_) + " frames so far, "
            "this one " + std::to_string(wires.size()) + " from " + peer + "): " +
            std::to_string(admit_queue_.size()) + " arrivals wait for signature checks");
      }
      return;
    }
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

}  // namespace detail

}  // namespace colend::node
