// colend-sim --real-node: whole networks of the real node logic under faults (sim.h,
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
// Faults (each healing after 1-10 s, during the fault phase): crashes and restarts; wiped data
// directories (the lease survives, F11); power losses (unsynced writes lost); damaged stores
// (a flipped byte; the operator moves data/ aside once the node refuses it); pauses; a member
// cut off; lossy networks; frames held 1-30 s; duplicated frames.
// Checks: every height has one block at every member (agreement); no member signs two different
// votes or proposals for one (height, round, kind), seen on the wire; block times within the
// clock-skew bound of true time; no fatal stop and no refused read unless its store was damaged;
// after the quiet phase every member is at one height and every transaction admitted in it has
// committed, unless fewer than a quorum may sign (a halt by design, docs/consensus.md §10).
//
// Replays: the fault schedule and the load follow the seed, but ECDSA signatures are randomised,
// so block sizes, and with them the byte a damaged-store fault flips, vary between runs.
#include "consensus/consensus.pb.h"
#include "fault_env.h"
#include "genesis/builder.h"
#include "genesis/genesis.h"
#include "node/ledger.h"
#include "node/node_impl.h"
#include "sim.h"

namespace colend::sim {
namespace {

using json = nlohmann::json;
using node::detail::Node;
using node::detail::NodeHost;

// 2026-09-21 10:00 in Asia/Shanghai: no business day ends during a run.
constexpr std::int64_t kStartMs = 1'789'956'000'000;
constexpr std::int64_t kSkewMaxMs = 2'000;        // each member's clock is off by at most this
constexpr std::int64_t kBlockTimeSlackMs = 5'000; // a block's time never runs ahead of true time by more
constexpr std::int64_t kCheckEveryMs = 500;       // agreement and block-time checks

class World;
class SimNetwork;

struct Member {
  explicit Member(genesis::BuiltMember built) : keys(std::move(built)) {}
  std::size_t index = 0;
  std::string id;
  genesis::BuiltMember keys;
  std::unique_ptr<FaultEnv> env;  // the data directory: survives a crash, not a wipe
  bool corrupted = false;         // a byte of its store was flipped since it last started clean
  std::string home;                   // the signing lease and documents (survive a wipe)
  std::unique_ptr<Node> node;
  SimNetwork* net = nullptr;
  std::uint64_t incarnation = 0;  // events of an earlier run of the process are dropped
  std::int64_t skew_ms = 0;
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
  void Event(const std::string& what) {
    result_->events.push_back("t=" + std::to_string((now_ - kStartMs) / 1000) + "s " + what);
  }
  std::int64_t Uniform(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  Member& Random() { return *members_[static_cast<std::size_t>(Uniform(0, static_cast<std::int64_t>(members_.size()) - 1))]; }
  void Stopped(Member& member);
  void OperatorMovesDataAside(Member& member);
  void ObserveSigned(const std::string& frame);
  void InjectFault();
  void Submit();
  void Check();
  void FinalChecks();
  Result<json> Call(Member& member, const std::string& method, const json& params);

  SimOptions options_;
  SimResult* result_;
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
  bool faults_on_ = true;
  std::map<std::uint64_t, std::string> chain_;  // height -> block hash, as first seen
  std::map<std::string, std::int64_t> acknowledged_;  // tx id -> when a member admitted it
  std::int64_t fault_end_ = 0;
  std::ostringstream quiet_log_;
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

  void Deliver(const std::string& from, const std::string& frame) { on_frame_(from, frame); }
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
      AtMember(member, member.paused_until, std::move(fn));
      return;
    }
    fn();
  });
}

void World::Transmit(const Member& from, const std::string& to, std::string frame) {
  ++result_->messages;
  ObserveSigned(frame);
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
    member->skew_ms = Uniform(-kSkewMaxMs, kSkewMaxMs);
    by_id_[member->id] = member.get();
    members_.push_back(std::move(member));
  }
  for (auto& member : members_) {
    if (!Boot(*member, true)) return false;
  }
  return true;
}

