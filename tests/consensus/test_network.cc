// The deterministic test network; see test_network.h.
#include "test_network.h"

#include <algorithm>
#include <cassert>
#include <deque>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "crypto/hash.h"

namespace colend::consensus::testing {
namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

std::uint64_t MessageHeight(const proto::ConsensusMessage& message) {
  return message.has_proposal() ? message.proposal().height() : message.vote().height();
}

Hash256 TxRoot(const proto::Block& block) {
  std::string all;
  for (const std::string& tx : block.txs()) all += crypto::ToHex(crypto::Sha256(tx));
  return crypto::Sha256(all);
}

}  // namespace

const crypto::PrivateKey& TestKey(std::size_t index) {
  static std::deque<crypto::PrivateKey> keys;  // deque: references stay valid as it grows
  while (keys.size() <= index) {
    auto key = crypto::PrivateKey::Generate(crypto::Suite::kStd);
    assert(key.ok());
    keys.push_back(*key);
  }
  return keys[index];
}

void SignLog::Record(const std::string& member, std::string_view text) {
  // The slot is every line but the chosen value (block hash, and valid round of a proposal).
  std::string slot, value;
  for (std::string_view line : Lines(text)) {
    const bool is_value = line.starts_with("block-hash:") || line.starts_with("valid-round:");
    (is_value ? value : slot).append(line).push_back('\n');
  }
  ++counts_[member];
  auto [it, inserted] = slots_.emplace(std::pair(member, slot), value);
  if (!inserted && it->second != value) {
    conflicts_.push_back(member + " signed both\n" + slot + it->second + "and\n" + value);
  }
}

std::size_t SignLog::SignedBy(const std::string& member) const {
  auto it = counts_.find(member);
  return it == counts_.end() ? 0 : it->second;
}

std::string KeySigner::Sign(std::string_view message) {
  log_->Record(member_, message);
  auto signature = key_->Sign(message);
  return signature.ok() ? *signature : std::string();
}

proto::Block GenesisBlock() {
  BlockHeader header;
  header.chain_id = std::string(kChainId);
  header.proposer = "genesis";
  header.timestamp_ms = 1'000;
  proto::Block block;
  block.set_header(header.ToText());
  return block;
}

proto::Block FakeApp::ProposeBlock(std::uint64_t height, std::int64_t now_ms) {
  assert(height == ledger_->next_height());
  const proto::Block& parent = ledger_->blocks.back();
  const auto parent_header = BlockHeader::ParseText(parent.header());
  assert(parent_header.ok());
  proto::Block block;
  block.add_txs("tx by " + self_id_ + " at height " + std::to_string(height) + " time " +
                std::to_string(now_ms));
  BlockHeader header;
  header.chain_id = std::string(kChainId);
  header.height = height;
  header.prev_block_hash = BlockHash(parent.header());
  header.timestamp_ms = std::max(now_ms, parent_header->timestamp_ms + 1);
  header.proposer = self_id_;
  header.tx_count = static_cast<std::uint64_t>(block.txs_size());
  header.tx_root = TxRoot(block);
  header.state_root = crypto::Sha256("state " + std::to_string(height));
  header.ledger_size = height;
  block.set_header(header.ToText());
  return block;
}

Status FakeApp::CheckBody(const proto::Block& block) {
  auto header = BlockHeader::ParseText(block.header());
  if (!header.ok()) return header.error();
  if (header->tx_root != TxRoot(block)) return MakeError("body-mismatch", "tx root");
  return Status::Ok();
}

Status FakeApp::ValidateBlock(std::uint64_t height, const proto::Block& block, std::int64_t now_ms,
                              bool check_timeliness) {
  ++validations;
  auto header = BlockHeader::ParseText(block.header());
  if (!header.ok()) return header.error();
  auto bad = [](const std::string& what) { return MakeError("invalid-block", what); };
  if (height != ledger_->next_height() || header->height != height) return bad("wrong height");
  const proto::Block& parent = ledger_->blocks.back();
  if (header->prev_block_hash != BlockHash(parent.header())) return bad("wrong parent");
  if (header->timestamp_ms <= BlockHeader::ParseText(parent.header())->timestamp_ms) {
    return bad("time does not increase");
  }
  if (header->tx_root != TxRoot(block) ||
      header->tx_count != static_cast<std::uint64_t>(block.txs_size())) {
    return bad("wrong transactions");
  }
  if (check_timeliness && std::abs(header->timestamp_ms - now_ms) > kClockSkewMaxMs) {
    return bad("timestamp outside the clock-skew bound");
  }
  return Status::Ok();
}

