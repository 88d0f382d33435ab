// The node's event logic, shared by the files of the node module (node.cc: construction,
// start-up wiring, membership and frames; node_consensus.cc: driving the replica, proposing and
// commits; node_sync.cc: status, block sync, serving blocks; node_recovery.cc: the signing
// history at start-up and its recovery; node_fork.cc: forks found at sync; node_evidence.cc:
// equivocation evidence and documents; node_rpc.cc, node_txs.cc: the JSON-RPC methods).
// Nothing here includes Asio: clocks, timers, posting and the peer network go through NodeHost,
// so the io_context and its headers stay in node/startup.cc, and colend-sim hosts the
// very same Node (tests/sim/node_world.cc).
//
// Thread safety: everything runs on one io thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "consensus/replica.h"
#include "contracts/tx.h"
#include "genesis/genesis.h"
#include "node/admission_queue.h"
#include "node/config.h"
#include "node/document_store.h"
#include "node/ledger.h"
#include "node/log.h"
#include "node/mempool.h"
#include "node/metrics.h"
#include "node/node.pb.h"
#include "node/peer_heights.h"
#include "node/peer_network.h"
#include "node/rpc.h"
#include "node/serve_budget.h"
#include "node/wanted_documents.h"
#include "node/signing_lease.h"
#include "node/signing_recovery.h"
#include "node/store.h"

namespace boost::asio {
class io_context;
}