bool World::Boot(Member& member, bool first) {
  auto store = node::Store::Open("/data", genesis_.hash, member.env.get());
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

// Every vote and proposal on the wire, by (member, height, round, kind): a second one with other
// content is a double signature, whoever receives it.
void World::ObserveSigned(const std::string& frame) {
  node::proto::PeerMessage message;
  if (!message.ParseFromString(frame) || !message.has_consensus()) return;
  const auto& c = message.consensus();
  std::string member, content;
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  int kind = 0;
  if (c.has_vote()) {
    member = c.vote().member();
    height = c.vote().height();
    round = c.vote().round();
    kind = static_cast<int>(c.vote().phase());
    content = c.vote().block_hash();
  } else if (c.has_proposal()) {
    member = c.proposal().proposer();
    height = c.proposal().height();
    round = c.proposal().round();
    kind = -1;
    content = c.proposal().block().header() + "/" + std::to_string(c.proposal().valid_round());
  } else {
    return;
  }
  auto [it, inserted] = signed_.emplace(std::make_tuple(member, height, round, kind), content);
  if (!inserted && it->second != content) {
    Violation(member + " signed twice at height " + std::to_string(height) + " round " +
              std::to_string(round) + (kind < 0 ? " (proposal)" : " (vote phase " + std::to_string(kind) + ")"));
    it->second = content;
  }
}

Result<json> World::Call(Member& member, const std::string& method, const json& params) {
  if (!member.up || member.node == nullptr) return MakeError("down", member.id + " is down");
  return member.node->Call(method, params);
}

void World::InjectFault() {
  ++result_->faults;
  Member& member = Random();
  const std::int64_t heal = Uniform(1'000, 10'000);
  switch (Uniform(0, 7)) {
    case 0: {  // crash, restart later
      if (!member.up) break;
      Crash(member, "crashes for " + std::to_string(heal) + " ms");
      At(now_ + heal, [this, &member] {
        if (!member.up && Boot(member, false)) Event(member.id + " restarts");
      });
      break;
    }
    case 1: {  // the data directory is lost; the signing lease outside it survives (F11)
      if (!member.up) break;
      Crash(member, "crashes and loses its data directory");
      member.env = std::make_unique<FaultEnv>();
      At(now_ + heal, [this, &member] {
        if (!member.up && Boot(member, false)) Event(member.id + " restarts with an empty data directory");
      });
      break;
    }
    case 2: {  // a pause (a stalled process or VM)
      if (!member.up) break;
      member.paused_until = std::max(member.paused_until, now_ + heal);
      Event(member.id + " pauses for " + std::to_string(heal) + " ms");
      break;
    }
    case 3: {  // a partition: member alone, both ways
      Event(member.id + " is cut off for " + std::to_string(heal) + " ms");
      std::vector<std::pair<std::string, std::string>> links;
      for (auto& other : members_) {
        if (other->id == member.id) continue;
        links.push_back({member.id, other->id});
        links.push_back({other->id, member.id});
      }
      for (const auto& link : links) cut_.insert(link);
      At(now_ + heal, [this, links] {
        for (const auto& link : links) cut_.erase(link);
      });
      break;
    }
    case 4: {  // lossy network
      loss_ = 0.05 * static_cast<double>(Uniform(1, 6));
      Event("the network loses " + std::to_string(static_cast<int>(loss_ * 100)) + "% of frames");
      At(now_ + heal, [this] { loss_ = 0; });
      break;
    }
    case 6: {  // a power loss: the crash also loses what was written but not synced
      if (!member.up) break;
      Crash(member, "loses power for " + std::to_string(heal) + " ms");
      const std::uint64_t lost = member.env->LoseUnsyncedWrites();
      Event(member.id + "'s store lost " + std::to_string(lost) + " unsynced bytes");
      At(now_ + heal, [this, &member] {
        if (!member.up && Boot(member, false)) Event(member.id + " restarts after the power loss");
      });
      break;
    }
    case 7: {  // a damaged store: one byte of a file flipped while the node is down
      if (!member.up) break;
      Crash(member, "crashes");
      std::string what;
      if (member.env->Corrupt("/data", rng_, &what)) {
        member.corrupted = true;
        Event(member.id + "'s store is damaged: " + what);
      }
      At(now_ + heal, [this, &member] {
        if (!member.up && Boot(member, false)) Event(member.id + " restarts");
      });
      break;
    }
    default: {  // frames from this member are held 1-30 s
      holding_.insert(member.id);
      Event("frames from " + member.id + " are held 1-30 s for " + std::to_string(heal) + " ms");
      At(now_ + heal, [this, id = member.id] { holding_.erase(id); });
      break;
    }
  }
}

void World::Submit() {
  Member& member = Random();
  if (!member.up || member.paused_until > now_) return;
  contracts::TxBody body;
  body.chain_id = genesis_.chain_id;
  body.sender = member.id;
  body.nonce = ++member.nonce + (member.incarnation << 32);
  body.timestamp_ms = now_ + member.skew_ms;
  body.type = "evidence.anchor";
  body.fields["document-sha256"] =
      crypto::ToHex(crypto::Sha256("colend-sim " + std::to_string(options_.seed) + " " +
                                   std::to_string(result_->txs_submitted)));
  body.fields["document-bytes"] = std::to_string(1000 + result_->txs_submitted);
  auto tx = contracts::SignTx(body, member.keys.signing_key);
  if (!tx.ok()) {
    Violation("cannot sign: " + tx.error().ToString());
    return;
  }
  ++result_->txs_submitted;
  auto answer = Call(member, "submit", json{{"tx", crypto::ToHex(tx->Encode())}});
  if (answer.ok()) acknowledged_[crypto::ToHex(tx->id)] = now_;
}

void World::Check() {
  for (auto& member : members_) {
    if (!member->up) continue;
    auto status = Call(*member, "status", json::object());
    if (!status.ok()) continue;
    const std::uint64_t height = (*status)["height"].get<std::uint64_t>();
    for (std::uint64_t h = member->checked_height + 1; h <= height; ++h) {
      auto block = Call(*member, "block", json{{"height", h}});
      if (!block.ok()) {
        if (!member->corrupted) {
          Violation(member->id + " cannot read its block " + std::to_string(h) + ": " +
                    block.error().ToString());
          break;
        }
        // Refused, never served: what a damaged store must do. The operator moves it aside.
        Event(member->id + " refuses to serve its damaged block " + std::to_string(h) + ": " +
              block.error().code);
        Member& damaged = *member;
        At(now_, [this, &damaged] {
          Crash(damaged, "is stopped by its operator");
          OperatorMovesDataAside(damaged);
        });
        break;
      }
      const std::string hash = (*block)["hash"].get<std::string>();
      auto [it, inserted] = chain_.emplace(h, hash);
      if (!inserted && it->second != hash) {
        Violation("fork at height " + std::to_string(h) + ": " + member->id + " has " +
                  hash.substr(0, 16) + ", another member " + it->second.substr(0, 16));
      }
      const std::int64_t time = (*block)["timestamp"].get<std::int64_t>();
      if (inserted && time > now_ + kBlockTimeSlackMs) {
        Violation("block " + std::to_string(h) + " is dated " + std::to_string(time - now_) +
                  " ms ahead of true time");
      }
      member->checked_height = h;
    }
  }
}

void World::FinalChecks() {
  std::set<std::uint64_t> heights;
  for (auto& member : members_) {
    auto status = Call(*member, "status", json::object());
    if (!status.ok()) {
      Violation(member->id + " is not running at the end");
      continue;
    }
    heights.insert((*status)["height"].get<std::uint64_t>());
  }
  if (heights.size() != 1) {
    std::string list;
    for (auto& member : members_) list += " " + member->id + "@" + std::to_string(member->checked_height);
    Violation("no convergence after the quiet phase:" + list);
    return;
  }
  result_->height = *heights.begin();
  // Members whose signing history was lost sign nothing below their floor (docs/consensus.md
  // §10): when fewer than a quorum may sign the next height, the chain halts, safely, by design.
  std::size_t may_sign = 0, quorum = 0;
  for (auto& member : members_) {
    auto status = Call(*member, "status", json::object());
    quorum = (*status)["quorum"].get<std::size_t>();
    const json& consensus = (*status)["consensus"];
    if (!status->contains("recovery") && consensus["signing"].get<std::string>().rfind("no:", 0) != 0 &&
        consensus["sign_floor"].get<std::uint64_t>() <= result_->height + 1) {
      ++may_sign;
    }
  }
  if (may_sign < quorum) {
    Event("halted safely: " + std::to_string(may_sign) + " members may sign at height " +
          std::to_string(result_->height + 1) + ", fewer than the quorum of " +
          std::to_string(quorum) + " (the others' signing history was lost)");
    return;
  }
  Member& reader = *members_.front();
  std::size_t lost = 0;
  std::string first_lost;
  for (const auto& [id, admitted] : acknowledged_) {
    auto answer = Call(reader, "tx", json{{"id", id}});
    if (answer.ok() && answer->value("status", "") == "committed") {
      ++result_->txs_acknowledged;
    } else if (admitted >= fault_end_) {
      // Admitted while nothing failed: the network must commit it. (One admitted during the
      // faults may be lost with the mempool of a member that crashed before gossiping it.)
      if (lost++ == 0) first_lost = id;
    }
  }
  if (lost > 0) {
    Violation(std::to_string(lost) + " transactions admitted in the quiet phase never committed (" +
              first_lost.substr(0, 16) + "...)");
  }
}

void World::RunUntil(std::int64_t end) {
  while (!queue_.empty() && queue_.begin()->first.first <= end) {
    auto node = queue_.extract(queue_.begin());
    now_ = node.key().first;
    std::function<void()> fn = std::move(node.mapped());
    fn();
  }
  now_ = end;
}

void World::Run() {
  const std::int64_t fault_end = kStartMs + options_.fault_ms;
  fault_end_ = fault_end;
  const std::int64_t end = fault_end + options_.heal_ms;
  // The load: a transaction every 20-300 ms to a random member, until the last 10 s.
  for (std::int64_t t = kStartMs + 500; t < end - 10'000; t += Uniform(20, 300)) {
    At(t, [this] { Submit(); });
  }
  for (std::int64_t t = kStartMs + 2'000; t < fault_end; t += Uniform(1'000, 4'000)) {
    At(t, [this] { InjectFault(); });
  }
  At(fault_end, [this] {
    faults_on_ = false;
    loss_ = 0;
    holding_.clear();
    cut_.clear();
    Event("faults end; every member restarts and the network heals");
    for (auto& member : members_) {
      member->paused_until = 0;
      if (!member->up) Boot(*member, false);
    }
  });
  for (std::int64_t t = kStartMs + kCheckEveryMs; t <= end; t += kCheckEveryMs) {
    At(t, [this] { Check(); });
  }
  RunUntil(end);
  Check();
  FinalChecks();
}

}  // namespace

SimResult RunNodeSimulation(const SimOptions& options) {
  SimResult result;
  World world(options, &result);
  if (world.Setup()) world.Run();
  return result;
}

}  // namespace colend::sim
