// colend-sim: whole networks of the real node logic under faults (sim.h,
// docs/consensus.md §12-§13).
//
// Each member is colend-node's own node::detail::Node (replica, ledger and contracts, LevelDB
// store, mempool, gossip, block sync, signing lease and recovery, equivocation evidence, the
// JSON-RPC methods) on the host interfaces colend-node gives it over Asio and TLS
// (node/node_impl.h NodeHost, node/peer_network.h): here simulated time, a simulated network
// and LevelDB on an in-memory file system that can lose unsynced writes or be damaged
// (fault_env.h). The signing lease and the documents are real files in a temporary directory
// per member. Nothing of the node is re-implemented here: the world only schedules events,
// carries frames, injects faults and checks.
//
// Faults (each healing after 1-10 s, during the fault phase): crashes and restarts; kills at a
// store write (F7); wiped data directories, older copies, half-made stores (the lease survives,
// F11); power losses (unsynced writes lost); damaged stores (a flipped byte; the operator moves
// data/ aside once the node refuses it); pauses; a member cut off; lossy networks; frames held
// 1-30 s, duplicated or replayed, votes for another chain (F8); clocks beyond the bound (F9);
// a disk that fails every write (scenario failing-disk only);
// membership changes by real transactions; a Byzantine member (node_world_faults.cc).
// Checks: every height has one block at every member (agreement); no member signs two different
// votes or proposals for one (height, round, kind), seen on the wire; block times within the
// clock-skew bound of true time; no fatal stop and no refused read unless its store was damaged;
// a member whose disk fails every write stops rather than run on behind the others;
// after the quiet phase every member is at one height and every transaction admitted in it has
// committed, unless fewer than a quorum may sign (a halt by design, docs/consensus.md §10).
//
// Replays: not exact. ECDSA signatures are randomised and reach block hashes, and one generator
// per seed draws faults and network randomness in event order, so a seed may run differently
// twice (docs/consensus.md §13).
#include "node_world.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "node/ledger.h"