namespace colend::node {

class RpcServer;

namespace detail {

using json = nlohmann::json;

inline constexpr std::uint32_t kSyncBlocksPerRequestMax = 64;
inline constexpr std::size_t kSyncResponseBytesMax = 16u << 20;
inline constexpr std::int64_t kStatusIntervalMs = 1000;
inline constexpr std::int64_t kClockTickRetryMs = 60000;
// A page of the RPC `state` listing: at most kStateScanMax entries, and it ends after the entry
// that takes its keys and values past kStatePageBytesMax (its "more" then says so), so that a
// page of large records (a loan of 360 periods is ~19 KB) stays well within what a client reads
// in one answer (64 MiB, node/rpc_client.cc).
inline constexpr std::size_t kStateScanMax = 10000;
inline constexpr std::size_t kStatePageBytesMax = 16u << 20;
// The page of `scanned` (key, value) entries, in order: {"entries": [...], "more": bool}. `scanned`
// holds one more than `limit` when more follow.
nlohmann::json StatePage(const std::vector<std::pair<std::string, std::string>>& scanned,
                         std::size_t limit, std::size_t bytes_max);
inline constexpr std::int64_t kSyncRequestTimeoutMs = 2000;
// A peer that leaves this many sync requests in a row unanswered (kSyncRequestTimeoutMs each) is
// marked unanswered until it answers one (PeerHeights::Unanswered): its claims no longer make
// this node "syncing". A member claiming a height it never serves would otherwise keep the node
// "syncing", and the lead bank's clock held, for as long as it stays connected
// (docs/consensus.md §9).
inline constexpr int kSyncUnansweredMax = 3;
// Forks remembered as examined (peer, height, block), so a peer on the other branch is asked once.
inline constexpr std::size_t kForksExaminedMax = 64;
// Frames carry at most a proposal with one block, a sync answer (blocks up to
// kSyncResponseBytesMax, plus the one that crosses it) or a document: each must fit the
// transport's frame limit, or a peer could never receive it. Checked at start-up.
inline constexpr std::size_t kFrameOverheadBytes = 64 * 1024;
static_assert(kSyncResponseBytesMax >= kBlockBytesMax, "a sync answer holds at least one block");
// Consensus messages for the height after the one being decided, kept until it starts: at most
// kEarlyMessagesMax in all, and from each peer at most kEarlyMessagesPerPeerMax and
// kEarlyBytesPerPeerMax (a proposal with a full block, and votes), its oldest dropped first, so
// that a member flooding them can neither hold gigabytes unchecked nor push out the others'.
inline constexpr std::size_t kEarlyMessagesMax = 256;
inline constexpr std::size_t kEarlyMessagesPerPeerMax = 64;
inline constexpr std::size_t kEarlyBytesPerPeerMax = kBlockBytesMax + (1u << 20);
// A proposer spends at most timeout_propose_ms / kBuildBudgetDivisor executing the transactions of
// its block (Node::ProposeBlock); what does not fit waits for the next block.
inline constexpr std::int64_t kBuildBudgetDivisor = 4;
// Transactions this node admits from its clients go to the peers in batches, at most one frame
// to each peer every kGossipDelayMs: a transaction admitted at least kGossipDelayMs after the
// last frame goes as soon as the io loop is free (with whatever was admitted in the same turn);
// one admitted sooner waits for the rest of that interval, with the others admitted meanwhile. A
// batch of kGossipBatchTxsMax transactions or kGossipBatchBytesMax bytes goes at once. (One frame
// per transaction per peer was a TLS record, a write and a parse each; a fixed wait after the
// first transaction of each batch delayed it on its way to the next proposer, which at a few
// hundred transactions a second is most of them.)
inline constexpr std::int64_t kGossipDelayMs = 5;
inline constexpr std::size_t kGossipBatchTxsMax = 1000;
inline constexpr std::size_t kGossipBatchBytesMax = 1u << 20;
// Signatures are checked before admission on the host's worker threads (Node::AdmitInOrder),
// and transactions from peers and clients are then admitted on the io thread in the order they
// arrived (the node's own clock.tick and evidence are admitted at once). At most kAdmitQueueMax
// arrivals (a gossip frame or a submit each) or kAdmitQueueBytesMax bytes of transactions wait
// (held twice while waiting: the frame and the check's copy); gossip frames may fill only
// three quarters of either, the rest is for this node's clients. Beyond them a gossip frame is
// dropped (its transactions reach us again in the block that holds them) and a submit is
// refused with "admission-queue-full". 16 MiB is about 30,000 transactions, well within the
// 65,536 signatures Verify remembers, so a checked signature is still remembered at its turn.
inline constexpr std::size_t kAdmitQueueMax = 4096;
inline constexpr std::size_t kAdmitQueueBytesMax = 16u << 20;
// colend-node's signature-checking threads: one per core, at most this many.
inline constexpr unsigned kVerifyThreadsMax = 16;
// Documents of committed evidence.attach records this node still lacks, held in memory (all are
// on disk; node/wanted_documents.h), and how many it asks peers for per housekeeping tick.
inline constexpr std::size_t kWantedDocumentsMax = 10000;
inline constexpr std::size_t kDocumentRequestsPerTick = 4;
// wait_tx (node_rpc.cc): at most this many calls wait at once (half of the RPC server's default
// connections_max, so waiting clients never hold every connection; beyond it: error
// "too-many-waiters"), each at most kWaitTimeoutMsMax (beyond it: invalid-params), on at most
// kWaitIdsMax transactions.
inline constexpr std::size_t kRpcWaitersMax = 128;
// A client's text an error repeats (an unknown method, a loan id) is at most this long.
inline constexpr std::size_t kEchoedTextMax = 128;
// ... and at most this many from one source address: half of the connections the RPC server lets
// one address hold (RpcServerConfig::connections_per_client_max, 64), so calls waiting from one
// address (every local client shares 127.0.0.1) never hold every connection it may open, and
// `status`, /health and the CLI still get in from there.
inline constexpr std::size_t kRpcWaitersPerClientMax = 32;
// A certificate of this member that runs out within this many days is reported in `status`
// (and by colend-node --check-config); /metrics gives the exact seconds.
inline constexpr std::int64_t kCertificateWarnDays = 42;
inline constexpr std::int64_t kWaitTimeoutMsMax = 60000;
inline constexpr std::int64_t kWaitTimeoutMsDefault = 10000;
inline constexpr std::size_t kWaitIdsMax = 1024;
// The data directory's record that this member's signing history is complete (written by
// `colend-node --init` and when a recovery ends; docs/consensus.md §10).
inline constexpr char kSigningHistoryKey[] = "signing-history";

std::int64_t NowMs();   // Unix milliseconds of the system clock
std::int64_t MonoMs();  // steady milliseconds for deadlines
std::string IsoTime(std::int64_t ms);
// The node's logger from its configuration (levels and formats checked by RunNode before),
// writing to `out` (null: standard error).
Logger MakeLogger(const NodeConfig& config, std::ostream* out = nullptr);

// One rearmable timer of the host (an Asio steady_timer in colend-node).
class HostTimer {
 public:
  virtual ~HostTimer() = default;
  virtual void Arm(std::int64_t delay_ms, std::function<void()> fire) = 0;
  virtual void Cancel() = 0;
};

// What the node logic needs from its host: time, timers, a network and a way to stop.
// colend-node (node/startup.cc) gives it Asio timers, the system clocks and the TLS transport;
// colend-sim (tests/sim/) runs the very same Node over simulated time and a simulated network,
// so the node may reach the world only through these (docs/consensus.md §13).
struct NodeHost {
  boost::asio::io_context* io = nullptr;  // for the RPC server (serve_rpc)
  std::function<std::unique_ptr<HostTimer>()> make_timer;
  std::function<void(std::function<void()>)> post;  // run later on the io thread
  std::function<void()> stop;                       // stop the io loop (after a fatal error)
  std::function<std::int64_t()> wall_ms = NowMs;    // Unix milliseconds
  std::function<std::int64_t()> steady_ms = MonoMs; // milliseconds that never step back
  PeerNetworkFactory make_network;                  // the peer-to-peer network
  // Runs `work` on a worker thread, then `then` on the io thread. colend-node gives it a pool of
  // signature-checking threads (startup.cc); null (colend-sim): no worker threads, transactions
  // are admitted at once with their signatures checked on the io thread.
  std::function<void(std::function<void()> work, std::function<void()> then)> background;
  bool serve_rpc = true;  // false: no RPC server; the host calls Node::Call
  std::ostream* log = nullptr;  // where the log goes (null: standard error)
};

class KeySigner : public consensus::Signer {
 public:
  explicit KeySigner(crypto::PrivateKey key) : key_(std::move(key)) {}
  std::string Sign(std::string_view message) override;
  void Replace(crypto::PrivateKey key) { key_ = std::move(key); }

