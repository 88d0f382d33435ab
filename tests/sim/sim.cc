// The simulator; see sim.h. Node behaviour mirrors node/node.cc and node/node_sync.cc (named
// where it matters) and calls the node's own PeerHeights, ComputeSigningFloor and
// JudgeSigningHistory.
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

namespace colend::sim {
namespace {

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

std::string Ms(std::int64_t t) {  // simulated time since the start, "12.345s"
  char buffer[32];
  const std::int64_t rel = t - kStart;
  std::snprintf(buffer, sizeof buffer, "%lld.%03llds", static_cast<long long>(rel / 1000),
                static_cast<long long>(rel % 1000));
  return buffer;
}

const crypto::PrivateKey& SimKey(std::size_t index) {
  static std::deque<crypto::PrivateKey> keys;  // generated once per process; deque keeps refs valid
  while (keys.size() <= index) {
    auto key = crypto::PrivateKey::Generate(crypto::Suite::kStd);
    assert(key.ok());
    keys.push_back(*key);
  }
  return keys[index];
}

Hash256 TxRootOf(const cproto::Block& block) {
  std::string all;
  for (const std::string& tx : block.txs()) all += crypto::ToHex(crypto::Sha256(tx));
  return crypto::Sha256(all);
}

Hash256 NextStateRoot(const Hash256& parent, const Hash256& tx_root) {
  return crypto::Sha256(crypto::ToHex(parent) + crypto::ToHex(tx_root));
}

// Evidence transaction: "E" key "\n" <8 hex digits: length of first> first second.
std::string EvidenceTx(const std::string& key, const consensus::Equivocation& e) {
  const std::string first = e.first.SerializeAsString();
  char length[16];
  std::snprintf(length, sizeof length, "%08zx", first.size());
  return "E" + key + "\n" + length + first + e.second.SerializeAsString();
}

std::optional<std::pair<cproto::ConsensusMessage, cproto::ConsensusMessage>> ParseEvidenceTx(
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

std::string EvidenceKeyOf(const std::string& tx) { return tx.substr(1, tx.find('\n') - 1); }

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

std::size_t IndexOf(const std::string& id) {  // "member-<i>"
  return static_cast<std::size_t>(std::stoul(id.substr(7)));
}

Epoch MakeEpoch(std::uint64_t number, std::uint64_t start, std::vector<std::string> members,
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
std::optional<Epoch> NextEpoch(const Epoch& current, const std::string& tx, std::uint64_t height,
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

// ---------------------------------------------------------------------------------------------
// Node behaviour

void Simulation::Boot(Node& node) {
  node.mode = Node::kRunning;
  node.app = std::make_unique<SimApp>(&node, options_.nodes);
  node.signer = std::make_unique<SimSigner>(node.id, &SimKey(node.index), &sign_log_);
  RecomputeEpochs(node);
  SetUpReplica(node);
  node.start_at = kNever;
  node.next_housekeeping = now_ + 50 + static_cast<std::int64_t>(node.index) * 37;
  node.peers = node::PeerHeights();
  node.early.clear();
  node.sync_peer.clear();
  node.mempool.clear();
  node.in_mempool.clear();
  node.committed_txs.clear();
  for (const StoredBlock& b : node.chain) {
    for (const std::string& tx : b.block.txs()) {
      node.committed_txs.insert(tx);
      if (tx.starts_with("E")) node.committed_txs.insert("key:" + EvidenceKeyOf(tx));
    }
  }
  node.inbox.clear();
  node.crash_point = -1;
  // node.cc JudgeHistory, with the node's own decision (node/signing_lease.h).
  node::DataHistory data;
  data.complete_marker = node.history_complete;
  data.stored = {node.height() + 1, 0, 0};
  if (!node.replica_state.empty()) {
    if (auto mark = node::LeaseMarkOf(node.replica_state)) data.stored = std::max(data.stored, *mark);
  }
  const node::HistoryVerdict verdict = node::JudgeSigningHistory(data, node.lease);
  node.recovering = verdict.recovering;
  node.lease_floor = verdict.lease_floor;
  if (verdict.recovering) {
    node.history_complete = false;
    Event(node.id + " signing history unknown: " + verdict.why);
  } else if (!node.lease || *node.lease < data.stored) {
    node.lease = std::max(node.lease.value_or(node::LeaseMark{}), data.stored);
  }
  for (const auto& [key, tx] : node.pending_evidence) AddToMempool(node, tx);
}

void Simulation::RecomputeEpochs(Node& node) {
  node.epochs.clear();
  node.epochs.push_back(MakeEpoch(0, 1, ids_, options_.rule, Hash256{}));
  for (std::uint64_t h = 1; h < node.chain.size(); ++h) {
    for (const std::string& tx : node.chain[h].block.txs()) {
      if (auto next = NextEpoch(node.epoch(), tx, h, options_.nodes)) node.epochs.push_back(*next);
    }
  }
}

void Simulation::SetUpReplica(Node& node) {
  node.replica.reset();
  node.replica_started = false;
  node.active_height = 0;
  node.replica_epoch = node.epoch().number;
  if (!node.epoch().Has(node.id)) return;  // not a member: sync only
  node.replica = std::make_unique<Replica>(*node.epoch().set, node.id, consensus::ReplicaTimeouts{},
                                           node.app.get(), node.signer.get());
  const colend::Status restored = node.replica->Restore(node.replica_state);
  if (!restored.ok()) Violation(node.id + ": persisted replica state rejected: " + restored.ToString());
}

const Node& Simulation::Leader() const {
  const Node* best = &nodes_.begin()->second;
  for (const auto& [id, node] : nodes_) {
    if (node.height() > best->height()) best = &node;
  }
  return *best;
}

void Simulation::Crash(Node& node, const std::string& why) {
  node.mode = Node::kCrashed;
  node.replica.reset();
  node.inbox.clear();
  node.mempool.clear();
  node.in_mempool.clear();
  node.start_at = kNever;
  node.next_housekeeping = kNever;
  for (auto& [id, other] : nodes_) {
    if (id != node.id) other.peers.Forget(node.id);  // its connections close
  }
  if (!why.empty()) Event(node.id + " crashed " + why);
}

// node.cc Handle: persist (synced) before any message leaves, then send, then store a decision.
// An armed F7 crash point stops the node part-way.
void Simulation::Handle(Node& node, Actions actions) {
  if (!Up(node)) return;
  for (const std::string& line : actions.log) {
    if (options_.trace) std::printf("%s   %s: %s\n", Ms(now_).c_str(), node.id.c_str(), line.c_str());
  }
  const bool eventful = actions.persist || !actions.messages.empty() || actions.decision;
  const int point = eventful ? node.crash_point : -1;
  if (actions.persist) {  // node.cc CoverWithLease: the lease first
    const std::optional<node::LeaseMark> now = node::LeaseMarkOf(*actions.persist);
    if (now && (!node.lease || *now > *node.lease)) node.lease = *now;
  }
  if (point == 0) {
    node.signer->Discard();
    return Crash(node, "before syncing its vote state (F7)");
  }
  if (actions.persist) node.replica_state = *actions.persist;
  node.signer->Publish();
  if (point == 1) return Crash(node, "after syncing its vote state, before sending (F7)");
  for (std::size_t i = 0; i < actions.messages.size(); ++i) {
    if (point == 2 && i == actions.messages.size() / 2 && i > 0) {
      return Crash(node, "part-way through sending (F7)");
    }
    auto msg = std::make_shared<Msg>();
    msg->kind = Msg::kConsensus;
    msg->consensus = std::move(actions.messages[i].message);
    std::set<std::string> split;
    if (node.byzantine) split = MaybeEquivocate(node, msg->consensus);
    if (recent_.size() > 256) recent_.pop_front();
    recent_.push_back(msg->consensus);
    if (actions.messages[i].to) {
      if (!split.count(*actions.messages[i].to)) Send(node, *actions.messages[i].to, msg);
    } else {
      for (const std::string& id : ids_) {
        if (id != node.id && !split.count(id)) Send(node, id, msg);
      }
    }
  }
  for (const consensus::Equivocation& e : actions.equivocations) {
    const std::uint64_t at = e.first.has_proposal() ? e.first.proposal().height()
                                                    : e.first.vote().height();
    auto facts = consensus::VerifyEquivocation(*node.EpochAt(at).set, e.first, e.second);
    if (!facts.ok()) {
      Violation(node.id + ": replica reported an equivocation that does not verify: " +
                facts.error().ToString());
      continue;
    }
    const std::string key = facts->Key();
    if (!byzantine_ || facts->member != *byzantine_) {
      Violation(node.id + " detected an equivocation by honest " + facts->member + ": " + key);
    }
    detected_[key].insert(node.id);
    if (node.committed_txs.count("key:" + key) || node.pending_evidence.count(key)) continue;
    const std::string tx = EvidenceTx(key, e);
    node.pending_evidence[key] = tx;  // durable until committed
    AddToMempool(node, tx);
    auto gossip = std::make_shared<Msg>();
    gossip->kind = Msg::kTxs;
    gossip->txs.push_back(tx);
    Broadcast(node, gossip);
  }
  if (actions.decision) {
    Commit(node, actions.decision->block, actions.decision->certificate,
           "decided in round " + std::to_string(actions.decision->certificate.round()));
    if (point == 3) return Crash(node, "after storing a block, before moving on (F7)");
    AfterCommit(node);
  }
  if (point >= 0) node.crash_point = -1;  // the armed step did not occur this time
}

void Simulation::StartHeight(Node& node) {
  node.start_at = kNever;
  if (!Up(node) || node.recovering || !node.replica) return;
  const std::uint64_t next = node.height() + 1;
  if (node.active_height == next) return;
  node.active_height = next;
  if (!node.replica_started) {
    node.replica_started = true;
    Handle(node, node.replica->Start(next, Clock(node)));
  } else {
    Handle(node, node.replica->AdvanceTo(next, Clock(node)));
  }
  std::deque<cproto::ConsensusMessage> early;
  early.swap(node.early);
  for (const auto& m : early) {
    const std::uint64_t h = m.has_proposal() ? m.proposal().height() : m.vote().height();
    if (!Up(node)) return;  // crashed at an armed write step (F7)
    if (node.replica && h == next && node.active_height == next && node.height() + 1 == next) {
      Handle(node, node.replica->OnMessage(m, Clock(node)));
    } else if (h > node.height() + 1) {
      node.early.push_back(m);
    }
  }
}

void Simulation::ScheduleStart(Node& node) {
  if (node.recovering || !node.replica || node.active_height == node.height() + 1 ||
      node.start_at != kNever || node.mempool.empty()) {
    return;
  }
  node.start_at = now_ + kBlockIntervalMs;
}

// Stores a block (decided or synced) after checking it the way the invariants demand.
void Simulation::Commit(Node& node, const cproto::Block& block,
                        const cproto::CommitCertificate& cert, const std::string& how) {
  const std::uint64_t height = node.chain.size();
  const Hash256 hash = consensus::BlockHash(block.header());
  const colend::Status valid_cert =
      consensus::VerifyCommitCertificate(*node.epoch().set, height, hash, cert);
  if (!valid_cert.ok()) {
    Violation(node.id + " height " + std::to_string(height) + " (" + how +
              "): invalid certificate: " + valid_cert.ToString());
  }
  const colend::Status valid = node.app->ValidateBlock(height, block, Local(node), false);
  if (!valid.ok()) {
    Violation(node.id + " height " + std::to_string(height) + " (" + how +
              "): integrity: " + valid.ToString());
  }
  auto [first, inserted] = committed_.emplace(height, hash);
  if (inserted) committed_certs_.emplace(height, cert);
  if (!inserted && first->second != hash) {
    // Majority mode tolerates no equivocator: two certificates for one height share a member
    // (q + q > n) who signed both. Such a fork must leave that signed evidence, and only the
    // equivocating member may be in both; anything else breaks agreement.
    std::set<std::string> a, both;
    for (const auto& e : committed_certs_.at(height).endorsements()) a.insert(e.member());
    for (const auto& e : cert.endorsements()) {
      if (a.count(e.member())) both.insert(e.member());
    }
    const bool evidenced = !both.empty() && byzantine_ &&
                           std::all_of(both.begin(), both.end(),
                                       [&](const std::string& m) { return m == *byzantine_; }) &&
                           node.EpochAt(height).rule == consensus::QuorumRule::kMajority;
    if (evidenced) {
      if (!forked_) {
        Event("FORK at height " + std::to_string(height) + " (majority mode, " + *byzantine_ +
              " equivocated): both certificates hold its precommit, signed evidence of the "
              "double signature");
      }
      forked_ = true;
      ++result_.forks_with_evidence;
    } else {
      std::string names;
      for (const std::string& m : both) names += " " + m;
      Violation("agreement broken at height " + std::to_string(height) + ": " + node.id +
                " committed another block (" + how + "); members in both certificates:" +
                (names.empty() ? " none" : names));
    }
  }
  auto header = BlockHeader::ParseText(block.header());
  if (inserted && header.ok() && header->timestamp_ms > now_ + kClockSkewMaxMs) {
    Violation("block " + std::to_string(height) + " is stamped " +
              std::to_string(header->timestamp_ms - now_) + " ms ahead of true time (bound " +
              std::to_string(kClockSkewMaxMs) + " ms)");
  }
  StoredBlock stored{block, cert, hash, header.ok() ? header->state_root : Hash256{},
                     header.ok() ? header->timestamp_ms : 0};
  node.chain.push_back(std::move(stored));
  for (const std::string& tx : block.txs()) {
    if (auto next = NextEpoch(node.epoch(), tx, height, options_.nodes)) {
      if (inserted) {
        std::string members;
        for (const std::string& id : next->members) members += " " + id;
        Event("membership epoch " + std::to_string(next->number) + " (" + tx.substr(tx.find(':') + 1) +
              ") begins at height " + std::to_string(next->start_height) + ": " +
              std::string(consensus::QuorumRuleName(next->rule)) + " of" + members);
      }
      node.epochs.push_back(*next);
    }
    node.committed_txs.insert(tx);
    if (auto it = node.in_mempool.find(tx); it != node.in_mempool.end()) {
      node.mempool.erase(it->second);
      node.in_mempool.erase(it);
    }
    if (tx.starts_with("E")) {
      const std::string key = EvidenceKeyOf(tx);
      node.committed_txs.insert("key:" + key);
      node.pending_evidence.erase(key);
    } else if (auto sub = submitted_to_.find(tx); sub != submitted_to_.end() && sub->second == node.id) {
      acknowledged_.insert(tx);  // the client polls its node: committed
    }
  }
}

void Simulation::AfterCommit(Node& node) {
  node.active_height = 0;
  if (node.epoch().number != node.replica_epoch) SetUpReplica(node);
  VerifyClaims(node);
  if (node.recovering) TryRecover(node);
  AnnounceStatus(node);
  ScheduleStart(node);
}

// node_sync.cc AnnounceStatus; a liar claims a forged height with a made-up hash.
void Simulation::AnnounceStatus(Node& node) {
  auto status = std::make_shared<Msg>();
  status->kind = Msg::kStatus;
  status->height = node.height();
  status->hash = node.chain.back().hash;
  status->recovering = node.recovering;
  if (node.liar) {
    static constexpr std::uint64_t kLies[] = {UINT64_MAX - 2, 1'000'000'000'000'000, 0};
    status->height = kLies[Uniform(0, 2)];
    if (status->height == 0) status->height = node.height() + static_cast<std::uint64_t>(Uniform(1, 50));
    status->hash = crypto::Sha256("a lie " + std::to_string(Uniform(0, 1'000'000)));
    status->recovering = false;
  }
  Broadcast(node, status);
}

void Simulation::VerifyClaims(Node& node) {
  node.peers.Verify(
      node.height(),
      [&node](std::uint64_t h) -> std::optional<Hash256> {
        if (h >= node.chain.size()) return std::nullopt;
        return node.chain[h].hash;
      },
      now_);
}

// node_sync.cc TryRecoverSigning, with the node's own ComputeSigningFloor.
void Simulation::TryRecover(Node& node) {
  node::RecoveryInput input;
  input.self = node.id;
  input.our_height = node.height();
  input.epoch = node.epoch().set.get();
  input.best_claim = node.peers.BestClaim();
  input.reports = node.peers.CertifiedReports();
  input.lease_floor = node.lease_floor;
  const node::RecoveryProgress progress = node::ComputeSigningFloor(input);
  if (!progress.floor || !node.replica) return;
  node.recovering = false;
  node.history_complete = true;
  Event(node.id + " recovered its signing floor: " + std::to_string(*progress.floor) + " (" +
        std::to_string(progress.counted) + " certified tips, at most " +
        std::to_string(progress.top) + "; its tip " + std::to_string(node.height()) + ")");
  if (*progress.floor > node.height() + 3 + kRecoveryFloorSlack) {
    Violation(node.id + " recovered with a floor " + std::to_string(*progress.floor) +
              " far above its tip " + std::to_string(node.height()) + " (a forged height?)");
  }
  Handle(node, node.replica->RaiseSignFloor(*progress.floor, Clock(node)));
  AnnounceStatus(node);
  ScheduleStart(node);
}

void Simulation::Housekeeping(Node& node) {
  node.next_housekeeping = now_ + kStatusIntervalMs;
  AnnounceStatus(node);
  if (node.peers.BestClaim() > node.height() && (node.sync_peer.empty() || now_ > node.sync_deadline)) {
    const std::string slow = node.sync_peer;
    if (auto choice = node.peers.SyncPeer(node.height(), slow)) RequestBlocks(node, *choice);
  }
  if (node.recovering) TryRecover(node);
  ScheduleStart(node);
}

void Simulation::RequestBlocks(Node& node, const std::string& peer) {
  const std::uint64_t claim = node.peers.ClaimOf(peer);
  if (claim <= node.height()) return;
  auto request = std::make_shared<Msg>();
  request->kind = Msg::kBlockRequest;
  request->height = node.height() + 1;
  const std::uint64_t behind = claim - node.height();
  request->count = static_cast<std::uint32_t>(std::min<std::uint64_t>(behind, kSyncBlocksPerRequestMax));
  node.sync_peer = peer;
  node.sync_deadline = now_ + kSyncRequestTimeoutMs;
  Send(node, peer, request);
}

void Simulation::AddToMempool(Node& node, const std::string& tx) {
  if (node.committed_txs.count(tx) || node.in_mempool.count(tx)) return;
  const std::uint64_t seq = ++mempool_seq_;
  node.mempool.emplace(seq, tx);
  node.in_mempool.emplace(tx, seq);
  ScheduleStart(node);
}

void Simulation::Receive(Node& node, const std::string& from, const MsgPtr& msg) {
  switch (msg->kind) {
    case Msg::kConsensus: {  // node.cc OnConsensus
      const cproto::ConsensusMessage& m = msg->consensus;
      const std::uint64_t h = m.has_proposal() ? m.proposal().height() : m.vote().height();
      if (h <= node.height()) return;
      if (h > node.height() + 1) {
        if (h == node.height() + 2 && !node.recovering) {
          if (node.early.size() >= 256) node.early.pop_front();
          node.early.push_back(m);
        }
        node.peers.Claim(from, h - 1, std::nullopt, false, now_);
        if (node.sync_peer.empty() || now_ > node.sync_deadline) RequestBlocks(node, from);
        return;
      }
      if (options_.trace && m.has_vote()) {
        std::printf("%s     %s <- %s: vote %s h%llu r%u p%d %s\n", Ms(now_).c_str(), node.id.c_str(),
                    from.c_str(), m.vote().member().c_str(), (unsigned long long)m.vote().height(),
                    m.vote().round(), (int)m.vote().phase(),
                    m.vote().block_hash().empty() ? "nil" : crypto::ToHex(m.vote().block_hash()).substr(0, 12).c_str());
      }
      if (node.liar && m.has_proposal() && m.proposal().proposer() != node.id) {
        // A member relaying another's proposal with another body under the signed header.
        auto relayed = std::make_shared<Msg>();
        relayed->consensus = m;
        relayed->consensus.mutable_proposal()->mutable_block()->add_txs(
            "C-forged-" + std::to_string(Uniform(0, 1'000'000)));
        ++result_.lies;
        Broadcast(node, relayed);
      }
      if (node.recovering || !node.replica) return;  // syncing only
      if (node.active_height != h) StartHeight(node);
      if (!Up(node) || !node.replica || node.active_height != h) return;
      Handle(node, node.replica->OnMessage(m, Clock(node)));
      return;
    }
    case Msg::kStatus: {  // node_sync.cc OnStatus
      node.peers.Claim(from, msg->height, msg->hash, msg->recovering, now_);
      VerifyClaims(node);
      if (node.recovering) TryRecover(node);
      if (!Up(node)) return;
      if (node.peers.ClaimOf(from) > node.height() &&
          (node.sync_peer.empty() || now_ > node.sync_deadline)) {
        RequestBlocks(node, from);
      }
      return;
    }
    case Msg::kBlockRequest: {
      auto response = std::make_shared<Msg>();
      response->kind = Msg::kBlockResponse;
      const std::uint32_t count = std::min(msg->count, kSyncBlocksPerRequestMax);
      for (std::uint64_t h = msg->height; h - msg->height < count && h <= node.height(); ++h) {
        response->blocks.push_back(node.chain[h]);
        if (node.liar) {  // another body under the real header and certificate
          response->blocks.back().block.add_txs("C-substituted-" + std::to_string(Uniform(0, 1'000'000)));
          ++result_.lies;
        }
      }
      Send(node, from, response);
      return;
    }
    case Msg::kBlockResponse: {  // node_sync.cc OnBlockResponse / ApplySyncedBlock
      if (from != node.sync_peer) return;  // late or unasked
      node.sync_peer.clear();
      if (msg->blocks.empty()) {
        if (node.peers.ClaimOf(from) > node.height()) node.peers.Discredit(from, now_);
        return;
      }
      std::size_t applied = 0;
      for (const StoredBlock& b : msg->blocks) {
        if (b.certificate.height() != node.chain.size()) continue;
        const Hash256 hash = consensus::BlockHash(b.block.header());
        if (!node.app->CheckBody(b.block).ok() ||
            !consensus::VerifyCommitCertificate(*node.epoch().set, node.chain.size(), hash, b.certificate).ok() ||
            !node.app->ValidateBlock(node.chain.size(), b.block, Local(node), false).ok()) {
          if (!nodes_.at(from).liar && !forked_) {
            Violation(node.id + ": honest peer " + from + " served a block that does not verify at height " +
                      std::to_string(node.chain.size()));
          }
          node.peers.Discredit(from, now_);
          break;
        }
        Commit(node, b.block, b.certificate, "synced from " + from);
        ++applied;
      }
      if (applied > 0) {
        AfterCommit(node);
        if (auto next = node.peers.SyncPeer(node.height(), "")) RequestBlocks(node, *next);
      }
      return;
    }
    case Msg::kTxs:
      for (const std::string& tx : msg->txs) AddToMempool(node, tx);
      return;
  }
}

// node.cc's transport admits the members of the epoch in force on each side: a node sends only to
// members of its epoch and accepts only from them.
void Simulation::Send(const Node& from, const std::string& to, MsgPtr msg) {
  if (!from.epoch().Has(to)) return;
  if (blocked_.count({from.id, to})) return;
  if (Chance(drop_per_mille_)) return;
  const int copies = Chance(duplicate_per_mille_) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    std::int64_t at = now_ + Uniform(latency_min_, latency_max_);
    if (Chance(hold_per_mille_)) at += Uniform(1'000, 30'000);
    queue_.emplace(std::pair(at, seq_++), [this, to, id = from.id, msg] { Deliver(to, id, msg); });
  }
}

void Simulation::Broadcast(const Node& from, const MsgPtr& msg) {
  for (const std::string& id : ids_) {
    if (id != from.id) Send(from, id, msg);
  }
}

void Simulation::Deliver(const std::string& to, const std::string& from, const MsgPtr& msg) {
  Node& node = nodes_.at(to);
  if (node.mode == Node::kCrashed) return;
  if (!node.epochs.empty() && !node.epoch().Has(from)) return;
  if (node.mode == Node::kPaused) {
    node.inbox.emplace_back(from, msg);
    return;
  }
  ++result_.messages;
  Receive(node, from, msg);
}

// F12: the byzantine member signs a second, different message for the slot of one it just sent
// and sends it to some peers. Votes get another target (nil <-> block, or a hash of no block);
// in two-thirds mode a proposal may get a second, valid block.
// F12: the byzantine member signs a second, different message for the slot of one it just sent.
// Either it sends the second to some peers besides the first, or (a split, when it proposes) it
// sends its proposal to one part of the members and another block to the rest, then prevotes and
// precommits each block to its side: in majority mode that can fork the chain (q + q > n only by
// its own double signature), which the invariants accept only with that evidence in both
// certificates (Commit). Votes without a split get another target (nil <-> block, or a hash of
// no block).
std::set<std::string> Simulation::MaybeEquivocate(Node& node, const cproto::ConsensusMessage& message) {
  const crypto::PrivateKey& key = SimKey(node.index);
  cproto::ConsensusMessage other = message;
  std::set<std::string> side_b;
  if (message.has_vote()) {
    cproto::Vote& v = *other.mutable_vote();
    auto split = splits_.find({v.height(), v.round()});
    const bool follow_split = split != splits_.end() && !v.block_hash().empty() &&
                              v.block_hash() != std::string(crypto::AsBytes(split->second.second));
    if (!follow_split && !Chance(400)) return {};
    std::optional<Hash256> hash;
    if (follow_split) {
      hash = split->second.second;
      side_b = split->second.first;
    } else if (v.block_hash().empty()) {
      hash = crypto::Sha256("no such block " + std::to_string(Uniform(0, 1'000'000)));
    }
    v.set_block_hash(hash ? std::string(crypto::AsBytes(*hash)) : std::string());
    const auto phase = v.phase() == cproto::PHASE_PREVOTE ? consensus::Phase::kPrevote
                                                            : consensus::Phase::kPrecommit;
    auto signature = key.Sign(
        consensus::VoteText(kChainId, node.epoch().number, v.height(), v.round(), phase, hash));
    if (!signature.ok()) return {};
    v.set_signature(*signature);
  } else if (message.has_proposal()) {
    if (!Chance(400)) return {};
    cproto::Proposal& p = *other.mutable_proposal();
    if (p.valid_round() >= 0) return {};
    *p.mutable_block() = node.app->ProposeBlock(p.height(), Local(node) + 1 + Uniform(0, 50));
    p.set_valid_round(-1);
    const Hash256 hash = consensus::BlockHash(p.block().header());
    if (hash == consensus::BlockHash(message.proposal().block().header())) return {};
    auto signature = key.Sign(
        consensus::ProposalText(kChainId, node.epoch().number, p.height(), p.round(),
                                p.valid_round(), hash));
    if (!signature.ok()) return {};
    p.set_signature(*signature);
    if (Chance(500)) {  // a split: half the others see only the second block
      for (const std::string& id : ids_) {
        if (id != node.id && side_b.size() < (ids_.size() - 1) / 2 && Chance(600)) side_b.insert(id);
      }
      if (!side_b.empty()) {
        splits_[{p.height(), p.round()}] = {side_b, hash};
        Event(node.id + " splits height " + std::to_string(p.height()) + " round " +
              std::to_string(p.round()) + ": a second block for " + std::to_string(side_b.size()) +
              " members (F12)");
      }
    }
  } else {
    return {};
  }
  ++result_.equivocations_injected;
  auto msg = std::make_shared<Msg>();
  msg->consensus = other;
  for (const std::string& id : ids_) {
    if (id == node.id) continue;
    if (side_b.count(id) || (side_b.empty() && Chance(600))) Send(node, id, msg);
  }
  return side_b;
}

// ---------------------------------------------------------------------------------------------
// Faults and load

void Simulation::InjectFault() {
  static constexpr const char* kNames[] = {"F1", "F2", "F3",  "F4",  "F5",  "F6",   "F7",
                                           "F8", "F9", "F10", "F11", "F12", "liar", "hold"};
  const auto fault = static_cast<Fault>(Uniform(0, 13));
  const std::int64_t duration = Uniform(2'000, 10'000);
  const std::string name = kNames[static_cast<int>(fault)];
  ++result_.faults;
  ++active_faults_;
  auto later = [&](std::int64_t delay, std::function<void()> fn) {
    queue_.emplace(std::pair(now_ + delay, seq_++), [this, fn = std::move(fn)] {
      fn();
      --active_faults_;
      if (active_faults_ == 0) ScheduleLivenessCheck();
    });
  };
  auto pick = [&](std::size_t count, std::optional<std::string> first = std::nullopt) {
    std::vector<std::string> chosen;
    if (first) chosen.push_back(*first);
    while (chosen.size() < count) {
      const std::string& id = ids_[Uniform(0, static_cast<std::int64_t>(ids_.size()) - 1)];
      if (std::find(chosen.begin(), chosen.end(), id) == chosen.end()) chosen.push_back(id);
    }
    return chosen;
  };
  auto crash_for = [&](const std::vector<std::string>& ids, std::int64_t ms, const std::string& why) {
    std::vector<std::string> crashed;
    for (const std::string& id : ids) {
      Node& node = nodes_.at(id);
      if (node.mode == Node::kRunning) {
        Crash(node, why);
        crashed.push_back(id);
        // The operator copies data/ while the node is down: a later F11 may restore it.
        if (Chance(400)) node.backup = Node::Backup{node.chain, node.replica_state, node.history_complete};
      }
    }
    later(ms, [this, crashed] {
      for (const std::string& id : crashed) {
        Node& node = nodes_.at(id);
        if (node.mode != Node::kCrashed) continue;
        Boot(node);
        Event(id + " restarted at height " + std::to_string(node.height()));
      }
    });
  };
  // A running member loses its data (key and lease kept) and restarts a little later.
  auto wipe_and_restart = [&](const std::string& id, const std::string& how, std::int64_t lo,
                              std::int64_t hi) {
    Node& node = nodes_.at(id);
    if (node.mode != Node::kRunning) return;
    Crash(node, "");
    Event(id + " crashed" + how);
    node.chain.resize(1);
    node.replica_state.clear();
    node.history_complete = false;
    node.pending_evidence.clear();
    for (auto& [key, who] : detected_) who.erase(id);
    ++active_faults_;
    later(Uniform(lo, hi), [this, id] {
      Node& n = nodes_.at(id);
      if (n.mode == Node::kCrashed) Boot(n);
    });
  };
  const std::string proposer = Leader().epoch().set->ProposerFor(MaxHeight() + 1, 0);
  switch (fault) {
    case Fault::kF1: {
      std::string id;
      do id = pick(1)[0]; while (id == proposer);
      crash_for({id}, duration, "(F1 follower kill -9)");
      break;
    }
    case Fault::kF2: {
      Node& node = nodes_.at(proposer);
      if (Chance(500) && node.mode == Node::kRunning) {
        node.mode = Node::kPaused;
        Event(proposer + " paused (F2 SIGSTOP of the proposer of height " +
              std::to_string(MaxHeight() + 1) + ") for " + Ms(kStart + duration));
        later(duration, [this, proposer] {
          Node& n = nodes_.at(proposer);
          if (n.mode != Node::kPaused) return;
          n.mode = Node::kRunning;
          Event(proposer + " resumed (SIGCONT) with " + std::to_string(n.inbox.size()) + " queued messages");
          auto inbox = std::move(n.inbox);
          n.inbox.clear();
          for (auto& [from, msg] : inbox) {
            if (n.mode != Node::kRunning) break;
            ++result_.messages;
            Receive(n, from, msg);
          }
        });
      } else {
        crash_for({proposer}, duration, "(F2 kill -9 of the proposer)");
      }
      break;
    }
    case Fault::kF3:
      crash_for(pick(2), duration, "(F3 two members down)");
      break;
    case Fault::kF4:
      crash_for(pick(3), duration, "(F4 three members down)");
      break;
    case Fault::kF5: {
      const auto minority = pick(ids_.size() / 2);
      std::set<std::string> a(minority.begin(), minority.end());
      for (const std::string& x : ids_) {
        for (const std::string& y : ids_) {
          if (a.count(x) != a.count(y)) blocked_.insert({x, y});
        }
      }
      std::string left, right;
      for (const std::string& x : ids_) (a.count(x) ? left : right) += x + " ";
      Event("partition (F5) { " + left + "} | { " + right + "} for " + Ms(kStart + duration));
      later(duration, [this, a] {
        for (const std::string& x : ids_)
          for (const std::string& y : ids_)
            if (a.count(x) != a.count(y)) blocked_.erase({x, y});
        Event("partition healed");
      });
      break;
    }
    case Fault::kF6: {
      const auto two = pick(2);
      blocked_.insert({two[0], two[1]});
      Event("one-way link loss (F6) " + two[0] + " -> " + two[1] + " for " + Ms(kStart + duration));
      later(duration, [this, two] {
        blocked_.erase({two[0], two[1]});
        Event("link " + two[0] + " -> " + two[1] + " restored");
      });
      break;
    }
    case Fault::kF7: {
      const std::string id = pick(1)[0];
      Node& node = nodes_.at(id);
      if (node.mode != Node::kRunning) {
        --active_faults_;
        break;
      }
      node.crash_point = static_cast<int>(Uniform(0, 3));
      Event(id + " will crash at write step " + std::to_string(node.crash_point) + " (F7)");
      later(duration, [this, id] {
        Node& n = nodes_.at(id);
        n.crash_point = -1;
        if (n.mode != Node::kCrashed) return;
        Boot(n);
        Event(id + " restarted at height " + std::to_string(n.height()));
      });
      break;
    }
    case Fault::kF8: {
      drop_per_mille_ = static_cast<int>(Uniform(50, 300));
      duplicate_per_mille_ = static_cast<int>(Uniform(50, 200));
      latency_min_ = 1;
      latency_max_ = Uniform(100, 600);
      chaos_ = true;
      Event("lossy network (F8): drop " + std::to_string(drop_per_mille_) + "/1000, duplicate " +
            std::to_string(duplicate_per_mille_) + "/1000, latency 1.." +
            std::to_string(latency_max_) + " ms, replays and foreign-chain messages, for " +
            Ms(kStart + duration));
      later(duration, [this] {
        drop_per_mille_ = duplicate_per_mille_ = 0;
        latency_min_ = 2;
        latency_max_ = 12;
        chaos_ = false;
        Event("network clean again");
      });
      break;
    }
    case Fault::kF9: {
      const std::string id = pick(1)[0];
      const std::int64_t skew = (Chance(500) ? 1 : -1) * Uniform(kClockSkewMaxMs + 1'000, 30'000);
      nodes_.at(id).clock_offset = skew;
      Event(id + " clock skewed by " + std::to_string(skew) + " ms (F9) for " + Ms(kStart + duration));
      later(duration, [this, id] {
        nodes_.at(id).clock_offset = 0;
        Event(id + " clock corrected");
      });
      break;
    }
    case Fault::kF10:
    case Fault::kF11: {
      const std::string id = pick(1)[0];
      Node& node = nodes_.at(id);
      if (node.mode == Node::kCrashed) {
        --active_faults_;
        break;
      }
      Crash(node, "");
      if (fault == Fault::kF10) {
        const std::size_t keep = static_cast<std::size_t>(
            Uniform(1, static_cast<std::int64_t>(node.chain.size())));
        Event(id + " crashed; block store truncated from height " + std::to_string(node.height()) +
              " to " + std::to_string(keep - 1) + " (F10)");
        node.chain.resize(keep);
      } else {
        // F11: the signing history is lost, the key and the lease (outside data/) are kept:
        // data/ removed or emptied, or killed right after a fresh store was made (all three
        // leave a store without the "history complete" record), or replaced by an older copy.
        const bool restore = node.backup.has_value() && Chance(500);
        if (restore) {
          Event(id + " crashed; data/ restored from a copy at height " +
                std::to_string(node.backup->chain.size() - 1) + " (F11; it was at " +
                std::to_string(node.height()) + ")");
          node.chain = node.backup->chain;
          node.replica_state = node.backup->replica_state;
          node.history_complete = node.backup->history_complete;
        } else {
          static constexpr const char* kHow[] = {"removed", "emptied", "killed after a fresh store was made"};
          Event(id + " crashed; data/ " + kHow[Uniform(0, 2)] + ", key kept (F11) at height " +
                std::to_string(node.height()));
          node.chain.resize(1);
          node.replica_state.clear();
          node.history_complete = false;
        }
        node.pending_evidence.clear();
        for (auto& [key, who] : detected_) who.erase(id);
        // Sometimes a second member at once (the chain may then halt, safely, until one recovers),
        // while fewer than a quorum lose their data: a block a quorum committed keeps one copy
        // (losing it on a whole quorum is outside the fault model, docs/consensus.md §12).
        if (Chance(250) && Leader().epoch().set->quorum() > 2) {
          wipe_and_restart(pick(2, id)[1], "too; data/ removed, key kept (F11, two at once)", 500, 3'000);
        }
      }
      later(Uniform(500, 3'000), [this, id] {
        Node& n = nodes_.at(id);
        if (n.mode != Node::kCrashed) return;
        Boot(n);
        Event(id + " restarted at height " + std::to_string(n.height()) +
              (n.recovering ? ", recovering its signing floor" : ""));
      });
      break;
    }
    case Fault::kLiar: {
      if (!byzantine_ever_) byzantine_ = pick(1)[0];
      byzantine_ever_ = true;
      const std::string liar = *byzantine_;
      nodes_.at(liar).liar = true;
      Event(liar + " lies (forged heights in status, substituted bodies in sync answers and relayed "
            "proposals) for " + Ms(kStart + duration));
      // Named scenario: a member wiped while another lies (the recovery must not believe it).
      if (Chance(600)) {
        wipe_and_restart(pick(2, liar)[1], "; data/ removed, key kept, while " + liar + " lies (F11)", 200, 1'000);
      }
      later(duration, [this, liar] {
        nodes_.at(liar).liar = false;
        Event(liar + " stops lying");
      });
      break;
    }
    case Fault::kHold: {
      hold_per_mille_ = static_cast<int>(Uniform(20, 150));
      Event("messages held (" + std::to_string(hold_per_mille_) +
            "/1000 of them for 1-30 s, then delivered) for " + Ms(kStart + duration));
      later(duration, [this] {
        hold_per_mille_ = 0;
        Event("no more messages held (those held are still delivered late)");
      });
      break;
    }
    case Fault::kF12: {
      if (!byzantine_ever_) byzantine_ = pick(1)[0];
      byzantine_ever_ = true;
      nodes_.at(*byzantine_).byzantine = true;
      Event(*byzantine_ + " equivocates (F12) for " + Ms(kStart + duration));
      later(duration, [this] {
        nodes_.at(*byzantine_).byzantine = false;
        Event(*byzantine_ + " stops equivocating");
      });
      break;
    }
  }
}

void Simulation::SubmitClientTx() {
  const std::string& id = ids_[Uniform(0, static_cast<std::int64_t>(ids_.size()) - 1)];
  Node& node = nodes_.at(id);
  const std::string tx = "C" + std::to_string(++client_seq_);
  ++result_.txs_submitted;
  if (node.mode != Node::kRunning) return;  // the client sees an error: not acknowledged
  submitted_to_[tx] = id;
  AddToMempool(node, tx);
  auto gossip = std::make_shared<Msg>();
  gossip->kind = Msg::kTxs;
  gossip->txs.push_back(tx);
  Broadcast(node, gossip);
}

// docs/consensus.md §7: a member proposes a membership change (committed once in a block): re-add
// a removed member, remove one (while more than three remain) or switch the quorum rule.
void Simulation::ProposeMembershipChange() {
  const Epoch& current = Leader().epoch();
  std::vector<std::string> removed;
  for (const std::string& id : ids_) {
    if (!current.Has(id)) removed.push_back(id);
  }
  const std::int64_t choice = Uniform(0, 2);
  std::string change;
  if (choice == 0 && !removed.empty()) {
    change = "add:" + removed[Uniform(0, static_cast<std::int64_t>(removed.size()) - 1)];
  } else if (choice == 1 && current.members.size() > 3) {
    change = "remove:" + current.members[Uniform(0, static_cast<std::int64_t>(current.members.size()) - 1)];
  } else {
    change = std::string("quorum:") +
             (current.rule == consensus::QuorumRule::kMajority ? "two-thirds" : "majority");
  }
  const std::string tx = "M" + std::to_string(++membership_seq_) + ":" + change;
  const std::string& via = current.members[Uniform(0, static_cast<std::int64_t>(current.members.size()) - 1)];
  Node& node = nodes_.at(via);
  if (node.mode != Node::kRunning) {
    Event("membership change " + change + " not proposed: " + via + " is down");
    return;
  }
  Event("membership change " + change + " proposed via " + via);
  AddToMempool(node, tx);
  auto gossip = std::make_shared<Msg>();
  gossip->kind = Msg::kTxs;
  gossip->txs.push_back(tx);
  Broadcast(node, gossip);
}

// F8: an old message replayed, or a vote signed for another chain; both must change nothing.
void Simulation::ReplayOrForge() {
  const std::string& to = ids_[Uniform(0, static_cast<std::int64_t>(ids_.size()) - 1)];
  auto msg = std::make_shared<Msg>();
  if (!recent_.empty() && Chance(500)) {
    msg->consensus = recent_[Uniform(0, static_cast<std::int64_t>(recent_.size()) - 1)];
  } else {
    const std::size_t signer = static_cast<std::size_t>(Uniform(0, static_cast<std::int64_t>(ids_.size()) - 1));
    const std::uint64_t height = nodes_.at(to).height() + 1;
    const Hash256 hash = crypto::Sha256("foreign block " + std::to_string(height));
    auto signature = SimKey(signer).Sign(
        consensus::VoteText("colend-other-chain", 0, height, 0, consensus::Phase::kPrevote, hash));
    if (!signature.ok()) return;
    cproto::Vote& v = *msg->consensus.mutable_vote();
    v.set_height(height);
    v.set_round(0);
    v.set_phase(cproto::PHASE_PREVOTE);
    v.set_block_hash(std::string(crypto::AsBytes(hash)));
    v.set_member(ids_[signer]);
    v.set_signature(*signature);
  }
  const std::string& from = ids_[Uniform(0, static_cast<std::int64_t>(ids_.size()) - 1)];
  if (from == to) return;
  queue_.emplace(std::pair(now_ + Uniform(1, 50), seq_++), [this, to, from, msg] { Deliver(to, from, msg); });
}

bool Simulation::HaltedByDesign() const {
  const Node& reference = Leader();
  const Epoch& epoch = reference.epoch();
  std::size_t may_sign = 0;
  for (const auto& [id, node] : nodes_) {
    if (epoch.Has(id) && node.mode == Node::kRunning && !node.recovering && node.replica &&
        node.replica->sign_floor() <= MaxHeight() + 1) {
      ++may_sign;
    }
  }
  return may_sign < epoch.set->quorum();
}

void Simulation::ScheduleLivenessCheck() {
  const std::uint64_t token = ++heal_token_;
  const std::uint64_t height = MaxHeight();
  queue_.emplace(std::pair(now_ + kLivenessMs, seq_++), [this, token, height] {
    if (token != heal_token_ || active_faults_ != 0) return;  // another fault came meanwhile
    bool pending = false, all_up = true;
    for (const auto& [id, node] : nodes_) {
      pending = pending || std::any_of(node.mempool.begin(), node.mempool.end(),
                                       [](const auto& e) { return e.second.starts_with("C"); });
      all_up = all_up && node.mode == Node::kRunning;
    }
    if (!pending || !all_up || MaxHeight() > height || HaltedByDesign() || forked_) return;
    Violation("liveness: every fault had healed at " + Ms(now_ - kLivenessMs) +
              ", transactions were pending, and no block committed in " + Ms(kStart + kLivenessMs));
  });
}

void Simulation::HealAll() {
  blocked_.clear();
  drop_per_mille_ = duplicate_per_mille_ = 0;
  latency_min_ = 2;
  latency_max_ = 12;
  chaos_ = false;
  hold_per_mille_ = 0;
  for (auto& [id, node] : nodes_) {
    node.clock_offset = 0;
    node.byzantine = false;
    node.liar = false;
    node.crash_point = -1;
    if (node.mode == Node::kPaused) {
      node.mode = Node::kRunning;
      auto inbox = std::move(node.inbox);
      node.inbox.clear();
      for (auto& [from, msg] : inbox) {
        if (node.mode != Node::kRunning) break;
        Receive(node, from, msg);
      }
    }
    if (node.mode == Node::kCrashed) Boot(node);
  }
  Event("all faults healed; heights:" + [&] {
    std::string s;
    for (const auto& [id, node] : nodes_) s += " " + std::to_string(node.height());
    return s;
  }());
}

// ---------------------------------------------------------------------------------------------
// Event loop

bool Simulation::Step(std::int64_t until) {
  std::int64_t next = queue_.empty() ? kNever : queue_.begin()->first.first;
  for (auto& [id, node] : nodes_) {
    if (node.mode != Node::kRunning) continue;
    next = std::min({next, node.next_housekeeping, node.start_at});
    if (node.active_height != 0 && node.replica) next = std::min(next, node.replica->next_deadline_ms());
  }
  if (next > until) return false;
  now_ = std::max(now_, next);
  if (!queue_.empty() && queue_.begin()->first.first <= now_) {
    auto fn = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    fn();
    return true;
  }
  for (auto& [id, node] : nodes_) {
    if (node.mode != Node::kRunning) continue;
    if (node.next_housekeeping <= now_) Housekeeping(node);
    if (node.mode == Node::kRunning && node.start_at <= now_) StartHeight(node);
    if (node.mode == Node::kRunning && node.active_height != 0 && node.replica &&
        node.replica->next_deadline_ms() <= now_) {
      Handle(node, node.replica->OnTick(Clock(node)));
    }
  }
  return true;
}

SimResult Simulation::Run() {
  for (auto& [id, node] : nodes_) Boot(node);
  const std::int64_t fault_end = kStart + options_.fault_ms;
  const std::int64_t end = fault_end + options_.heal_ms;
  load_until_ = end - std::min<std::int64_t>(options_.heal_ms / 2, 15'000);
  // Recurring drivers, each scheduled through the queue so the order is fixed by the seed.
  std::function<void()> load = [&] {
    SubmitClientTx();
    if (now_ < load_until_) queue_.emplace(std::pair(now_ + Uniform(300, 1'500), seq_++), load);
  };
  std::function<void()> faults = [&] {
    if (now_ >= fault_end) return;
    if (active_faults_ < 2) InjectFault();
    queue_.emplace(std::pair(now_ + Uniform(1'000, 4'000), seq_++), faults);
  };
  std::function<void()> membership = [&] {
    if (now_ >= fault_end) return;
    ProposeMembershipChange();
    queue_.emplace(std::pair(now_ + Uniform(5'000, 15'000), seq_++), membership);
  };
  std::function<void()> chaos = [&] {
    if (chaos_) ReplayOrForge();
    if (now_ < fault_end) queue_.emplace(std::pair(now_ + 97, seq_++), chaos);
  };
  queue_.emplace(std::pair(now_ + 10, seq_++), load);
  queue_.emplace(std::pair(now_ + 2'000, seq_++), faults);
  queue_.emplace(std::pair(now_ + 50, seq_++), chaos);
  if (options_.membership_changes) {
    queue_.emplace(std::pair(now_ + Uniform(3'000, 12'000), seq_++), membership);
  }
  while (Step(fault_end)) {
  }
  now_ = fault_end;
  // Pending fault endings still run (they restart what they stopped); then heal the rest.
  HealAll();
  const std::uint64_t height_at_heal = MaxHeight();
  while (Step(end)) {
  }
  now_ = end;

  // Final invariants.
  for (const std::string& c : sign_log_.conflicts()) Violation("double signature: " + c);
  // The network's final epoch is the furthest node's; its members must converge. A node that is
  // not a member is admitted by no member (node.cc transport): it keeps a prefix of the chain.
  const Node& reference = Leader();
  const Epoch& final_epoch = reference.epoch();
  bool converged = true;
  for (const auto& [id, node] : nodes_) {
    if (node.mode != Node::kRunning) {
      Violation(id + " is not running at the end");
      converged = false;
    }
    if (final_epoch.Has(id) &&
        (node.height() != reference.height() || node.chain.back().hash != reference.chain.back().hash)) {
      converged = false;
    }
    for (std::size_t h = 1; h < node.chain.size(); ++h) {
      auto it = committed_.find(h);
      if ((it == committed_.end() || it->second != node.chain[h].hash) && !forked_) {
        Violation(id + " holds a block at height " + std::to_string(h) + " that differs from the first committed one");
        break;
      }
    }
  }
  if (forked_) {
    Event("forked by an equivocating member in majority mode: convergence, durability and "
          "liveness are not judged");
    converged = true;
  }
  if (!converged) {
    std::string heights;
    for (const auto& [id, node] : nodes_) heights += " " + id + "=" + std::to_string(node.height());
    Violation("convergence: nodes did not reach the same chain within " + Ms(kStart + options_.heal_ms) +
              " of healing:" + heights);
  }
  if (final_epoch.number > 0) {
    Event("final membership epoch " + std::to_string(final_epoch.number) + ": " +
          std::string(consensus::QuorumRuleName(final_epoch.rule)) + ", " +
          std::to_string(final_epoch.members.size()) + " members");
  }
  // Members whose signing history was wiped sign nothing below their floor (F11). If too few
  // others remain to form a quorum the network halts, safely, by design.
  const bool halted_by_design = HaltedByDesign();
  if (halted_by_design) {
    Event("halted safely: too few members may sign at height " +
          std::to_string(MaxHeight() + 1) + " (the others' signing history was wiped)");
  }
  if (MaxHeight() <= height_at_heal && load_until_ > fault_end && !halted_by_design && !forked_) {
    Violation("liveness: no block committed after every fault healed (height " +
              std::to_string(height_at_heal) + ")");
  }
  // Durability: every acknowledged transaction is in the chain exactly once, on every member's
  // node (and at most once on any node).
  for (const auto& [id, node] : nodes_) {
    std::map<std::string, int> count;
    for (const StoredBlock& b : node.chain)
      for (const std::string& tx : b.block.txs()) ++count[tx];
    for (const auto& [tx, n] : count) {
      if (n > 1) Violation(id + ": transaction " + tx.substr(0, 40) + " committed " + std::to_string(n) + " times");
    }
    if (!final_epoch.Has(id)) continue;
    for (const std::string& tx : acknowledged_) {
      if (count[tx] != 1 && !forked_) Violation(id + ": acknowledged transaction " + tx + " is missing");
    }
  }
  // Accountability: every equivocation an honest member detected (and did not lose in a wipe) is
  // committed as evidence. (A detector that is no longer a member cannot reach the others.)
  std::set<std::string> committed_keys;
  for (const StoredBlock& b : reference.chain)
    for (const std::string& tx : b.block.txs())
      if (tx.starts_with("E")) committed_keys.insert(EvidenceKeyOf(tx));
  for (const auto& [key, who] : detected_) {
    std::vector<std::string> members;
    for (const std::string& id : who) {
      if (final_epoch.Has(id)) members.push_back(id);
    }
    if (!members.empty() && !committed_keys.count(key) && !halted_by_design && !forked_) {
      Violation("accountability: equivocation " + key + " detected by " + members.front() +
                " was never committed");
    }
  }
  result_.equivocations_detected = detected_.size();
  result_.evidence_committed = committed_keys.size();
  result_.txs_acknowledged = acknowledged_.size();
  result_.height = converged ? reference.height() : 0;
  return result_;
}

}  // namespace

std::string SimResult::Summary() const {
  std::ostringstream out;
  out << "height " << height << ", " << faults << " faults, " << txs_acknowledged << "/"
      << txs_submitted << " transactions acknowledged, equivocations " << equivocations_injected
      << " injected / " << equivocations_detected << " detected / " << evidence_committed
      << " committed as evidence, " << lies << " lies, " << forks_with_evidence
      << " forks with evidence, " << messages << " messages, " << violations.size()
      << " violations";
  return out.str();
}

SimResult RunSimulation(const SimOptions& options) {
  Simulation simulation(options);
  return simulation.Run();
}

}  // namespace colend::sim