Network::Network(NetworkOptions options)
    : options_(options),
      validators_([&] {
        std::vector<Member> members;
        for (std::size_t i = 0; i < options.members; ++i) {
          members.push_back({"member-" + std::to_string(i), TestKey(i).Public()});
        }
        return ValidatorSet(std::string(kChainId), 0, std::move(members), options.rule);
      }()),
      rng_(options.seed) {
  for (const Member& m : validators_.members()) ids_.push_back(m.id);
  for (std::size_t j = 0; j < options.observers; ++j)
    ids_.push_back("observer-" + std::to_string(j));
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    Node& node = nodes_[ids_[i]];
    node.id = ids_[i];
    node.ledger.blocks.push_back(GenesisBlock());
    node.app = std::make_unique<FakeApp>(node.id, &node.ledger);
    node.signer = std::make_unique<KeySigner>(node.id, &TestKey(i), &sign_log_);
  }
}

std::unique_ptr<Replica> Network::MakeReplica(Node& node) {
  return std::make_unique<Replica>(validators_, node.id, options_.timeouts, node.app.get(),
                                   node.signer.get());
}

void Network::StartAll() {
  for (const std::string& id : ids_) {
    Node& node = nodes_.at(id);
    if (!node.running) continue;  // crashed before the start: Restart brings it up
    node.replica = MakeReplica(node);
    Handle(node, node.replica->Start(node.ledger.next_height(), now_));
  }
}

void Network::Crash(const std::string& id) { nodes_.at(id).running = false; }

void Network::Restart(const std::string& id) {
  Node& node = nodes_.at(id);
  node.running = true;
  node.replica = MakeReplica(node);
  const Status restored = node.replica->Restore(node.persisted);
  if (!restored.ok()) violations_.push_back(id + ": restore failed: " + restored.ToString());
  Handle(node, node.replica->Start(node.ledger.next_height(), now_));
}

// Carries out Actions the way the node must: persist, then send, then store the decision.
void Network::Handle(Node& node, Actions actions) {
  if (actions.persist) node.persisted = *actions.persist;
  for (const std::string& line : actions.log) {
    if (on_log) on_log(node.id + " @" + std::to_string(now_) + " " + line);
  }
  equivocations_ += actions.equivocations.size();
  for (const Outbound& out : actions.messages) {
    if (out.to) {
      Enqueue(*out.to, out.message);
      continue;
    }
    for (const std::string& id : ids_) {
      if (id != node.id) Enqueue(id, out.message);
    }
  }
  if (actions.decision) CommitDecision(node, std::move(*actions.decision));
}

void Network::Enqueue(const std::string& to, const proto::ConsensusMessage& message) {
  std::uniform_int_distribution<int> per_mille(0, 999);
  std::uniform_int_distribution<std::int64_t> latency(options_.latency_min_ms,
                                                      options_.latency_max_ms);
  if (options_.drop_per_mille > 0 && per_mille(rng_) < options_.drop_per_mille) return;
  const int copies =
      options_.duplicate_per_mille > 0 && per_mille(rng_) < options_.duplicate_per_mille ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    queue_.emplace(std::pair(now_ + latency(rng_), sent_++), Envelope{to, message});
  }
}