namespace colend::sim {
namespace world {

World::~World() {
  for (auto& member : members_) member->node.reset();
  if (!root_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
}

void World::AtMember(Member& member, std::int64_t at, std::function<void()> fn) {
  At(at, [this, &member, incarnation = member.incarnation, fn = std::move(fn)]() mutable {
    if (!member.up || member.incarnation != incarnation) return;
    if (member.paused_until > now_) {
      // In steps, so that a healing that ends the pause early releases it at once.
      AtMember(member, std::min(member.paused_until, now_ + kPausePollMs), std::move(fn));
      return;
    }
    try {
      fn();
    } catch (const contracts::StateStorageError&) {
      // What colend-node's io loop does (node/startup.cc): the damaged store already stopped
      // the node (host.stop); the rest of this step is not run.
    }
  });
}

void World::Transmit(const Member& from, const std::string& to, std::string frame) {
  ++result_->messages;
  if (faults_on_ && from.id == byzantine_) frame = Tamper(from, to, frame);
  ObserveSigned(frame);
  if (faults_on_ && Chance(0.01)) {
    recent_.emplace_back(from.id, frame);
    if (recent_.size() > 200) recent_.pop_front();
  }
  auto it = by_id_.find(to);
  if (it == by_id_.end() || !LinkOpen(from.id, to)) return;
  if (faults_on_ && Chance(loss_)) return;
  Member& target = *it->second;
  std::int64_t delay = Uniform(1, 30);
  if (faults_on_ && holding_.count(from.id) != 0 && Chance(0.5)) delay = Uniform(1'000, 30'000);
  const int copies = faults_on_ && Chance(0.02) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    AtMember(target, now_ + delay + i * Uniform(0, 200), [&target, from = from.id, frame] {
      if (target.net != nullptr) target.net->Deliver(from, frame);
    });
  }
}

bool World::Setup() {
  genesis::ConsortiumOptions consortium;
  consortium.members = static_cast<int>(options_.nodes);
  consortium.quorum = std::string(consensus::QuorumRuleName(options_.rule));
  consortium.chain_id = "colend-sim-" + std::to_string(options_.seed);
  consortium.now_ms = kStartMs;
  auto built = genesis::BuildConsortium(consortium);
  if (!built.ok()) {
    Violation("cannot build the consortium: " + built.error().ToString());
    return false;
  }
  auto parsed = genesis::ParseGenesis(built->genesis_text);
  if (!parsed.ok()) {
    Violation("cannot parse the genesis: " + parsed.error().ToString());
    return false;
  }
  genesis_ = std::move(parsed).value();
  const char* shm = "/dev/shm";
  std::error_code ec;
  std::string pattern = (std::filesystem::is_directory(shm, ec) ? std::string(shm)
                                                               : std::filesystem::temp_directory_path().string()) +
                        "/colend-sim-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    Violation("cannot make a temporary directory");
    return false;
  }
  root_ = pattern;
  for (std::size_t i = 0; i < built->members.size(); ++i) {
    auto member = std::make_unique<Member>(built->members[i]);
    member->index = i;
    member->id = built->members[i].id;
    member->home = root_ + "/" + member->id;
    std::filesystem::create_directories(member->home, ec);
    member->env = std::make_unique<FaultEnv>();
    member->skew_ms = member->base_skew_ms = Uniform(-kSkewMaxMs, kSkewMaxMs);
    by_id_[member->id] = member.get();
    members_.push_back(std::move(member));
  }
  // Half the seeds have one Byzantine member (more than one of five is beyond the fault model);
  // a scenario of its lies always, another scenario never.
  if (!options_.scenario.empty()) {
    scenario_ = FindScenario(options_.scenario);
    if (scenario_ == nullptr) {
      Violation("no scenario named " + options_.scenario);
      return false;
    }
    Event("scenario " + options_.scenario + ": " + scenario_->what);
  }
  if (scenario_ != nullptr ? *scenario_->lie != '\0' : Chance(0.5)) {
    byzantine_ = Random().id;
    Event(byzantine_ + " is Byzantine during the faults" +
          (scenario_ != nullptr ? std::string(" (") + scenario_->lie + ")"
                                : ": it lies about heights and bodies, signs some votes twice and "
                                  "sometimes splits the others between two blocks"));
  }
  for (auto& member : members_) {
    if (!Boot(*member, true)) return false;
  }
  auto status = Call(*members_.front(), "status", json::object());
  if (!status.ok()) return false;
  // With membership changes the rule may switch to two-thirds: its larger quorum bounds it.
  const std::size_t n = members_.size();
  const std::size_t quorum = options_.membership_changes ? n * 2 / 3 + 1 : (*status)["quorum"].get<std::size_t>();
  history_loss_max_ = n - std::min(quorum, n) + (Chance(0.1) ? 1 : 0);
  // Two at once is what the wipe-two scenarios are for (the chain may then halt, by design).
  if (Variant(Scenario::kTwoAtOnce)) {
    history_loss_max_ = std::max<std::size_t>(history_loss_max_, 2);
  }
  return true;
}

bool World::Boot(Member& member, bool first) {
  auto store = node::Store::Open("/data", genesis_.hash, member.env.get());
  if (!store.ok() && member.env->CrashPointReached()) {
    // Killed (F7) while LevelDB recovered its log at start: the process is gone; start again.
    return KilledWhileStarting(member, "opening its store");
  }
  if (!store.ok()) {
    if (!member.corrupted) {
      Violation(member.id + " cannot open its store: " + store.error().ToString());
      return false;
    }
    Event(member.id + " cannot open its damaged store: " + store.error().ToString());
    OperatorMovesDataAside(member);
    return false;
  }
  if (first) {
    if (Status made = node::InitialiseMemberStore(store->get(), genesis_); !made.ok()) {
      Violation(member.id + " cannot initialise its store: " + made.ToString());
      return false;
    }
  }
  ++member.incarnation;
  member.up = true;
  NodeHost host;
  host.make_timer = [this, &member]() -> std::unique_ptr<node::detail::HostTimer> {
    return std::make_unique<SimTimer>(*this, member);
  };
  host.post = [this, &member](std::function<void()> fn) { AtMember(member, now_, std::move(fn)); };
  host.stop = [this, &member] { Stopped(member); };
  host.wall_ms = [this, &member] { return now_ + member.skew_ms; };
  host.steady_ms = [this] { return now_; };
  host.make_network = [this, &member](node::TransportConfig tc, node::PeerNetwork::FrameHandler on_frame,
                                      node::PeerNetwork::PeerHandler on_peer,
                                      node::PeerNetwork::LogHandler) -> std::unique_ptr<node::PeerNetwork> {
    auto net = std::make_unique<SimNetwork>(*this, member, std::move(on_frame), std::move(on_peer));
    net->SetPeers(tc.peers);
    member.net = net.get();
    return net;
  };
  host.serve_rpc = false;
  host.log = options_.trace ? &std::cout : &quiet_log_;
  node::NodeConfig config;
  config.home = member.home;
  config.member_id = member.id;
  config.log_level = options_.trace ? "info" : "error";
  for (const auto& other : members_) {
    if (other->id != member.id) config.peers.push_back({other->id, "127.0.0.1", 1});
  }
  member.node = std::make_unique<Node>(std::move(host), config, genesis_, member.keys.signing_key,
                                       std::move(store).value());
  Status started = member.node->Start(member.keys.tls_certificate.ToPem(), member.keys.tls_key.ToPem());
  if (!started.ok()) {
    member.node.reset();
    member.net = nullptr;
    member.up = false;
    ++member.incarnation;
    if (member.env->CrashPointReached()) return KilledWhileStarting(member, "starting");
    if (!member.corrupted) {
      Violation(member.id + " does not start: " + started.ToString());
      return false;
    }
    Event(member.id + " refuses its damaged store: " + started.ToString());
    OperatorMovesDataAside(member);
    return false;
  }
  for (auto& other : members_) {
    if (other.get() == &member || !other->up || other->net == nullptr) continue;
    other->net->Connection(member.id, true);
    member.net->Connection(other->id, true);
  }
  quiet_log_.str("");
  return true;
}

void World::Crash(Member& member, const std::string& why) {
  if (!member.up) return;
  Event(member.id + " " + why);
  member.node.reset();  // no Shutdown: the process is gone; LevelDB has what it wrote
  member.net = nullptr;
  member.up = false;
  ++member.incarnation;
  member.checked_height = 0;
  for (auto& other : members_) {
    if (other->up && other->net != nullptr) other->net->Connection(member.id, false);
  }
}

// host.stop: the node stopped after a fatal error, as colend-node exits non-zero. Expected only
// from a store the world damaged; then the operator moves data/ aside and starts it again
// (docs/operations.md, A corrupt store).
void World::Stopped(Member& member) {
  if (member.env->CrashPointReached()) return;  // the process dies at that write anyway
  if (member.disk_failing) {
    // What it must do on a failing disk (docs/operations.md, A failing disk).
    At(now_, [this, &member, incarnation = member.incarnation] {
      if (member.incarnation != incarnation) return;  // already replaced (HealAll, the check)
      Crash(member, "has stopped on its failing disk");
      ReplaceFailingDisk(member, /*judge=*/false);
    });
    return;
  }
  const bool expected = member.corrupted;
  if (!expected) Violation(member.id + " stopped on a fatal error");
  At(now_, [this, &member, expected] {
    Crash(member, "has stopped on a fatal error");
    if (expected) OperatorMovesDataAside(member);
  });
}

void World::OperatorMovesDataAside(Member& member) {
  At(now_ + 1'000, [this, &member] {
    if (member.up) return;
    member.env = std::make_unique<FaultEnv>();
    member.corrupted = false;
    if (Boot(member, false)) Event(member.id + " restarts with its damaged data/ moved aside");
  });
}

