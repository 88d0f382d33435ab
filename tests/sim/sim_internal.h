// The simulator's types, shared by its translation units (private to colend-sim; see sim.h):
// the simulated keys and signer, a node's state, the application over the simulated ledger and
// the Simulation itself. sim_node.cc holds the node behaviour, sim_faults.cc the faults and load,
// sim.cc the event loop and the checks.
#pragma once

#include "sim.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "consensus/consensus.pb.h"
#include "consensus/replica.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "node/peer_heights.h"
#include "node/signing_lease.h"
#include "node/signing_recovery.h"


namespace colend::sim::internal {


using consensus::Actions;
using consensus::BlockHeader;
using consensus::Decision;
using consensus::Hash256;
using consensus::Member;
using consensus::Replica;
using consensus::ValidatorSet;
namespace cproto = consensus::proto;

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kStart = 1'700'000'000'000;   // simulated epoch time at the start
constexpr std::int64_t kClockSkewMaxMs = 5'000;      // genesis clock-skew bound
constexpr std::int64_t kBlockIntervalMs = 200;       // node.cc: start a height this long after txs
constexpr std::int64_t kStatusIntervalMs = 1'000;    // node.cc: status announcement period
constexpr std::int64_t kSyncRequestTimeoutMs = 2'000;  // node_impl.h kSyncRequestTimeoutMs
constexpr std::uint32_t kSyncBlocksPerRequestMax = 64;
constexpr std::size_t kBlockTxsMax = 50;
constexpr std::string_view kChainId = "colend-sim";
// A recovered floor may exceed tip + 3 only by the lease floor of a restored data directory
// (at most the heights signed since the backup); beyond this it came from a forged height.
constexpr std::uint64_t kRecoveryFloorSlack = 200;
// How long after every fault healed a network with pending transactions may go without a block:
// messages held up to 30 s may still arrive, and rounds grow by their increment meanwhile.
constexpr std::int64_t kLivenessMs = 45'000;

inline std::string Ms(std::int64_t t) {  // simulated time since the start, "12.345s"
  char buffer[32];
  const std::int64_t rel = t - kStart;
  std::snprintf(buffer, sizeof buffer, "%lld.%03llds", static_cast<long long>(rel / 1000),
                static_cast<long long>(rel % 1000));
  return buffer;
}

inline const crypto::PrivateKey& SimKey(std::size_t index) {
  static std::deque<crypto::PrivateKey> keys;  // generated once per process; deque keeps refs valid
  while (keys.size() <= index) {
    auto key = crypto::PrivateKey::Generate(crypto::Suite::kStd);
    assert(key.ok());
    keys.push_back(*key);
  }
  return keys[index];
}

inline Hash256 TxRootOf(const cproto::Block& block) {
  std::string all;
  for (const std::string& tx : block.txs()) all += crypto::ToHex(crypto::Sha256(tx));
  return crypto::Sha256(all);
}

inline Hash256 NextStateRoot(const Hash256& parent, const Hash256& tx_root) {
  return crypto::Sha256(crypto::ToHex(parent) + crypto::ToHex(tx_root));
}

// Evidence transaction: "E" key "\n" <8 hex digits: length of first> first second.
inline std::string EvidenceTx(const std::string& key, const consensus::Equivocation& e) {
  const std::string first = e.first.SerializeAsString();
  char length[16];
  std::snprintf(length, sizeof length, "%08zx", first.size());
  return "E" + key + "\n" + length + first + e.second.SerializeAsString();
}

inline std::optional<std::pair<cproto::ConsensusMessage, cproto::ConsensusMessage>> ParseEvidenceTx(
    const std::string& tx) {
  const std::size_t nl = tx.find('\n');
  if (tx.empty() || tx[0] != 'E' || nl == std::string::npos || tx.size() < nl + 9) return {};
  const std::size_t length = std::stoul(tx.substr(nl + 1, 8), nullptr, 16);
  if (tx.size() < nl + 9 + length) return {};
  cproto::ConsensusMessage a, b;
  if (!a.ParseFromString(tx.substr(nl + 9, length)) ||
      !b.ParseFromString(tx.substr(nl + 9 + length))) {
    return {};
  }
  return std::pair(a, b);
}

inline std::string EvidenceKeyOf(const std::string& tx) { return tx.substr(1, tx.find('\n') - 1); }

// Membership epochs (docs/consensus.md §7), as colend-node derives them from its chain: a
// committed membership transaction "M<n>:add:<id>", "M<n>:remove:<id>" or
// "M<n>:quorum:<rule>" in block h begins the next epoch at height h + 1. (Approval by a quorum
// of members is the contract's part, tested on the real ledger; here a committed change applies.)
struct Epoch {
  std::uint64_t number = 0;
  std::uint64_t start_height = 1;
  std::vector<std::string> members;  // sorted
  consensus::QuorumRule rule = consensus::QuorumRule::kMajority;
  Hash256 sha{};  // what headers of the epoch carry as membership-sha256 (zeros for epoch 0)
  std::shared_ptr<const ValidatorSet> set;
  bool Has(const std::string& id) const {
    return std::binary_search(members.begin(), members.end(), id);
  }
};

inline std::size_t IndexOf(const std::string& id) {  // "member-<i>"
  return static_cast<std::size_t>(std::stoul(id.substr(7)));
}

inline Epoch MakeEpoch(std::uint64_t number, std::uint64_t start, std::vector<std::string> members,
                consensus::QuorumRule rule, const Hash256& previous) {
  std::sort(members.begin(), members.end());
  Epoch e;
  e.number = number;
  e.start_height = start;
  e.members = members;
  e.rule = rule;
  std::string text = "colend-sim-membership\nepoch: " + std::to_string(number) + "\nquorum: " +
                     std::string(consensus::QuorumRuleName(rule)) + "\nprevious: " +
                     crypto::ToHex(previous) + "\nmembers:";
  std::vector<Member> keys;
  for (const std::string& id : members) {
    text += " " + id;
    keys.push_back({id, SimKey(IndexOf(id)).Public()});
  }
  e.sha = number == 0 ? Hash256{} : crypto::Sha256(text + "\n");
  e.set = std::make_shared<const ValidatorSet>(std::string(kChainId), number, std::move(keys), rule);
  return e;
}

// The epoch a membership transaction would begin after `current` (from `height` + 1), or nothing
// if it does not apply: an unknown or current member to add, a non-member to remove, a removal
// below three members, or the rule in force.
inline std::optional<Epoch> NextEpoch(const Epoch& current, const std::string& tx, std::uint64_t height,
                               std::size_t nodes) {
  const std::size_t a = tx.find(':');
  const std::size_t b = a == std::string::npos ? a : tx.find(':', a + 1);
  if (tx.empty() || tx[0] != 'M' || b == std::string::npos) return {};
  const std::string kind = tx.substr(a + 1, b - a - 1);
  const std::string arg = tx.substr(b + 1);
  std::vector<std::string> members = current.members;
  consensus::QuorumRule rule = current.rule;
  if (kind == "add") {
    if (current.Has(arg) || arg.rfind("member-", 0) != 0 || IndexOf(arg) >= nodes) return {};
    members.push_back(arg);
  } else if (kind == "remove") {
    if (!current.Has(arg) || members.size() <= 3) return {};
    members.erase(std::find(members.begin(), members.end(), arg));
  } else if (kind == "quorum") {
    auto parsed = consensus::ParseQuorumRule(arg);
    if (!parsed.ok() || *parsed == rule) return {};
    rule = *parsed;
  } else {
    return {};
  }
  return MakeEpoch(current.number + 1, height + 1, std::move(members), rule, current.sha);
}

// Every text each replica signs; two different values for one slot are a double signature.
class SignLog {
 public:
  void Record(const std::string& member, std::string_view text) {
    std::string slot, value;
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      const std::string_view line = text.substr(start, end - start);
      const bool is_value = line.starts_with("block-hash:") || line.starts_with("valid-round:");
      (is_value ? value : slot).append(line).push_back('\n');
      start = end + 1;
    }
    auto [it, inserted] = slots_.emplace(std::pair(member, slot), value);
    if (!inserted && it->second != value) {
      conflicts_.push_back(member + " signed two different values for one slot: " +
                           Flatten(slot) + " [" + Flatten(it->second) + "] vs [" + Flatten(value) +
                           "]");
    }
  }
  const std::vector<std::string>& conflicts() const { return conflicts_; }

