// A real node (detail::Node) on a host whose clock, timers and network a test drives, as
// colend-sim does without its faults: events run at simulated milliseconds; what the node
// broadcasts is recorded (gossip frames); a test delivers frames to it as from a peer (on_frame_).
// Member 0 of a 3-member consortium; its peers are members 1 and 2.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "genesis/builder.h"
#include "node/ledger.h"
#include "node/node_impl.h"

namespace colend::node::testing {

constexpr std::int64_t kStart = 1'789'956'000'000;  // a business day is not ending

// Events at simulated milliseconds, run in time order (then in the order they were added).
class Loop {
 public:
  std::int64_t now = kStart;
  void At(std::int64_t at, std::function<void()> fn) { events_.emplace(std::pair(at, seq_++), std::move(fn)); }
  void RunUntil(std::int64_t t) {
    while (!events_.empty() && events_.begin()->first.first <= t) {
      auto event = events_.extract(events_.begin());
      now = std::max(now, event.key().first);
      event.mapped()();
    }
    now = t;
  }

 private:
  std::map<std::pair<std::int64_t, std::uint64_t>, std::function<void()>> events_;
  std::uint64_t seq_ = 0;
};

class LoopTimer : public detail::HostTimer {
 public:
  explicit LoopTimer(Loop& loop) : loop_(loop) {}
  void Arm(std::int64_t delay_ms, std::function<void()> fire) override {
    const std::uint64_t armed = ++*generation_;
    loop_.At(loop_.now + std::max<std::int64_t>(0, delay_ms),
             [generation = generation_, armed, fire = std::move(fire)] {
               if (*generation == armed) fire();
             });
  }
  void Cancel() override { ++*generation_; }
  ~LoopTimer() override { ++*generation_; }

 private:
  Loop& loop_;
  std::shared_ptr<std::uint64_t> generation_ = std::make_shared<std::uint64_t>(0);
};

// Keeps what the node broadcasts: (when, how many transactions) for each gossip frame.
class GossipRecorder : public PeerNetwork {
 public:
  GossipRecorder(Loop& loop, std::vector<std::pair<std::int64_t, int>>* frames)
      : loop_(loop), frames_(frames) {}
  bool Start(std::string*) override { return true; }
  void Stop() override {}
  void Send(const std::string&, std::string) override {}
  void Broadcast(const std::string& frame) override {
    proto::PeerMessage message;
    ASSERT_TRUE(message.ParseFromString(frame));
    if (message.has_txs()) frames_->emplace_back(loop_.now, message.txs().txs_size());
  }
  void SetPeers(const std::vector<PeerAddress>& peers) override { peers_ = peers; }
  bool SetIdentity(const std::string&, const std::string&, std::string*) override { return true; }
  std::vector<std::string> ConnectedPeers() const override {
    std::vector<std::string> ids;
    for (const auto& p : peers_) ids.push_back(p.id);
    return ids;
  }
  std::uint16_t listen_port() const override { return 0; }

 private:
  Loop& loop_;
  std::vector<std::pair<std::int64_t, int>>* frames_;
  std::vector<PeerAddress> peers_;
};

class LoopNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    genesis::ConsortiumOptions options;
    options.members = 3;
    options.chain_id = "colend-loop-node-test";
    options.now_ms = kStart - 60'000;
    auto built = genesis::BuildConsortium(options);
    ASSERT_TRUE(built.ok()) << built.error().ToString();
    built_ = std::make_unique<genesis::BuiltConsortium>(std::move(built).value());
    auto parsed = genesis::ParseGenesis(built_->genesis_text);
    ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
    genesis_ = std::make_unique<genesis::Genesis>(std::move(parsed).value());
    dir_ = std::filesystem::temp_directory_path() / ("colend-loop-node-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "home");
    auto store = Store::Open((dir_ / "data").string(), genesis_->hash);
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    ASSERT_TRUE(InitialiseMemberStore(store->get(), *genesis_).ok());

    detail::NodeHost host;
    host.make_timer = [this]() -> std::unique_ptr<detail::HostTimer> {
      return std::make_unique<LoopTimer>(loop_);
    };
    host.post = [this](std::function<void()> fn) { loop_.At(loop_.now, std::move(fn)); };
    host.stop = [] {};
    host.wall_ms = [this] { return loop_.now; };
    host.steady_ms = [this] { return loop_.now; };
    host.make_network = [this](TransportConfig tc, PeerNetwork::FrameHandler on_frame,
                               PeerNetwork::PeerHandler,
                               PeerNetwork::LogHandler) -> std::unique_ptr<PeerNetwork> {
      on_frame_ = std::move(on_frame);
      auto net = std::make_unique<GossipRecorder>(loop_, &frames_);
      net->SetPeers(tc.peers);
      return net;
    };
    host.serve_rpc = false;
    host.log = &log_;
    NodeConfig config;
    config.home = (dir_ / "home").string();
    config.member_id = built_->members[0].id;
    config.log_level = log_level_;
    for (std::size_t i = 1; i < built_->members.size(); ++i) {
      config.peers.push_back({built_->members[i].id, "127.0.0.1", 1});
    }
    node_ = std::make_unique<detail::Node>(std::move(host), config, *genesis_,
                                           signing_key_ ? *signing_key_ : built_->members[0].signing_key,
                                           std::move(store).value());
    Status started = node_->Start(built_->members[0].tls_certificate.ToPem(),
                                  built_->members[0].tls_key.ToPem());
    ASSERT_TRUE(started.ok()) << started.ToString();
    loop_.RunUntil(kStart + 1'000);  // start-up announcements and timers
  }
  void TearDown() override {
    node_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A client submits an anchor to the node now; it is admitted (its signature checked on the
  // io thread: this host has no worker threads).
  void Submit() {
    contracts::TxBody body;
    body.chain_id = genesis_->chain_id;
    body.sender = built_->members[0].id;
    body.nonce = ++nonce_;
    body.timestamp_ms = loop_.now;
    body.type = "evidence.anchor";
    body.fields["document-sha256"] = crypto::ToHex(crypto::Sha256("gossip " + std::to_string(nonce_)));
    auto tx = contracts::SignTx(body, built_->members[0].signing_key);
    ASSERT_TRUE(tx.ok()) << tx.error().ToString();
    auto answer = node_->Call("submit", {{"tx", crypto::ToHex(tx->Encode())}});
    ASSERT_TRUE(answer.ok()) << answer.error().ToString();
  }

  std::string log_level_ = "error";  // a test may lower it in its constructor
  std::optional<crypto::PrivateKey> signing_key_;  // set: the node holds it instead of its own
  Loop loop_;
  std::vector<std::pair<std::int64_t, int>> frames_;  // (sent at, transactions)
  PeerNetwork::FrameHandler on_frame_;                 // delivers a frame as from a peer
  std::ostringstream log_;
  std::unique_ptr<genesis::BuiltConsortium> built_;
  std::unique_ptr<genesis::Genesis> genesis_;
  std::filesystem::path dir_;
  std::unique_ptr<detail::Node> node_;
  std::uint64_t nonce_ = 0;
};

}  // namespace colend::node::testing
