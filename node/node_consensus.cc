// The node as the driver of its replica (docs/consensus.md §3-§8): proposing, carrying out the
// replica's actions (persist before sending, sign, broadcast, arm its timer), starting heights,
// what follows a commit, and consensus messages from peers. The host (NodeHost) supplies clocks,
// timers and the network.
#include <algorithm>

#include "contracts/contract.h"
#include "node/node_impl.h"
#include "node/transport.h"

namespace colend::node::detail {

consensus::proto::Block Node::ProposeBlock(std::uint64_t height, std::int64_t now_ms) {
  // The timestamp must exceed the parent's even if our clock is behind it by a little.
  std::int64_t timestamp = std::max(now_ms, ledger_.last_header().timestamp_ms + 1);
  std::vector<Ledger::Dropped> dropped;
  // Building executes the transactions: at most a quarter of the propose timeout of it, so the
  // proposal reaches the others well before they give up on it (a proposer's own choice; the
  // others validate whatever it holds).
  const std::int64_t deadline = SteadyMs() + genesis_.consensus.timeout_propose_ms / kBuildBudgetDivisor;
  consensus::proto::Block block;
  const StopWatch watch;
  try {
    block = ledger_.BuildBlock(height, timestamp, config_.member_id,
                               mempool_.Oldest(genesis_.consensus.block_txs_max, kBlockBytesMax),
                               &dropped, [this, deadline] { return SteadyMs() >= deadline; });
  } catch (const contracts::StateStorageError& e) {
    // The store is damaged: the node has stopped (Fatal, from the store); nothing is proposed.
    if (!fatal_) Fatal(e.what());
    return {};
  }
  metrics_.BlockStepTook(BlockStep::kBuild, watch.Seconds());
  for (const auto& d : dropped) {
    Log("dropping transaction " + crypto::ToHex(d.tx_id) + ": " + d.error.ToString());
    mempool_.Remove(d.tx_id);
  }
  Log("proposing block " + std::to_string(height) + " with " + std::to_string(block.txs_size()) +
      " transactions");
  return block;
}

void Node::Handle(consensus::Actions actions) {
  if (fatal_) return;
  for (const auto& line : actions.log) {
    LogAt(LogLevel::kDebug, "consensus: " + line,
          {{"height", std::to_string(active_height_)}});
  }
  if (actions.persist) {
    if (!CoverWithLease(*actions.persist)) return;
    Status saved = store_->SaveReplicaState(*actions.persist);
    if (!saved.ok()) {
      // Without durable vote state we could sign twice after a crash: stop rather than speak.
      return Fatal(saved.ToString());
    }
  }
  for (auto& out : actions.messages) {
    proto::PeerMessage message;
    *message.mutable_consensus() = std::move(out.message);
    if (out.to) {
      SendTo(*out.to, message);
    } else {
      BroadcastMessage(message);
    }
  }
  if (!actions.equivocations.empty()) {
    metrics_.EquivocationsSeen(actions.equivocations.size());
    ReportEquivocations(actions.equivocations);
  }
  if (actions.decision) {
    const auto& d = *actions.decision;
    const StopWatch watch;
    Status committed = ledger_.CommitBlock(d.block, d.certificate);
    if (!committed.ok()) return Fatal("cannot commit decided block: " + committed.ToString());
    metrics_.BlockStepTook(BlockStep::kCommit, watch.Seconds());
    decided_round_ = d.certificate.round();
    AfterCommit(d.block,
                "committed in round " + std::to_string(d.certificate.round()) + " with " +
                    std::to_string(d.certificate.endorsements_size()) + " endorsements",
                /*decided=*/true);
  }
  ArmReplicaTimer();
}

void Node::ArmReplicaTimer() {
  if (active_height_ == 0 || !replica_) return;
  std::int64_t delay = std::max<std::int64_t>(0, replica_->next_deadline_ms() - SteadyMs());
  replica_timer_->Arm(delay, [this] {
    if (active_height_ == 0 || !replica_) return;
    Handle(replica_->OnTick(ClockNow()));
  });
}

void Node::StartHeight() {
  start_timer_->Cancel();
  start_scheduled_ = false;
  if (recovering_) return;  // sync only until the signing floor is known
  if (!replica_) return;     // not a member of this epoch: sync only
  std::uint64_t next = ledger_.height() + 1;
  if (active_height_ == next) return;
  active_height_ = next;
  height_started_mono_ms_ = SteadyMs();
  if (!replica_started_) {
    replica_started_ = true;
    Handle(replica_->Start(next, ClockNow()));
  } else {
    Handle(replica_->AdvanceTo(next, ClockNow()));
  }
  std::deque<EarlyMessage> early;
  early.swap(early_messages_);
  for (auto& kept : early) {
    const consensus::proto::ConsensusMessage& message = kept.message;
    const std::uint64_t height =
        message.has_proposal() ? message.proposal().height() : message.vote().height();
    if (replica_ && height == next && active_height_ == next && ledger_.height() + 1 == next) {
      Handle(replica_->OnMessage(message, ClockNow()));
    } else if (height > ledger_.height() + 1) {
      early_messages_.push_back(std::move(kept));  // still ahead (kept in arrival order)
    }
  }
}

// Blocks are made only when there is something to commit; the short delay lets transactions
// that arrive together share a block.
void Node::ScheduleStartHeight() { ScheduleStartHeight(genesis_.consensus.block_interval_ms); }

void Node::ScheduleStartHeight(std::int64_t delay_ms) {
  if (active_height_ == ledger_.height() + 1 || start_scheduled_ || mempool_.size() == 0) return;
  start_scheduled_ = true;
  start_timer_->Arm(delay_ms, [this] {
    start_scheduled_ = false;
    StartHeight();
  });
}

void Node::AfterCommit(const consensus::proto::Block& block, const std::string& how,
                       bool decided) {
  CountCommitted(block);
  std::vector<crypto::Hash256> committed;
  committed.reserve(block.txs_size());
  for (const contracts::Tx& tx : ledger_.last_txs()) {
    mempool_.Remove(tx.id);
    committed.push_back(tx.id);
    if (tx.body.type == "consensus.evidence") {
      ResubmitPendingEvidence();  // drops what is now committed
    }
  }
  NotifyWaiters(committed);  // wait_tx calls waiting for one of these answer now
  LogAt(LogLevel::kInfo,
        "block " + std::to_string(ledger_.height()) + " " + crypto::ToHex(ledger_.last_hash()) +
            " txs " + std::to_string(block.txs_size()) + " " + how,
        {{"height", std::to_string(ledger_.height())},
         {"hash", crypto::ToHex(ledger_.last_hash())},
         {"txs", std::to_string(block.txs_size())}});
  WantDocuments();
  if (ledger_.membership().epoch != epoch_) {
    const genesis::Membership& m = ledger_.membership();
    epoch_ = m.epoch;
    std::string ids;
    for (const auto& member : m.members) ids += (ids.empty() ? "" : ",") + member.id;
    Log("membership epoch " + std::to_string(m.epoch) + " begins at height " +
        std::to_string(m.start_height) + ": " + std::to_string(m.members.size()) + " members (" +
        ids + "), quorum " + std::to_string(ledger_.validators().quorum()) + " (" +
        std::string(consensus::QuorumRuleName(m.quorum)) + "), sha256 " + crypto::ToHex(m.sha256) +
        (m.Find(config_.member_id) ? "" : "; this node is not a member: syncing only"));
    Status applied = ApplyMembership();
    if (!applied.ok()) {
      return Fatal("cannot take up membership epoch " + std::to_string(m.epoch) + ": " +
                   applied.ToString());
    }
  }
  active_height_ = 0;
  replica_timer_->Cancel();
  VerifyPeerClaims();
  if (recovering_) TryRecoverSigning();
  AnnounceStatus();
  // Transactions still pending after a block this replica decided waited through that height:
  // the next one starts at once (from the io loop, not inside Handle), so a loaded network does
  // not idle a batching window per block. The window is for a pool that was empty, and for
  // blocks taken from a sync (catching up, the height is started once, later).
  if (decided) {
    ScheduleStartHeight(0);
  } else {
    ScheduleStartHeight();
  }
}

void Node::KeepEarly(const std::string& peer, const consensus::proto::ConsensusMessage& message) {
  const std::size_t bytes = message.ByteSizeLong();
  if (bytes > kEarlyBytesPerPeerMax) return;  // larger than any proposal a member may make
  std::size_t count = 0, held = 0;
  for (const EarlyMessage& e : early_messages_) {
    if (e.peer == peer) ++count, held += e.bytes;
  }
  // The peer's oldest go first, then (all peers within theirs) the oldest of all.
  for (auto it = early_messages_.begin();
       it != early_messages_.end() &&
       (count >= kEarlyMessagesPerPeerMax || held + bytes > kEarlyBytesPerPeerMax);) {
    if (it->peer != peer) {
      ++it;
      continue;
    }
    --count;
    held -= it->bytes;
    it = early_messages_.erase(it);
  }
  if (early_messages_.size() >= kEarlyMessagesMax) early_messages_.pop_front();
  early_messages_.push_back({peer, bytes, message});
}

std::map<std::string, std::pair<std::size_t, std::size_t>> Node::EarlyMessagesByPeer() const {
  std::map<std::string, std::pair<std::size_t, std::size_t>> by_peer;
  for (const EarlyMessage& e : early_messages_) {
    ++by_peer[e.peer].first;
    by_peer[e.peer].second += e.bytes;
  }
  return by_peer;
}

void Node::OnConsensus(const std::string& peer,
                       const consensus::proto::ConsensusMessage& message) {
  std::uint64_t height = message.has_proposal() ? message.proposal().height()
                                                : message.vote().height();
  if (height <= ledger_.height()) return;  // decided already; our status tells the peer
  if (height > ledger_.height() + 1) {
    if (height == ledger_.height() + 2 && !recovering_) {
      KeepEarly(peer, message);
    }
    // A hint only (never certified, never counted by a recovery): the peer saw height-1 decided.
    peers_.Claim(peer, height - 1, std::nullopt, false, SteadyMs());
    if (SyncIdle() && peers_.ClaimOf(peer) > ledger_.height()) RequestBlocks(peer);
    return;
  }
  if (recovering_ || !replica_) return;
  if (active_height_ != height) StartHeight();
  if (active_height_ != height || !replica_) return;
  Handle(replica_->OnMessage(message, ClockNow()));
}

}  // namespace colend::node::detail