 private:
  static std::string Flatten(std::string text) {
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text;
  }
  std::map<std::pair<std::string, std::string>, std::string> slots_;
  std::vector<std::string> conflicts_;
};

// Signs with the member's key and keeps each signed text until the node's Handle decides its
// fate: a signature made in memory that dies in a crash before the vote state was synced never
// left the process (nothing is sent before the sync), so only texts that survive that point go
// to the SignLog.
class SimSigner : public consensus::Signer {
 public:
  SimSigner(std::string member, const crypto::PrivateKey* key, SignLog* log)
      : member_(std::move(member)), key_(key), log_(log) {}
  std::string Sign(std::string_view message) override {
    pending_.emplace_back(message);
    auto signature = key_->Sign(message);
    return signature.ok() ? *signature : std::string();
  }
  void Publish() {
    for (const std::string& text : pending_) log_->Record(member_, text);
    pending_.clear();
  }
  void Discard() { pending_.clear(); }

 private:
  std::string member_;
  const crypto::PrivateKey* key_;
  SignLog* log_;
  std::vector<std::string> pending_;
};

struct StoredBlock {
  cproto::Block block;
  cproto::CommitCertificate certificate;
  Hash256 hash{};
  Hash256 state_root{};
  std::int64_t timestamp_ms = 0;
};

