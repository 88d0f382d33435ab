// The simulated node behaviour (sim_internal.h): boot, replica actions, heights, commits,
// status and sync, recovery, the mempool and the simulated network.
#include "sim_internal.h"

namespace colend::sim::internal {

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
    SubmitAndGossip(node, tx);
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

void Simulation::SubmitAndGossip(Node& node, const std::string& tx) {
  AddToMempool(node, tx);
  auto gossip = std::make_shared<Msg>();
  gossip->kind = Msg::kTxs;
  gossip->txs.push_back(tx);
  Broadcast(node, gossip);
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

}  // namespace colend::sim::internal
