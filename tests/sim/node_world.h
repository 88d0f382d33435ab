// The world of colend-sim (node_world.cc): its members, event queue, network and
// faults. Shared by node_world.cc (hosting the nodes), node_world_faults.cc (faults, load and
// the Byzantine member) and node_world_checks.cc (the invariants). See node_world.cc.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "fault_env.h"
#include "genesis/builder.h"
#include "genesis/genesis.h"
#include "node/node_impl.h"
#include "sim.h"

namespace colend::sim::world {

using json = nlohmann::json;
using node::detail::Node;
using node::detail::NodeHost;

// 2026-09-21 10:00 in Asia/Shanghai: no business day ends during a run.
constexpr std::int64_t kStartMs = 1'789'956'000'000;
constexpr std::int64_t kSkewMaxMs = 2'000;        // each member's clock is off by at most this
constexpr std::int64_t kCheckEveryMs = 500;       // agreement and block-time checks
constexpr std::int64_t kPausePollMs = 250;        // a paused member's events wait in such steps
constexpr std::uint64_t kFloorSlack = 10;         // a signing floor above the top by more: forged
constexpr std::uint64_t kForkEvidenceHeights = 30; // a branch this far past a fork holds its evidence
constexpr std::int64_t kFaultWindowMs = 10'000;   // faults are drawn in windows this long,
constexpr std::int64_t kHealPeriodMs = 35'000;    // each followed by a period with none,
// in which a block must commit within this. Not less: when the quorum needs every member that
// may sign, one of them locked during the faults on a block whose polka some proposers missed
// prevotes nil until a proposer that saw it proposes that block again, up to n rounds later
// with growing timeouts (seeds 262 majority and 264 two-thirds took 15-19 s).
constexpr std::int64_t kLivenessMs = 30'000;
// A member whose disk fails while it is behind must have stopped within this (its first synced
// block fails to store; sync answers come within a few hundred ms of its return).
constexpr std::int64_t kFailingDiskStopMs = 3'000;

class World;
class SimNetwork;

// A named scenario (node_world_faults.cc, kScenarios): one fault kind of World::InjectFault
// (-1: none), or one lie of the Byzantine member.
struct Scenario {
  // What a scenario changes in its fault kind (flags).
  enum Variant { kPlain = 0, kTwoAtOnce = 1, kRuleSwitch = 2, kTruncate = 4 };
  const char* name;
  int kind;
  const char* lie;  // "" (no Byzantine member), status, sync, relay, votes, split
  const char* what;
  int variant = kPlain;
};
const Scenario* FindScenario(const std::string& name);

struct Member {
  explicit Member(genesis::BuiltMember built) : keys(std::move(built)) {}
  std::size_t index = 0;
  std::string id;
  genesis::BuiltMember keys;
  std::unique_ptr<FaultEnv> env;  // the data directory: survives a crash, not a wipe
  std::unique_ptr<FaultEnv> backup;  // a copy of data/ taken while the node was stopped
  std::uint64_t backup_height = 0;
  bool corrupted = false;         // a byte of its store was flipped since it last started clean
  bool disk_failing = false;      // every write of its store fails (failing-disk) until replaced
  std::string home;                   // the signing lease and documents (survive a wipe)
  std::unique_ptr<Node> node;
  SimNetwork* net = nullptr;
  std::uint64_t incarnation = 0;  // events of an earlier run of the process are dropped
  std::int64_t skew_ms = 0;
  std::int64_t base_skew_ms = 0;  // within the genesis bound; F9 moves skew_ms beyond it a while
  std::int64_t paused_until = 0;
  bool up = false;
  std::uint64_t checked_height = 0;  // heights already compared with the world's chain
  std::uint64_t nonce = 0;
};

class World {
 public:
  World(const SimOptions& options, SimResult* result)
      : options_(options), result_(result), rng_(options.seed) {}
  ~World();

  bool Setup();
  void Run();

  std::int64_t now() const { return now_; }
  // Runs `fn` at `at` as an event of `member`'s current process: dropped if it crashed since,
  // deferred while it is paused.
  void AtMember(Member& member, std::int64_t at, std::function<void()> fn);
  void Transmit(const Member& from, const std::string& to, std::string frame);
  bool LinkOpen(const std::string& from, const std::string& to) const {
    return cut_.count({from, to}) == 0;
  }
  bool IsUp(const std::string& id) const {
    auto it = by_id_.find(id);
    return it != by_id_.end() && it->second->up;
  }
  void Violation(const std::string& what) {
    result_->violations.push_back("t=" + std::to_string(now_ - kStartMs) + "ms " + what);
  }