 private:
  crypto::PrivateKey key_;
};

// Keys a member prepared for a rotation (docs/consensus.md §7.3): signing.next.key, and
// tls.next.pem with tls.next.key. The node takes each up when the membership epoch in force
// lists it for this member, and keeps the old ones until then.
struct RotationKeys {
  std::optional<crypto::PrivateKey> signing;
  std::string tls_cert_pem;
  std::string tls_key_pem;
  crypto::Hash256 tls_fingerprint{};
};

// Reads the staged keys of `config`'s home (none staged: empty), checked as at start: the TLS key
// is the certificate's, the certificate the consortium CA's. Notes say what was found.
Result<RotationKeys> LoadStagedKeys(const NodeConfig& config, const genesis::Genesis& genesis,
                                    std::vector<std::string>* notes);

// The store's write buffer for `member_id` (StoreWriteBufferBytes): by its place among the
// genesis members (sorted by id); a member that joined later takes a place from the first byte of
// the SHA-256 of its id.
std::size_t StoreWriteBufferFor(const genesis::Genesis& genesis, const std::string& member_id);
// The size this node opens its store with: config.store_write_buffer_mib if set, else the above.
std::size_t StoreWriteBufferFor(const genesis::Genesis& genesis, const NodeConfig& config);
// "<N> MiB (config.json)" or "<N> MiB (by member)": the size and where it came from, as the first
// log line and --check-config print it.
std::string StoreWriteBufferText(std::size_t bytes, const NodeConfig& config);

class Node : public consensus::Application {
 public:
  Node(NodeHost host, NodeConfig config, genesis::Genesis genesis,
       crypto::PrivateKey signing_key, std::unique_ptr<Store> store);
  ~Node() override;

  // Early consensus messages kept (above), by the peer that sent them: (count, bytes). For tests.
  std::map<std::string, std::pair<std::size_t, std::size_t>> EarlyMessagesByPeer() const;
  // Keys staged for a rotation; before Start.
  void StageRotation(RotationKeys staged) { staged_ = std::move(staged); }
  Status Start(const std::string& tls_cert_pem, const std::string& tls_key_pem);
  void Shutdown();
  // True after a fatal error stopped the node: the process must exit non-zero, so that a service
  // manager (systemd Restart=on-failure) restarts it and operators see the failure.
  bool fatal() const { return fatal_; }
  // A warning found while loading the node's files (colend-node --check-config prints the same).
  void Warn(const std::string& what) { LogAt(LogLevel::kWarn, what); }
  // A JSON-RPC method called by the host itself (the RPC server calls the same HandleRpc).
  Result<json> Call(const std::string& method, const json& params) { return HandleRpc(method, params); }