// Checks the certificate and agreement, stores the block, moves the replica to the next height.
void Network::CommitDecision(Node& node, Decision decision) {
  const std::uint64_t height = node.ledger.next_height();
  if (decision.certificate.height() != height) {
    violations_.push_back(node.id + ": decision for height " +
                          std::to_string(decision.certificate.height()) + " while at " +
                          std::to_string(height));
  }
  const Hash256 hash = BlockHash(decision.block.header());
  const Status cert = VerifyCommitCertificate(validators_, height, hash, decision.certificate);
  if (!cert.ok())
    violations_.push_back(node.id + " height " + std::to_string(height) +
                          ": bad certificate: " + cert.ToString());
  const Status valid = node.app->ValidateBlock(height, decision.block, now_, false);
  if (!valid.ok())
    violations_.push_back(node.id + ": committed an invalid block: " + valid.ToString());
  auto [first, inserted] = committed_.emplace(height, decision);
  if (!inserted && first->second.block.header() != decision.block.header()) {
    violations_.push_back("agreement broken at height " + std::to_string(height) + ": " + node.id +
                          " committed a different block");
  }
  node.ledger.blocks.push_back(std::move(decision.block));
  // Asynchronous like a real store write; it also keeps a one-member chain from deciding height
  // after height inside a single call.
  queue_.emplace(std::pair(now_ + options_.store_ms, sent_++),
                 Envelope{node.id, proto::ConsensusMessage(), /*advance=*/true});
}

// The node's catch-up: replay committed blocks (certificate checked) the replica has not seen.
void Network::CatchUp(Node& node) {
  const std::uint64_t before = node.ledger.next_height();
  for (auto it = committed_.find(node.ledger.next_height()); it != committed_.end();
       it = committed_.find(node.ledger.next_height())) {
    const Decision& d = it->second;
    const Status cert =
        VerifyCommitCertificate(validators_, it->first, BlockHash(d.block.header()), d.certificate);
    if (!cert.ok()) {
      violations_.push_back(node.id + ": sync got a bad certificate: " + cert.ToString());
      return;
    }
    node.ledger.blocks.push_back(d.block);
  }
  if (node.ledger.next_height() != before || node.replica->height() < node.ledger.next_height()) {
    Handle(node, node.replica->AdvanceTo(node.ledger.next_height(), now_));
  }
}

void Network::Deliver(Envelope envelope) {
  Node& node = nodes_.at(envelope.to);
  if (!node.running) return;
  if (envelope.advance) {
    if (node.replica->height() < node.ledger.next_height()) {
      Handle(node, node.replica->AdvanceTo(node.ledger.next_height(), now_));
    }
    return;
  }
  ++delivered_;
  if (MessageHeight(envelope.message) > node.replica->height()) CatchUp(node);
  Handle(node, node.replica->OnMessage(envelope.message, now_));
}

// One event: the next delivery or the next due timer, whichever is earlier (delivery first on a
// tie). False if nothing is due before until_ms.
bool Network::Step(std::int64_t until_ms) {
  const std::int64_t next_message = queue_.empty() ? kNever : queue_.begin()->first.first;
  std::int64_t next_tick = kNever;
  for (const std::string& id : ids_) {
    const Node& node = nodes_.at(id);
    if (node.running) next_tick = std::min(next_tick, node.replica->next_deadline_ms());
  }
  const std::int64_t next = std::min(next_message, next_tick);
  if (next > until_ms) return false;
  now_ = std::max(now_, next);
  if (next_message <= next_tick) {
    Envelope envelope = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    Deliver(std::move(envelope));
    return true;
  }
  for (const std::string& id : ids_) {
    Node& node = nodes_.at(id);
    if (node.running && node.replica->next_deadline_ms() <= now_) {
      Handle(node, node.replica->OnTick(now_));
    }
  }
  return true;
}

bool Network::RunUntilHeight(std::uint64_t height, std::int64_t duration_ms) {
  const std::int64_t until = now_ + duration_ms;
  while (MinRunningCommittedHeight() < height) {
    if (!Step(until)) return false;
  }
  return true;
}

void Network::RunFor(std::int64_t duration_ms) {
  const std::int64_t until = now_ + duration_ms;
  while (Step(until)) {
  }
  now_ = std::max(now_, until);
}

std::uint64_t Network::CommittedHeight(const std::string& id) const {
  return nodes_.at(id).ledger.next_height() - 1;
}

std::uint64_t Network::MinRunningCommittedHeight() const {
  std::uint64_t lowest = std::numeric_limits<std::uint64_t>::max();
  for (const auto& [id, node] : nodes_) {
    if (node.running) lowest = std::min(lowest, node.ledger.next_height() - 1);
  }
  return lowest;
}

const proto::CommitCertificate& Network::Certificate(std::uint64_t height) const {
  return committed_.at(height).certificate;
}

}  // namespace colend::consensus::testing