// What travels between simulated nodes (node.proto's PeerMessage, unserialised).
struct Msg {
  enum Kind { kConsensus, kStatus, kBlockRequest, kBlockResponse, kTxs } kind = kConsensus;
  cproto::ConsensusMessage consensus;
  std::uint64_t height = 0;  // status: committed height; request: first height wanted
  Hash256 hash{};            // status: the hash of that block
  bool recovering = false;   // status: the sender's signing history is unknown
  std::uint32_t count = 0;
  std::vector<StoredBlock> blocks;
  std::vector<std::string> txs;
};
using MsgPtr = std::shared_ptr<const Msg>;

class Simulation;

struct Node {
  std::string id;
  std::size_t index = 0;
  // Durable (survives a crash; a wipe or truncation changes it explicitly).
  std::vector<StoredBlock> chain;  // chain[0] is the genesis block
  std::string replica_state;
  bool history_complete = true;  // data/'s x/signing-history record (node/signing_lease.h)
  // Outside data/ (survives a wipe or a restore): <home>/signing-lease.
  std::optional<node::LeaseMark> lease;
  // A copy of data/ taken while the node was down, for the "restored from an older backup" F11.
  struct Backup {
    std::vector<StoredBlock> chain;
    std::string replica_state;
    bool history_complete = true;
  };
  std::optional<Backup> backup;
  std::map<std::string, std::string> pending_evidence;  // key -> evidence tx, until committed
  // Volatile.
  enum Mode { kRunning, kPaused, kCrashed } mode = kRunning;
  std::unique_ptr<consensus::Application> app;
  std::unique_ptr<SimSigner> signer;
  std::unique_ptr<Replica> replica;
  bool replica_started = false;
  std::uint64_t active_height = 0;  // 0 while idle (node.cc active_height_)
  std::int64_t start_at = kNever;   // pending StartHeight (block interval)
  std::int64_t next_housekeeping = kNever;
  node::PeerHeights peers;  // the node's own code (node/peer_heights.h)
  std::deque<cproto::ConsensusMessage> early;  // node.cc early_messages_: for height + 2
  std::string sync_peer;
  std::int64_t sync_deadline = 0;
  std::map<std::uint64_t, std::string> mempool;  // arrival order -> tx
  std::map<std::string, std::uint64_t> in_mempool;
  std::set<std::string> committed_txs;
  std::int64_t clock_offset = 0;
  std::deque<std::pair<std::string, MsgPtr>> inbox;  // arrivals while paused
  bool recovering = false;
  std::uint64_t lease_floor = 0;
  int crash_point = -1;  // F7: crash inside the next Handle at this step
  bool byzantine = false;
  bool liar = false;  // lies in status, serves substituted bodies, relays proposals with other bodies
  // Derived from the chain (recomputed at boot): every epoch so far; back() is in force for the
  // next height. The node's replica (none if it is not a member) and its peers follow back().
  std::vector<Epoch> epochs;
  std::uint64_t replica_epoch = 0;