bool World::KilledWhileStarting(Member& member, const std::string& when) {
  member.env->LoseUnsyncedWrites();
  member.env->ClearCrashPoint();
  Event(member.id + " is killed at a write while " + when + " (F7)");
  RestartAt(member, now_ + 1'000, "restarts");
  return false;
}

void World::RestartAt(Member& member, std::int64_t at, const std::string& how) {
  At(at, [this, &member, how] {
    if (!member.up && Boot(member, false)) Event(member.id + " " + how);
  });
}

Result<json> World::Call(Member& member, const std::string& method, const json& params) {
  if (!member.up || member.node == nullptr) return MakeError("down", member.id + " is down");
  return member.node->Call(method, params);
}

void World::RunUntil(std::int64_t end) {
  while (!queue_.empty() && queue_.begin()->first.first <= end) {
    auto node = queue_.extract(queue_.begin());
    now_ = node.key().first;
    std::function<void()> fn = std::move(node.mapped());
    fn();
    KillAtCrashPoints();
  }
  now_ = end;
}

void World::HealAll(const std::string& why) {
  faults_on_ = false;
  loss_ = 0;
  holding_.clear();
  cut_.clear();
  clock_fault_until_ = 0;
  Event(why);
  for (auto& member : members_) {
    ReplaceFailingDisk(*member, /*judge=*/false);
    member->env->ClearCrashPoint();
    member->paused_until = 0;
    member->skew_ms = member->base_skew_ms;
    if (!member->up) Boot(*member, false);
  }
}

// After every healing: some member of the epoch in force must commit a block within
// kLivenessMs (the load keeps transactions pending), unless fewer than a quorum may sign (a
// halt by design, docs/consensus.md §10.6) or a majority-mode fork split the members.
void World::CheckLiveness(std::uint64_t height_at_heal, std::int64_t healed_at) {
  if (TopHeight() > height_at_heal || forked_) return;
  std::string why;
  if (HaltedByDesign(&why)) {
    Event("no block since the healing at t=" + std::to_string((healed_at - kStartMs) / 1000) + "s: " + why);
    return;
  }
  Violation("liveness: every fault healed at t=" + std::to_string(healed_at - kStartMs) +
            "ms, transactions were pending, and no block committed in " +
            std::to_string(kLivenessMs) + " ms (height " + std::to_string(height_at_heal) + ")");
}

std::uint64_t World::TopHeight() {
  std::uint64_t top = 0;
  for (auto& member : members_) {
    auto status = Call(*member, "status", json::object());
    if (status.ok()) top = std::max(top, (*status)["height"].get<std::uint64_t>());
  }
  return top;
}

void World::Run() {
  // Fault windows of kFaultWindowMs, each followed by kHealPeriodMs in which everything has
  // healed and liveness is judged; the last is followed by the quiet phase (heal_ms).
  const std::int64_t windows = std::max<std::int64_t>(1, options_.fault_ms / kFaultWindowMs);
  const std::int64_t fault_end = kStartMs + windows * (kFaultWindowMs + kHealPeriodMs) - kHealPeriodMs;
  fault_end_ = fault_end;
  const std::int64_t end = fault_end + options_.heal_ms;
  // The load: a transaction every 20-300 ms to a random member, until the last 10 s.
  for (std::int64_t t = kStartMs + 500; t < end - 10'000; t += Uniform(20, 300)) {
    At(t, [this] { Submit(); });
  }
  for (std::int64_t w = 0; w < windows; ++w) {
    const std::int64_t from = kStartMs + w * (kFaultWindowMs + kHealPeriodMs);
    const std::int64_t healed = from + kFaultWindowMs;
    if (w > 0) At(from, [this] { faults_on_ = true; });
    for (std::int64_t t = from + 2'000; t < healed; t += Uniform(1'000, 4'000)) {
      At(t, [this] { InjectFault(); });
    }
    if (options_.membership_changes && (Variant(Scenario::kRuleSwitch) || Chance(0.5))) {
      At(from + Uniform(0, kFaultWindowMs), [this] { ProposeMembershipChange(); });
    }
    if (healed == fault_end) {
      At(healed, [this] { HealAll("faults end; every member restarts and the network heals"); });
    } else {
      At(healed, [this, healed] {
        HealAll("every fault heals; a block must commit within " + std::to_string(kLivenessMs / 1000) + " s");
        const std::uint64_t height = TopHeight();
        At(healed + kLivenessMs, [this, height, healed] { CheckLiveness(height, healed); });
      });
    }
  }
  for (std::int64_t t = kStartMs + kCheckEveryMs; t <= end; t += kCheckEveryMs) {
    At(t, [this] { Check(); });
  }
  RunUntil(end);
  Check();
  FinalChecks();
}

}  // namespace world

std::string SimResult::Summary() const {
  std::ostringstream out;
  out << "height " << height << ", " << faults << " faults, " << txs_acknowledged << "/"
      << txs_submitted << " transactions committed, equivocations " << equivocations_injected
      << " injected / " << evidence_committed << " committed as evidence, " << lies << " lies, "
      << forks_with_evidence << " forks with evidence, " << messages << " messages, "
      << violations.size() << " violations";
  return out.str();
}

SimResult RunSimulation(const SimOptions& options) {
  SimResult result;
  world::World world(options, &result);
  if (world.Setup()) world.Run();
  return result;
}

}  // namespace colend::sim
