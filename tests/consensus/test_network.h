// A deterministic in-process network of consensus replicas for tests: real keys and signatures, a
// fake ledger application, a manual clock and a message queue ordered by (delivery time, send
// order). Faults come from a seeded std::mt19937 (test code only): message drop, duplication and
// reordering (random latency), node crash, and restart from the last persisted replica state.
// The harness plays the node's role: it persists before sending, verifies every commit
// certificate, checks agreement at every height, and syncs a lagging replica from certificates
// when it hears from a higher height.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/block.h"
#include "consensus/consensus.pb.h"
#include "consensus/replica.h"
#include "crypto/signature.h"

namespace colend::consensus::testing {

inline constexpr std::string_view kChainId = "colend-test";
inline constexpr std::int64_t kClockSkewMaxMs = 5000;  // the fake app's timeliness bound

// Process-wide cached P-256 keys (generation is the slow part of a test); index -> key.
const crypto::PrivateKey& TestKey(std::size_t index);

// Every text each member signs. Two different texts for one slot, (member, height, round,
// phase) for votes or (member, height, round) for proposals, are recorded as a conflict.
class SignLog {
 public:
  void Record(const std::string& member, std::string_view text);
  const std::vector<std::string>& conflicts() const { return conflicts_; }
  std::size_t SignedBy(const std::string& member) const;

 private:
  std::map<std::pair<std::string, std::string>, std::string> slots_;  // (member, slot) -> value
  std::map<std::string, std::size_t> counts_;
  std::vector<std::string> conflicts_;
};

// A Signer over a crypto::PrivateKey that writes every signed text to a SignLog first.
class KeySigner : public Signer {
 public:
  KeySigner(std::string member, const crypto::PrivateKey* key, SignLog* log)
      : member_(std::move(member)), key_(key), log_(log) {}
  std::string Sign(std::string_view message) override;

 private:
  std::string member_;
  const crypto::PrivateKey* key_;
  SignLog* log_;
};

// The committed chain of one node: blocks[h] is the block at height h, blocks[0] the genesis.
struct Ledger {
  std::vector<proto::Block> blocks;
  std::uint64_t next_height() const { return blocks.size(); }
};

proto::Block GenesisBlock();

// Blocks with a real BlockHeader (height, parent hash, proposer's timestamp) and one transaction
// naming proposer, height and time, so different proposers make different blocks.
class FakeApp : public Application {
 public:
  FakeApp(std::string self_id, const Ledger* ledger)
      : self_id_(std::move(self_id)), ledger_(ledger) {}
  proto::Block ProposeBlock(std::uint64_t height, std::int64_t now_ms) override;
  // Checks height, parent hash, strictly increasing time, tx root and (if asked) the time bound.
  Status ValidateBlock(std::uint64_t height, const proto::Block& block, std::int64_t now_ms,
                       bool check_timeliness) override;
  // The transaction root over the body, against the header's.
  Status CheckBody(const proto::Block& block) override;
  int validations = 0;

 private:
  std::string self_id_;
  const Ledger* ledger_;
};

struct NetworkOptions {
  std::size_t members = 5;
  QuorumRule rule = QuorumRule::kMajority;
  std::size_t observers = 0;  // non-member replicas that only watch
  ReplicaTimeouts timeouts{};
  std::uint32_t seed = 1;
  int drop_per_mille = 0;       // chance a message is lost
  int duplicate_per_mille = 0;  // chance a message is delivered twice
  std::int64_t latency_min_ms = 10;
  std::int64_t latency_max_ms = 10;  // above min: messages overtake each other
  std::int64_t store_ms = 1;         // from a decision to AdvanceTo (the node writing the block)
};

class Network {
 public:
  explicit Network(NetworkOptions options);

  void StartAll();
  // Runs until every running node has committed `height`, or `duration_ms` of simulated time
  // has passed. True if the height was reached.
  bool RunUntilHeight(std::uint64_t height, std::int64_t duration_ms);
  void RunFor(std::int64_t duration_ms);

  void Crash(const std::string& id);    // no more ticks or deliveries; persisted state kept
  void Restart(const std::string& id);  // a fresh Replica from the last persisted state

  const std::vector<std::string>& ids() const { return ids_; }  // members, then observers
  const std::string& MemberAt(std::size_t index) const { return validators_.members()[index].id; }
  const ValidatorSet& validators() const { return validators_; }
  std::uint64_t CommittedHeight(const std::string& id) const;  // highest height stored
  std::uint64_t MinRunningCommittedHeight() const;
  std::uint64_t HighestCommittedHeight() const { return committed_.size(); }
  const proto::CommitCertificate& Certificate(std::uint64_t height) const;
  std::int64_t now() const { return now_; }
  Replica& replica(const std::string& id) { return *nodes_.at(id).replica; }
  const Ledger& ledger(const std::string& id) const { return nodes_.at(id).ledger; }
  bool running(const std::string& id) const { return nodes_.at(id).running; }

  const SignLog& sign_log() const { return sign_log_; }
  // Agreement and certificate failures; empty in every correct run.
  const std::vector<std::string>& violations() const { return violations_; }
  std::size_t equivocations_reported() const { return equivocations_; }
  std::size_t messages_delivered() const { return delivered_; }
  std::function<void(const std::string&)> on_log;  // every replica log line, prefixed by id

 private:
  struct Node {
    std::string id;
    Ledger ledger;
    std::unique_ptr<FakeApp> app;
    std::unique_ptr<KeySigner> signer;
    std::unique_ptr<Replica> replica;
    std::string persisted;
    bool running = true;
  };
  struct Envelope {
    std::string to;
    proto::ConsensusMessage message;
    bool advance = false;  // not a message: the node has stored a block, call AdvanceTo
  };

  std::unique_ptr<Replica> MakeReplica(Node& node);
  void Handle(Node& node, Actions actions);
  void Enqueue(const std::string& to, const proto::ConsensusMessage& message);
  void CommitDecision(Node& node, Decision decision);
  void CatchUp(Node& node);
  bool Step(std::int64_t until_ms);
  void Deliver(Envelope envelope);

  NetworkOptions options_;
  ValidatorSet validators_;
  std::vector<std::string> ids_;
  std::map<std::string, Node> nodes_;
  std::map<std::uint64_t, Decision> committed_;  // first decision seen per height (1-based)
  std::map<std::pair<std::int64_t, std::uint64_t>, Envelope> queue_;
  std::uint64_t sent_ = 0;
  std::mt19937 rng_;
  std::int64_t now_ = 1'000'000;
  SignLog sign_log_;
  std::vector<std::string> violations_;
  std::size_t equivocations_ = 0;
  std::size_t delivered_ = 0;
};

}  // namespace colend::consensus::testing