 private:
  void At(std::int64_t at, std::function<void()> fn) { queue_.emplace(std::make_pair(at, seq_++), std::move(fn)); }
  void RunUntil(std::int64_t end);
  bool Boot(Member& member, bool first);
  void Crash(Member& member, const std::string& why);
  // F7 during Boot: drops the unsynced writes, clears the crash point, starts it again in 1 s;
  // false (Boot's answer).
  bool KilledWhileStarting(Member& member, const std::string& when);
  // Starts `member` again at `at` unless it runs by then; the event says it `how` ("restarts").
  void RestartAt(Member& member, std::int64_t at, const std::string& how);
  void Event(const std::string& what) {
    result_->events.push_back("t=" + std::to_string((now_ - kStartMs) / 1000) + "s " + what);
  }
  std::int64_t Uniform(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  Member& Random() { return *members_[static_cast<std::size_t>(Uniform(0, static_cast<std::int64_t>(members_.size()) - 1))]; }
  void Stopped(Member& member);
  // failing-disk: the operator replaces the disk of a member whose writes all fail (after
  // `judge`: a member still running then, behind the others, has not stopped as it must) and
  // starts it again on the same data.
  void ReplaceFailingDisk(Member& member, bool judge);
  void OperatorMovesDataAside(Member& member);
  void ObserveSigned(const std::string& frame);
  // The Byzantine member's network (node_world_faults.cc): what it sends `to` instead of
  // `frame` (lies about heights and bodies, votes signed twice, a second block for some peers).
  std::string Tamper(const Member& from, const std::string& to, const std::string& frame);
  // F12 split (node_world_faults.cc): the Byzantine member's node builds a second real block
  // for the height of its proposal `message`, signs a proposal of it and picks the peers that
  // see only that one. Recorded in splits_ (an entry with no peers: no split at this slot).
  void MaybeSplit(const Member& from, const node::proto::PeerMessage& message);
  // Two blocks committed at `height` (the first seen `a`, then `b`, as "block" RPC answers):
  // accepted only as a fork by the Byzantine member in majority mode, whose precommits for both
  // blocks, each verified against its key, are in the two certificates and who is the only
  // member in both. Otherwise why it is not.
  bool ForkHasEvidence(std::uint64_t height, const json& a, const json& b, std::string* why);
  // F7: kills every member whose store reached its crash point (after each event).
  void KillAtCrashPoints();
  // F8: a recent frame delivered again, or a vote signed for another chain.
  void ReplayOrForge();
  void InjectFault();
  // Signs a transaction of `member` and submits it to its own node; the id once admitted.
  Result<crypto::Hash256> SubmitTx(Member& member, const std::string& type,
                                   std::map<std::string, std::string> fields);
  void Submit();
  void ProposeMembershipChange();
  void Check();
  void FinalChecks();
  // Ends every fault: restarts the members that are down, heals the network and the clocks.
  void HealAll(const std::string& why);
  void CheckLiveness(std::uint64_t height_at_heal, std::int64_t healed_at);
  std::uint64_t TopHeight();
  // Fewer members of the epoch in force at the top may sign its next height than its quorum
  // (the others' signing history was lost: docs/consensus.md §10.6); `why` says so.
  bool HaltedByDesign(std::string* why);
  Result<json> Call(Member& member, const std::string& method, const json& params);

  // Whether the Byzantine member tells this kind of lie (all of them outside a scenario).
  bool Lies(const char* kind) const;
  // Whether the scenario run has this variant (never outside a scenario).
  bool Variant(int flag) const { return scenario_ != nullptr && (scenario_->variant & flag) != 0; }

  SimOptions options_;
  SimResult* result_;
  const Scenario* scenario_ = nullptr;
  std::mt19937_64 rng_;
  std::int64_t now_ = kStartMs;
  std::uint64_t seq_ = 0;
  std::map<std::pair<std::int64_t, std::uint64_t>, std::function<void()>> queue_;
  genesis::Genesis genesis_;
  std::string root_;  // temporary directory of the members' homes
  std::vector<std::unique_ptr<Member>> members_;
  std::map<std::string, Member*> by_id_;
  std::set<std::pair<std::string, std::string>> cut_;  // directed links that lose every frame
  double loss_ = 0;          // probability a frame is lost (fault phase only)
  std::set<std::string> holding_;  // members whose outgoing frames are held 1-30 s
  std::int64_t clock_fault_until_ = 0;  // an F9 clock fault is on until then
  bool faults_on_ = true;
  std::map<std::uint64_t, std::string> chain_;  // height -> block hash and tx ids, as first seen
  std::map<std::uint64_t, json> first_blocks_;  // height -> that block ("block" RPC answer)
  bool forked_ = false;  // a fork with its evidence: convergence is no longer expected
  std::set<std::uint64_t> fork_heights_;
  std::set<std::string> forged_floor_reported_;  // members already reported with such a floor
  struct Split {
    std::set<std::string> side_b;  // the peers shown the second block instead
    std::string hash_a;            // the first block's hash (raw bytes, as in a vote)
    crypto::Hash256 hash_b{};      // the second's
    std::uint64_t epoch = 0;       // of the height (from the block header)
    std::string frame_b;           // the second proposal, signed
  };
  std::map<std::pair<std::uint64_t, std::uint32_t>, Split> splits_;  // (height, round)
  // tx id -> when and by which member's node it was admitted
  struct Admission {
    std::int64_t at = 0;
    std::string by;
    std::uint64_t incarnation = 0;  // of the admitting node's process
  };
  std::map<std::string, Admission> acknowledged_;
  std::int64_t fault_end_ = 0;
  std::ostringstream quiet_log_;
  std::set<std::string> history_lost_;  // members a fault made lose their signing history
  std::size_t history_loss_max_ = 0;      // n - q, or one more in one seed of ten
  std::deque<std::pair<std::string, std::string>> recent_;  // (sender, consensus frame) for F8
  std::string byzantine_;  // the member whose frames lie and whose votes may be signed twice
  std::uint64_t epoch_ = 0;  // the membership epoch most recently seen in force
  std::uint64_t membership_changes_ = 0;  // proposed so far
  // (member, height, round, phase or -1 for a proposal) -> what it signed there
  std::map<std::tuple<std::string, std::uint64_t, std::uint32_t, int>, std::string> signed_;
};

class SimTimer final : public node::detail::HostTimer {
 public:
  SimTimer(World& world, Member& member) : world_(world), member_(member) {}
  void Arm(std::int64_t delay_ms, std::function<void()> fire) override {
    const std::uint64_t generation = ++*generation_;
    std::weak_ptr<std::uint64_t> alive = generation_;
    world_.AtMember(member_, world_.now() + std::max<std::int64_t>(0, delay_ms),
                    [alive, generation, fire = std::move(fire)] {
                      auto current = alive.lock();
                      if (current && *current == generation) fire();
                    });
  }
  void Cancel() override { ++*generation_; }