  // consensus::Application
  consensus::proto::Block ProposeBlock(std::uint64_t height, std::int64_t now_ms) override;
  Status ValidateBlock(std::uint64_t height, const consensus::proto::Block& block,
                       std::int64_t now_ms, bool check_timeliness) override {
    const StopWatch watch;
    Status valid = ledger_.ValidateBlock(height, block, now_ms, check_timeliness);
    metrics_.BlockStepTook(BlockStep::kValidate, watch.Seconds());
    return valid;
  }
  Status CheckBody(const consensus::proto::Block& block) override { return Ledger::CheckBody(block); }

 private:
  void Log(const std::string& line) { LogAt(LogLevel::kInfo, line); }
  // The host's clocks (NodeHost): never the system's directly.
  std::int64_t WallMs() const { return host_.wall_ms(); }
  std::int64_t SteadyMs() const { return host_.steady_ms(); }
  consensus::Now ClockNow() const { return consensus::Now(WallMs(), SteadyMs()); }
  // One event at `level` with key=value fields (node/log.h).
  void LogAt(LogLevel level, const std::string& message, const LogFields& fields = {});
  // The JSON-RPC server on config_.rpc_host:rpc_port (Start, when the host serves RPC).
  Status StartRpc();
  Status StartChecked(const std::string& tls_cert_pem, const std::string& tls_key_pem);
  // Stops the node after an error that makes going on unsafe (see fatal()).
  void Fatal(const std::string& what);
  void Handle(consensus::Actions actions);
  // The signing lease (node/signing_lease.h) covers the mark of the vote state `persist` before
  // it is stored or anything is sent. False (and fatal) if the lease cannot be written.
  bool CoverWithLease(const std::string& persist);
  // Decides at start whether this member's signing history is known (docs/consensus.md §10).
  Status JudgeHistory();
  // Equivocations the replica detected: kept durably and sent as consensus.evidence txs.
  void ReportEquivocations(const std::vector<consensus::Equivocation>& found);
  void ResubmitPendingEvidence();
  // A member whose signing history is unknown: raises the signing floor once enough certified
  // reports are in (node/signing_recovery.h).
  void TryRecoverSigning();
  // faults [{"after": KEY}]: a page of the equivocations on chain, as `state` pages are
  // (kStateScanMax entries, kStatePageBytesMax); "more" and "after" (the last key) for the next.
  Result<json> RpcFaults(const json& params);
  Result<json> RpcEvidenceExport(const json& params);
  // Documents (node/document_store.h): wanted after an attach commits (WantDocuments reads the
  // block just committed: ledger_.last_txs()), fetched from peers.
  void WantDocuments();
  // The wanted digests on disk whose documents are not held.
  Result<std::vector<crypto::Hash256>> WantedOnDisk();
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
  // Switches to the staged signing key or TLS certificate that the epoch in force lists for
  // this member (a rotation took effect).
  void AdoptRotatedKeys(const genesis::GenesisMember& me);
  std::vector<PeerAddress> MemberPeers() const;
  void StartHeight();
  // Starts the next height after `delay_ms` (default: the genesis block interval, the batching
  // window) if transactions are pending and none is running.
  void ScheduleStartHeight();
  void ScheduleStartHeight(std::int64_t delay_ms);
  // `decided`: committed by this node's replica (not synced).
  void AfterCommit(const consensus::proto::Block& block, const std::string& how, bool decided);
  void Housekeeping();
  void SendTo(const std::string& peer, const proto::PeerMessage& message);
  void BroadcastMessage(const proto::PeerMessage& message);
  // Queues a transaction admitted here for the next gossip batch (kGossipDelayMs: at once if no
  // batch went in that time); FlushGossip sends the batch to every peer.
  void GossipTx(const std::string& wire);
  void FlushGossip();
  void AnnounceStatus();
  void RequestBlocks(const std::string& peer);
  bool SyncIdle() const;
  void OnFrame(const std::string& peer, std::string frame);
  void OnPeerConnection(const std::string& peer, bool up);
  void OnConsensus(const std::string& peer, const consensus::proto::ConsensusMessage& message);
  void OnStatus(const std::string& peer, const proto::StatusAnnounce& status);
  void ApplySyncedBlock(const std::string& peer);
  void OnBlockRequest(const std::string& peer, const proto::BlockRequest& request);
  // Whether `peer` may have one more block or document answer now (serve_budget.h).
  bool TakeServeBudget(const std::string& peer, const char* what);
  void OnBlockResponse(const std::string& peer, const proto::BlockResponse& response);
  // A fork (node_fork.cc): a synced block for our height + 1 that does not follow our tip, or a
  // peer announcing another block at a height we hold, makes the node ask that peer for its
  // block there; if it holds another one, ExamineFork names the fork and reports every member
  // whose precommits are in both certificates.
  void ProbeFork(const std::string& peer, std::uint64_t height);
  void ExamineFork(const std::string& peer, const proto::StoredBlock& theirs);
  // True if `response` is the answer to the pending probe (one block, at the probed height).
  bool TakeForkProbeAnswer(const std::string& peer, const proto::BlockResponse& response);
  // Checks the peers' claimed tips against our chain (PeerHeights::Verify).
  void VerifyPeerClaims();
  Status AdmitTx(const std::string& wire, crypto::Hash256* id);
  // Checks the signatures of `wires` (transactions not seen before, from members) on a worker
  // thread, which remembers the valid ones (crypto::PublicKey::Verify's cache), then runs `then`
  // on the io thread after every earlier arrival's; `then` admits them (AdmitTx), now without
  // checking a signature again. False, and `then` dropped, when kAdmitQueueMax or
  // kAdmitQueueBytesMax is reached. Without host worker threads, runs `then` at once.
  // `from_peer`: a gossip frame, which leaves a quarter of the queue to this node's clients.
  bool AdmitInOrder(const std::vector<std::string>& wires, bool from_peer, std::function<void()> then);
  std::uint64_t admit_drops_ = 0;  // gossip frames dropped at the queue's limits