  std::uint64_t height() const { return chain.size() - 1; }
  const Epoch& epoch() const { return epochs.back(); }
  const Epoch& EpochAt(std::uint64_t h) const {
    for (auto it = epochs.rbegin(); it != epochs.rend(); ++it) {
      if (it->start_height <= h) return *it;
    }
    return epochs.front();
  }
};

class SimApp : public consensus::Application {
 public:
  SimApp(Node* node, std::size_t nodes) : node_(node), nodes_(nodes) {}

  cproto::Block ProposeBlock(std::uint64_t height, std::int64_t now_ms) override {
    assert(height == node_->chain.size());
    const StoredBlock& parent = node_->chain.back();
    cproto::Block block;
    std::set<std::string> evidence_keys;
    bool membership_change = false;
    std::vector<std::uint64_t> stale;
    for (const auto& [seq, tx] : node_->mempool) {
      if (static_cast<std::size_t>(block.txs_size()) >= kBlockTxsMax) break;
      if (tx.starts_with("M") && membership_change) continue;  // one change per block; next one
      if (!TxAcceptable(tx, height, &evidence_keys, &membership_change)) {
        stale.push_back(seq);  // node.cc drops what can no longer be included
        continue;
      }
      block.add_txs(tx);
    }
    for (std::uint64_t seq : stale) {
      node_->in_mempool.erase(node_->mempool.at(seq));
      node_->mempool.erase(seq);
    }
    BlockHeader header;
    header.chain_id = std::string(kChainId);
    header.height = height;
    header.prev_block_hash = parent.hash;
    header.timestamp_ms = std::max(now_ms, parent.timestamp_ms + 1);
    header.proposer = node_->id;
    header.tx_count = static_cast<std::uint64_t>(block.txs_size());
    header.tx_root = TxRootOf(block);
    header.state_root = NextStateRoot(parent.state_root, header.tx_root);
    header.ledger_size = height;
    header.membership_epoch = node_->epoch().number;
    header.membership_sha256 = node_->epoch().sha;
    block.set_header(header.ToText());
    return block;
  }

  colend::Status ValidateBlock(std::uint64_t height, const cproto::Block& block,
                                  std::int64_t now_ms, bool check_timeliness) override {
    auto header = BlockHeader::ParseText(block.header());
    if (!header.ok()) return header.error();
    auto bad = [](const std::string& what) { return colend::MakeError("invalid-block", what); };
    if (height != node_->chain.size() || header->height != height) return bad("wrong height");
    const StoredBlock& parent = node_->chain.back();
    if (header->chain_id != kChainId) return bad("wrong chain id");
    if (header->prev_block_hash != parent.hash) return bad("wrong parent");
    if (header->timestamp_ms <= parent.timestamp_ms) return bad("time does not increase");
    if (header->tx_count != static_cast<std::uint64_t>(block.txs_size()) ||
        header->tx_root != TxRootOf(block)) {
      return bad("wrong transactions");
    }
    if (header->state_root != NextStateRoot(parent.state_root, header->tx_root)) {
      return bad("wrong state root");
    }
    if (header->membership_epoch != node_->epoch().number ||
        header->membership_sha256 != node_->epoch().sha) {
      return bad("membership epoch " + std::to_string(header->membership_epoch) +
                 " is not the one in force (" + std::to_string(node_->epoch().number) + ")");
    }
    std::set<std::string> seen, evidence_keys;
    bool membership_change = false;
    for (const std::string& tx : block.txs()) {
      if (!seen.insert(tx).second) return bad("a transaction twice in one block");
      if (!TxAcceptable(tx, height, &evidence_keys, &membership_change)) {
        return bad("a transaction already committed or invalid");
      }
    }
    if (check_timeliness && std::abs(header->timestamp_ms - now_ms) > kClockSkewMaxMs) {
      return bad("timestamp outside the clock-skew bound");
    }
    return colend::Status::Ok();
  }