 private:
  World& world_;
  Member& member_;
  std::shared_ptr<std::uint64_t> generation_ = std::make_shared<std::uint64_t>(0);
};

// The node's PeerNetwork: frames go through World::Transmit. Connections are up while both
// members run; a partition loses frames on a link that stays up (as colend-node's transport
// fault hook does).
class SimNetwork final : public node::PeerNetwork {
 public:
  SimNetwork(World& world, Member& self, FrameHandler on_frame, PeerHandler on_peer)
      : world_(world), self_(self), on_frame_(std::move(on_frame)), on_peer_(std::move(on_peer)) {}
  bool Start(std::string*) override { return true; }
  void Stop() override {}
  void Send(const std::string& peer, std::string frame) override {
    if (peers_.count(peer) != 0) world_.Transmit(self_, peer, std::move(frame));
  }
  void Broadcast(const std::string& frame) override {
    for (const std::string& peer : peers_) world_.Transmit(self_, peer, frame);
  }
  void SetPeers(const std::vector<node::PeerAddress>& peers) override {
    peers_.clear();
    for (const auto& peer : peers) peers_.insert(peer.id);
  }
  bool SetIdentity(const std::string&, const std::string&, std::string*) override { return true; }
  std::vector<std::string> ConnectedPeers() const override {
    std::vector<std::string> up;
    for (const std::string& peer : peers_) {
      if (world_.IsUp(peer)) up.push_back(peer);
    }
    return up;
  }
  std::uint16_t listen_port() const override { return 0; }

  // Frames from peers of the epoch in force only (the transport refuses a removed member).
  void Deliver(const std::string& from, const std::string& frame) {
    if (peers_.count(from) != 0) on_frame_(from, frame);
  }
  void Connection(const std::string& peer, bool up) {
    if (peers_.count(peer) != 0) on_peer_(peer, up);
  }

 private:
  World& world_;
  Member& self_;
  FrameHandler on_frame_;
  PeerHandler on_peer_;
  std::set<std::string> peers_;
};

}  // namespace colend::sim::world