  Result<json> HandleRpc(const std::string& method, const json& params);
  Result<json> Dispatch(const std::string& method, const json& params);
  // Methods that answer later (rpc.h, RpcDeferredHandler): wait_tx.
  bool HandleDeferredRpc(const std::string& method, const json& params, const std::string& client,
                         RpcReply reply);
  void RpcWaitTx(const json& params, const std::string& client, RpcReply reply);
  // The answer of a wait: `tx`'s answer for one id, or committed/pending lists for several.
  json WaitAnswer(const std::vector<crypto::Hash256>& ids, bool several, bool timed_out);
  // Answers and forgets waiter `number`.
  void FinishWaiter(std::uint64_t number, bool timed_out);
  // After a commit: answers every waiter one of whose transactions `committed` holds.
  void NotifyWaiters(const std::vector<crypto::Hash256>& committed);
  Result<json> RpcSubmit(const json& params);
  Result<json> RpcTx(const json& params);
  json TxAnswer(const crypto::Hash256& id);  // the tx method's answer
  Result<json> RpcBlock(const json& params);
  json RpcStatus();
  // What ComputeSigningFloor makes of this node's recovery now (node/signing_recovery.h).
  RecoveryProgress SigningRecoveryProgress();
  // Operators (node_metrics.cc): the Prometheus text of GET /metrics, and readiness (GET
  // /health): live, and ready when synced, connected to a quorum and signing.
  json RpcMetrics();
  json RpcHealth();
  // kChain: the chain and consensus figures only, cheap enough for every /health probe and
  // dashboard refresh; kAll adds those that read the disk and /proc (store size, RSS) and the
  // certificates, for /metrics.
  enum class GaugeScope { kChain, kAll };
  MetricsGauges Gauges(GaugeScope scope);
  // The page at GET / (node_dashboard.cc): blocks, members, loans, refusals, read-only.
  json RpcDashboard();
  void CountCommitted(const consensus::proto::Block& block);