  colend::Status CheckBody(const cproto::Block& block) override {
    auto header = BlockHeader::ParseText(block.header());
    if (!header.ok()) return header.error();
    if (header->tx_count != static_cast<std::uint64_t>(block.txs_size()) ||
        header->tx_root != TxRootOf(block)) {
      return colend::MakeError("body-mismatch", "the body is not the header's");
    }
    return colend::Status::Ok();
  }

 private:
  bool TxAcceptable(const std::string& tx, std::uint64_t height,
                    std::set<std::string>* evidence_keys, bool* membership_change) const {
    if (node_->committed_txs.count(tx)) return false;
    if (tx.starts_with("C")) return true;
    if (tx.starts_with("M")) {
      if (*membership_change || !NextEpoch(node_->epoch(), tx, height, nodes_)) return false;
      *membership_change = true;
      return true;
    }
    if (!tx.starts_with("E")) return false;
    const std::string key = EvidenceKeyOf(tx);
    if (node_->committed_txs.count("key:" + key) || !evidence_keys->insert(key).second) {
      return false;
    }
    auto pair = ParseEvidenceTx(tx);
    if (!pair) return false;
    const std::uint64_t at = pair->first.has_proposal() ? pair->first.proposal().height()
                                                        : pair->first.vote().height();
    auto facts = consensus::VerifyEquivocation(*node_->EpochAt(at).set, pair->first, pair->second);
    return facts.ok() && facts->Key() == key;
  }

  Node* node_;
  std::size_t nodes_;
};

// F1-F12 as in docs/consensus.md §12; kLiar: a member lies in status announcements, serves
// substituted bodies and relays proposals with other bodies; kHold: messages held 1-30 s, then
// delivered (what locking exists for).
enum class Fault { kF1, kF2, kF3, kF4, kF5, kF6, kF7, kF8, kF9, kF10, kF11, kF12, kLiar, kHold };

class Simulation {
 public:
  explicit Simulation(const SimOptions& options)
      : options_(options),
        validators_([&] {
          std::vector<Member> members;
          for (std::size_t i = 0; i < options.nodes; ++i) {
            members.push_back({"member-" + std::to_string(i), SimKey(i).Public()});
          }
          return ValidatorSet(std::string(kChainId), 0, std::move(members), options.rule);
        }()),
        rng_(options.seed) {
    for (std::size_t i = 0; i < options.nodes; ++i) {
      Node& node = nodes_[validators_.members()[i].id];
      node.id = validators_.members()[i].id;
      node.index = i;
      StoredBlock genesis;
      BlockHeader header;
      header.chain_id = std::string(kChainId);
      header.proposer = "genesis";
      header.timestamp_ms = kStart - 1000;
      genesis.block.set_header(header.ToText());
      genesis.hash = consensus::BlockHash(genesis.block.header());
      genesis.timestamp_ms = header.timestamp_ms;
      node.chain.push_back(genesis);
      ids_.push_back(node.id);
    }
  }

  SimResult Run();

 private:
  // --- helpers
  std::int64_t Uniform(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }
  bool Chance(int per_mille) { return per_mille > 0 && Uniform(0, 999) < per_mille; }
  std::int64_t Local(const Node& node) const { return now_ + node.clock_offset; }
  // What a replica is fed: the node's wall clock (skewed by F9) and a monotonic clock, which a
  // skew does not move (as steady_clock in colend-node).
  consensus::Now Clock(const Node& node) const { return consensus::Now(Local(node), now_); }
  void Event(const std::string& text) {
    result_.events.push_back(Ms(now_) + " " + text);
    if (options_.trace) std::printf("%s %s\n", Ms(now_).c_str(), text.c_str());
  }
  void Violation(const std::string& text) {
    if (result_.violations.size() < 50) result_.violations.push_back(Ms(now_) + " " + text);
  }
  bool Up(const Node& node) const { return node.mode == Node::kRunning; }
  std::uint64_t MaxHeight() const {
    std::uint64_t h = 0;
    for (const auto& [id, node] : nodes_) h = std::max(h, node.height());
    return h;
  }

  // --- node behaviour (node.cc)
  void Boot(Node& node);
  // The replica for the node's epoch in force (none if it is not a member): node.cc
  // ApplyMembership, at boot and when a committed block began an epoch.
  void SetUpReplica(Node& node);
  void RecomputeEpochs(Node& node);
  // The node furthest ahead (the first by id among equals): its epoch is the network's.
  const Node& Leader() const;
  void Crash(Node& node, const std::string& why);
  void Handle(Node& node, Actions actions);
  void StartHeight(Node& node);
  void ScheduleStart(Node& node);
  void Commit(Node& node, const cproto::Block& block, const cproto::CommitCertificate& cert,
              const std::string& how);
  void AfterCommit(Node& node);
  void Housekeeping(Node& node);
  void RequestBlocks(Node& node, const std::string& peer);
  void AnnounceStatus(Node& node);
  void VerifyClaims(Node& node);
  void TryRecover(Node& node);
  void Receive(Node& node, const std::string& from, const MsgPtr& msg);
  void AddToMempool(Node& node, const std::string& tx);
  // A transaction the node itself submits: into its mempool and gossiped to every peer.
  void SubmitAndGossip(Node& node, const std::string& tx);
  void Send(const Node& from, const std::string& to, MsgPtr msg);
  void Broadcast(const Node& from, const MsgPtr& msg);
  void Deliver(const std::string& to, const std::string& from, const MsgPtr& msg);
  // Returns the peers that got a conflicting message instead of `message` (a split), if any.
  std::set<std::string> MaybeEquivocate(Node& node, const cproto::ConsensusMessage& message);

  // --- faults and load
  void InjectFault();
  void HealAll();
  void SubmitClientTx();
  void ProposeMembershipChange();
  void ReplayOrForge();
  // Liveness after every healing period: once no fault is active, a block with pending
  // transactions must commit within kLivenessMs unless too few members may sign.
  void ScheduleLivenessCheck();
  bool HaltedByDesign() const;

  bool Step(std::int64_t until);

  SimOptions options_;
  ValidatorSet validators_;
  std::mt19937_64 rng_;
  std::vector<std::string> ids_;
  std::map<std::string, Node> nodes_;
  std::int64_t now_ = kStart;
  std::uint64_t seq_ = 0;
  std::map<std::pair<std::int64_t, std::uint64_t>, std::function<void()>> queue_;
  SignLog sign_log_;
  SimResult result_;

  // Network faults.
  std::set<std::pair<std::string, std::string>> blocked_;  // (from, to) links that lose all
  int drop_per_mille_ = 0, duplicate_per_mille_ = 0, hold_per_mille_ = 0;
  std::uint64_t heal_token_ = 0;  // the latest moment every fault had healed
  std::int64_t latency_min_ = 2, latency_max_ = 12;
  bool chaos_ = false;  // F8 window: replays and foreign-chain messages
  std::deque<cproto::ConsensusMessage> recent_;  // for replays
  std::optional<std::string> byzantine_;         // F12: the member who equivocates (one per run)
  bool byzantine_ever_ = false;

  // Global bookkeeping for the invariants.
  std::map<std::uint64_t, Hash256> committed_;         // first block committed per height
  std::map<std::uint64_t, cproto::CommitCertificate> committed_certs_;
  // A majority-mode fork by an equivocating member happened (with its evidence): the chains
  // cannot converge, so convergence, durability and liveness are not judged after it.
  bool forked_ = false;
  // F12 splits: (height, round) -> (the members shown the second block, its hash).
  std::map<std::pair<std::uint64_t, std::uint32_t>, std::pair<std::set<std::string>, Hash256>> splits_;
  std::map<std::string, std::string> submitted_to_;    // client tx -> node it was submitted to
  std::set<std::string> acknowledged_;                 // client txs a node said are committed
  std::map<std::string, std::set<std::string>> detected_;  // evidence key -> honest detectors
  std::uint64_t client_seq_ = 0;
  std::uint64_t mempool_seq_ = 0;
  std::int64_t load_until_ = 0;
  std::size_t active_faults_ = 0;
  std::uint64_t membership_seq_ = 0;
};

}  // namespace colend::sim::internal