  NodeHost host_;
  NodeConfig config_;
  genesis::Genesis genesis_;
  std::unique_ptr<Store> store_;
  Ledger ledger_;
  crypto::PrivateKey signing_key_;
  // Our TLS certificate and key in use, and keys staged for a rotation (StageRotation).
  std::string tls_cert_pem_;
  std::string tls_key_pem_;
  RotationKeys staged_;
  bool recovering_ = false;  // signing history unknown: sync only, sign nothing
  // The epoch in force lists this member with another signing key than signing.key (a rotation
  // whose new key is not in place): it does not sign, and says why (status, metrics).
  bool ListedWithOtherKey() const {
    const genesis::GenesisMember* me = ledger_.membership().Find(config_.member_id);
    return me != nullptr && me->signing_key.ToDer() != signing_key_.Public().ToDer();
  }
  std::string recovering_why_;
  std::uint64_t lease_floor_ = 0;  // from a signing lease ahead of the data directory
  LeaseMark lease_;                // the lease on file
  std::uint64_t evidence_nonce_ = 0;
  std::optional<std::int64_t> last_clock_tick_mono_;  // MonoMs() of the last clock.tick sent
  std::int64_t last_clock_tick_day_ = 0;  // the business day when it was sent
  DocumentStore documents_;
  WantedDocuments wanted_documents_{kWantedDocumentsMax};
  std::uint64_t document_ask_round_ = 0;
  KeySigner signer_;
  Mempool mempool_;
  ServeBudget serve_budget_;
  std::map<std::string, std::int64_t> last_budget_log_;  // MonoMs() of the last refusal logged
  std::unique_ptr<consensus::Replica> replica_;
  std::unique_ptr<PeerNetwork> transport_;
  std::unique_ptr<RpcServer> rpc_;
  std::unique_ptr<HostTimer> replica_timer_;
  std::unique_ptr<HostTimer> start_timer_;
  std::unique_ptr<HostTimer> housekeeping_timer_;
  std::unique_ptr<HostTimer> gossip_timer_;
  AdmissionQueue admit_queue_{kAdmitQueueMax, kAdmitQueueBytesMax};  // AdmitInOrder
  proto::PeerMessage gossip_batch_;  // admitted here, not yet sent to the peers
  std::size_t gossip_batch_bytes_ = 0;
  bool gossip_armed_ = false;
  std::int64_t gossip_sent_mono_ms_ = -kGossipDelayMs;  // when the last batch went (SteadyMs)
  bool replica_started_ = false;
  consensus::ReplicaTimeouts timeouts_;
  std::uint64_t epoch_ = 0;  // the membership epoch the replica and transport were set up for
  bool start_scheduled_ = false;
  std::uint64_t active_height_ = 0;  // height the replica works on; 0 while idle
  NodeMetrics metrics_;
  Logger logger_ = MakeLogger(config_, host_.log);  // host_ and config_ are initialised earlier
  std::int64_t height_started_mono_ms_ = 0;        // MonoMs() when active_height_ began
  std::optional<std::uint32_t> decided_round_;     // set while AfterCommit handles a decision
  bool fatal_ = false;
  PeerHeights peers_;
  // A proposer that has just committed height h proposes h+1 at once, often before the last
  // precommit of h reaches us: its proposal is kept here and handed to the replica when h+1
  // starts, instead of being lost until the proposer's next rebroadcast (a second later).
  struct EarlyMessage {
    std::string peer;
    std::size_t bytes = 0;
    consensus::proto::ConsensusMessage message;
  };
  std::deque<EarlyMessage> early_messages_;
  // Keeps `message` from `peer` within the limits above.
  void KeepEarly(const std::string& peer, const consensus::proto::ConsensusMessage& message);
  std::string sync_peer_;
  std::string fork_probe_peer_;           // asked for its block at our height (ProbeFork)
  std::uint64_t fork_probe_height_ = 0;
  std::int64_t fork_probe_deadline_ms_ = 0;
  std::set<std::string> forks_examined_;  // "peer/height/hash", at most kForksExaminedMax
  std::int64_t sync_deadline_ms_ = 0;
  std::deque<proto::StoredBlock> sync_queue_;  // a batch being applied, one block per io event
  std::map<std::string, int> sync_unanswered_;  // requests in a row each peer let time out
  // Ends a sync request whose time ran out (none is applying): counts it against its peer, and
  // marks the peer unanswered at kSyncUnansweredMax in a row.
  void ExpireSyncRequest();
  std::uint64_t sync_applied_ = 0;
  // wait_tx calls not answered yet, by number, and the transactions they wait for.
  struct TxWaiter {
    std::vector<crypto::Hash256> ids;
    bool several = false;  // asked with "ids" (answered with lists) rather than "id"
    RpcReply reply;
    std::unique_ptr<HostTimer> timer;
    std::string client;  // the caller's source address (kRpcWaitersPerClientMax)
  };
  std::map<std::uint64_t, TxWaiter> waiters_;
  // (id, waiter) for each id a waiter waits for, once even if the call listed it twice: a waiter
  // finishing erases its own entries directly, whatever else waits for the same ids.
  std::set<std::pair<crypto::Hash256, std::uint64_t>> waiting_for_;
  std::uint64_t next_waiter_ = 0;
};

}  // namespace detail
}  // namespace colend::node
